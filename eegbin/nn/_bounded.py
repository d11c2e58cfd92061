"""Bounded reading of untrusted weight files: the internal API of the ``eegbin.nn`` readers.

A weight file is untrusted input. Its headers claim shapes, sizes, offsets and
compressed lengths that nothing guarantees, so a reader that believes them can be
made to allocate gigabytes from a file of a few kilobytes (a stride-0 view, a
deflate bomb, an HDF5 dataset never written, a ``.npy`` header claiming
40000 x 40000). Every reader of :mod:`eegbin.nn.io` therefore goes through this
module, and a new one (ONNX, Keras 3) must too:

1. :func:`open_regular` opens the path. Only a regular file (or a symlink to one)
   is accepted; a directory, FIFO, socket or device is refused without blocking.
2. A :class:`ReadBudget` is created per read with the caller's ``max_bytes``.
   A reader first *plans*: it checks every header and calls
   :meth:`ReadBudget.claim` (or :meth:`ReadBudget.claim_array`) with the name and
   claimed size of everything it will decode -- tensors, decompressed archive
   members, copies, the objects of a pickle, a JSON header. Claims add up; past
   ``max_bytes`` a claim raises a ``ValueError`` naming the item and its size.
   Only then does it *read*, so a refused file has allocated nothing large.
3. Decoding uses the helpers here, which claim for their callers:
   :func:`open_zip_member` / :func:`read_zip_member` (stored or deflated members
   only, decompressed into a buffer of the declared size), :func:`read_npy` (the ``.npy`` header is checked
   against the bytes actually present; object arrays are refused),
   :func:`read_hdf5_datasets` (external links, external storage and virtual
   datasets are refused; dataset and chunk sizes are claimed),
   :func:`check_pickle` (before a restricted unpickler runs: memo indices, nesting
   depth and the number of objects are bounded), :func:`is_dense_view` (strided
   views that overlap, e.g. stride 0, are refused by the caller, never expanded).
4. The whole read runs inside :meth:`ReadBudget.reading`, which turns a
   ``MemoryError`` or ``RecursionError`` into the same ``ValueError`` (they never
   escape raw). Refusals are :class:`WeightFileError` (a ``ValueError``) made by
   :meth:`ReadBudget.error`, so a reader can let them through and wrap any other
   error of the library it calls; they leave the context as plain ``ValueError``.

What a read allocates is then at most ``max_bytes`` of decoded data plus a small
multiple of the file size (archive directories, small headers). The rules, the
default and how to add a reader are in ``docs/developer/weight_files.rst``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pickletools
import reprlib
import stat
import zipfile
import zlib

import numpy as np

__all__ = [
    "MAX_BYTES",
    "WeightFileError",
    "ReadBudget",
    "open_regular",
    "open_zip_member",
    "read_zip_member",
    "read_npy_header",
    "read_npy_data",
    "read_npy",
    "read_hdf5_datasets",
    "check_pickle",
    "is_dense_view",
    "loads_json",
    "format_bytes",
    "short_repr",
]

#: Default of ``max_bytes``: what one read may decode (1 GiB).
MAX_BYTES = 1 << 30

#: Deepest container nesting accepted in a pickle (a tensor state dict needs < 10).
MAX_PICKLE_DEPTH = 100

#: Bytes charged per object a pickle creates (an empty dict or list plus its reference
#: in CPython is 64-72 bytes, an empty set 216; strings and bytes are charged by length).
PICKLE_OBJECT_BYTES = 256

#: Bytes charged per byte of a JSON header (an empty list or object per 2-3 bytes of text).
JSON_BYTES_PER_CHAR = 32

_CHUNK = 1 << 20
_MAX_NPY_HEADER = 10_000  # numpy's own default limit for the header's literal_eval

_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60
_short.maxlevel = 3


def short_repr(obj):
    """``repr(obj)`` cut to a line, safe for any depth (for error messages)."""
    try:
        return _short.repr(obj)
    except (RecursionError, MemoryError):  # pragma: no cover - reprlib is depth-limited
        return f"<{type(obj).__name__}>"


def format_bytes(n):
    """``"6,400,000,000 bytes (5.96 GiB)"``."""
    n = int(n)
    if n >= 1 << 30:
        return f"{n:,} bytes ({n / (1 << 30):.2f} GiB)"
    if n >= 1 << 20:
        return f"{n:,} bytes ({n / (1 << 20):.1f} MiB)"
    return f"{n:,} bytes"


def _check_max_bytes(max_bytes):
    if max_bytes is None:
        return None
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)) or max_bytes < 0:
        raise ValueError(f"max_bytes must be a non-negative int (bytes) or None, got {max_bytes!r}")
    return int(max_bytes)


class WeightFileError(ValueError):
    """A weight file refused by a reader (a ``ValueError``; internal, so that readers can
    tell their own refusals from errors of the libraries they call)."""


class ReadBudget:
    """The allowance of one read of a weight file.

    Parameters
    ----------
    path : str or os.PathLike
        The file (named in every error).
    max_bytes : int or None, default=MAX_BYTES
        Most bytes the read may decode in total; None: no limit (trusted files only).

    Attributes
    ----------
    used : int
        Bytes claimed so far.
    """

    def __init__(self, path, max_bytes=MAX_BYTES):
        self.path = os.fspath(path) if isinstance(path, (str, bytes, os.PathLike)) else path
        self.max_bytes = _check_max_bytes(max_bytes)
        self.used = 0

    def error(self, msg):
        """A ``ValueError`` about the file: ``"weight file '<path>': <msg>"``."""
        return WeightFileError(f"weight file {self.path!r}: {msg}")

    def claim(self, what, nbytes):
        """Reserve ``nbytes`` for ``what`` (e.g. ``"tensor 'fc.weight'"``) or refuse the file."""
        nbytes = int(nbytes)
        if self.max_bytes is not None and self.used + nbytes > self.max_bytes:
            before = f" (after {format_bytes(self.used)} read before it)" if self.used else ""
            raise self.error(
                f"{what} claims {format_bytes(nbytes)}{before}, more than max_bytes = "
                f"{format_bytes(self.max_bytes)}; refused. If you trust this file, read it with "
                "eegbin.nn.load_weights(path, max_bytes=...) and pass the dict on"
            )
        self.used += nbytes
        return nbytes

    def array_nbytes(self, what, shape, dtype):
        """Bytes of an array of ``shape`` and ``dtype``, or a clear error for a bad shape."""
        dtype = np.dtype(dtype)
        if not isinstance(shape, tuple) or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in shape
        ):
            raise self.error(f"{what} has shape {short_repr(shape)}, expected a tuple of non-negative ints")
        if len(shape) > 32:
            raise self.error(f"{what} has {len(shape)} dimensions, expected at most 32")
        if any(s > np.iinfo(np.intp).max for s in shape):
            raise self.error(f"{what} has shape {short_repr(shape)}: a dimension exceeds the address space")
        return math.prod(int(s) for s in shape) * dtype.itemsize

    def claim_array(self, what, shape, dtype):
        """Claim the bytes of an array of ``shape`` and ``dtype`` (checked) for ``what``."""
        nbytes = self.array_nbytes(what, shape, dtype)
        shape_txt = " x ".join(str(int(s)) for s in shape) or "scalar"
        return self.claim(f"{what} ({shape_txt} {np.dtype(dtype).name})", nbytes)

    @contextlib.contextmanager
    def reading(self):
        """Context of the whole read: refusals leave it as plain ``ValueError`` (the
        caller sees no internal type); MemoryError and RecursionError become one too."""
        try:
            yield self
        except WeightFileError as exc:
            raise ValueError(str(exc)) from None
        except MemoryError:
            raise ValueError(str(self.error(
                f"not enough memory to read it ({format_bytes(self.used)} claimed so far, within "
                "max_bytes); refused"
            ))) from None
        except RecursionError:
            raise ValueError(str(self.error("its structure is nested too deeply to read; refused"))) from None


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def open_regular(path):
    """Open ``path`` for binary reading if it is a regular file, else refuse it.

    The file is opened once, non-blocking (a FIFO does not wait for a writer), and
    its type is checked on the open descriptor, so a symlink to ``/dev/zero`` or a
    path swapped after the check is refused too.

    Returns
    -------
    fh : file object (binary, positioned at 0)
    size : int
        Its size in bytes.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ValueError(f"weight file {name!r} does not exist") from None
    except IsADirectoryError:  # pragma: no cover - Linux opens directories read-only
        raise ValueError(f"weight file {name!r} is a directory, not a regular file") from None
    except OSError as exc:
        raise ValueError(f"weight file {name!r} cannot be opened: {exc.strerror or exc}") from None
    except ValueError as exc:  # e.g. an embedded NUL byte
        raise ValueError(f"weight file {name!r} cannot be opened: {exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = next((k for test, k in _KINDS if test(st.st_mode)), "not a regular file")
            raise ValueError(f"weight file {name!r} is {kind}, not a regular file")
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return fh, st.st_size


def open_zip_member(archive, info, budget, what):
    """Open one zip member for streaming, if it is stored or deflated.

    zipfile decompresses bzip2 and LZMA members without bounding the output of one
    read (a few kilobytes of bzip2 expand to gigabytes before the declared size is
    enforced), so those methods are refused; deflate output is bounded per read.
    """
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise budget.error(
            f"{what} is compressed with zip method {info.compress_type}; only stored and "
            "deflated members are read"
        )
    try:
        return archive.open(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
        raise budget.error(f"cannot read {what}: {exc} (truncated or corrupt file?)") from None


def read_zip_member(archive, info, budget, what, claim=True):
    """Decompress one zip member into a new writable ``uint8`` array of its declared size.

    The declared (uncompressed) size is claimed first (``claim=False``: the caller
    has claimed it already), the member is opened with :func:`open_zip_member` and
    its CRC is checked.
    """
    n = info.file_size
    if claim:
        budget.claim(what, n)
    out = np.empty(n, dtype=np.uint8)
    view = memoryview(out)
    pos = 0
    try:
        with open_zip_member(archive, info, budget, what) as fh:
            while pos < n:
                chunk = fh.read(min(_CHUNK, n - pos))
                if not chunk:
                    break
                view[pos:pos + len(chunk)] = chunk
                pos += len(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
        raise budget.error(f"cannot read {what}: {exc} (truncated or corrupt file?)") from None
    if pos != n:
        raise budget.error(f"{what} holds {pos} bytes, its header says {n} (truncated or corrupt file?)")
    return out


def read_npy_header(fh, budget, what, available):
    """``(shape, fortran_order, dtype)`` of the ``.npy`` array at ``fh``, checked, not claimed.

    ``available`` is the number of bytes of ``fh`` from the magic on. Object
    (pickled) and non-numeric dtypes are refused, and so is a header that claims
    more (or fewer) bytes than follow it. ``fh`` is left at the first data byte.
    """
    start = fh.tell()
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh, max_header_size=_MAX_NPY_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh, max_header_size=_MAX_NPY_HEADER)
        else:
            raise ValueError(f"npy format version {version} (structured arrays) is not read")
    except (ValueError, EOFError, OSError, SyntaxError, TypeError, zipfile.BadZipFile, zlib.error) as exc:
        raise budget.error(f"{what} has an invalid .npy header: {exc}") from None
    if dtype.hasobject:
        raise budget.error(
            f"{what} is an object array (pickled Python objects); refused, like np.load(allow_pickle=False)"
        )
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise budget.error(f"{what} has dtype {dtype}; only numeric (bool, int, float) arrays are read")
    nbytes = budget.array_nbytes(what, shape, dtype)
    present = available - (fh.tell() - start)
    if nbytes != present:
        raise budget.error(
            f"{what} claims shape {shape} {dtype} = {format_bytes(nbytes)}, but {format_bytes(present)} "
            "follow its header (truncated or corrupt file?)"
        )
    return shape, fortran, dtype


def read_npy_data(fh, budget, what, shape, fortran, dtype):
    """The data of a ``.npy`` array whose header :func:`read_npy_header` read (and the
    caller claimed), in native byte order."""
    nbytes = budget.array_nbytes(what, shape, dtype)
    out = np.empty(math.prod(shape), dtype=dtype)
    raw = out.view(np.uint8)
    pos = 0
    try:
        while pos < nbytes:
            chunk = fh.read(min(_CHUNK, nbytes - pos))
            if not chunk:
                break
            raw[pos:pos + len(chunk)] = np.frombuffer(chunk, np.uint8)
            pos += len(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise budget.error(f"cannot read {what}: {exc} (truncated or corrupt file?)") from None
    if pos != nbytes:
        raise budget.error(f"{what} holds {pos} of its {nbytes} bytes (truncated or corrupt file?)")
    if not dtype.isnative:
        out = out.byteswap().view(dtype.newbyteorder("="))
    return out.reshape(shape, order="F" if fortran else "C")


def read_npy(fh, budget, what, available):
    """Read one ``.npy`` array from ``fh`` (positioned at its magic): header checked
    (:func:`read_npy_header`), size claimed, data read (:func:`read_npy_data`)."""
    shape, fortran, dtype = read_npy_header(fh, budget, what, available)
    budget.claim_array(what, shape, dtype)
    return read_npy_data(fh, budget, what, shape, fortran, dtype)


def read_hdf5_datasets(group, budget):
    """Every dataset under the h5py ``group``, ``{relative path: array}``, read within ``budget``.

    External links, datasets stored in external files and virtual datasets (which
    read other files) are refused; soft links are not followed (the dataset is read
    under its own path). Before a dataset is read, its size and twice its chunk size
    (HDF5 decodes whole chunks) are claimed; a dataset never written (fill values)
    is claimed by its shape like any other.
    """
    import h5py

    bad_links = []

    def find_links(name):
        link = group.get(name, getlink=True)
        if isinstance(link, h5py.ExternalLink):
            bad_links.append(f"{name!r} -> {link.filename}:{link.path}")

    group.visit_links(find_links)
    if bad_links:
        raise budget.error(f"HDF5 external link {bad_links[0]} refused (it would read another file)")
    datasets = []

    def collect(name, node):
        if isinstance(node, h5py.Dataset):
            datasets.append((name, node))

    group.visititems(collect)
    for name, node in datasets:  # everything is checked and claimed before anything is read
        what = f"dataset {name!r}"
        if node.dtype.kind not in "biuf" or node.dtype.fields is not None or node.dtype.subdtype is not None:
            raise budget.error(f"{what} has non-numeric dtype {node.dtype}")
        if node.shape is None:
            raise budget.error(f"{what} has an empty (null) dataspace")
        if node.is_virtual:
            raise budget.error(f"{what} is a virtual dataset (it reads other files); refused")
        if node.id.get_create_plist().get_external_count() > 0:
            raise budget.error(f"{what} stores its data in an external file; refused")
        budget.claim_array(what, tuple(node.shape), node.dtype)
        if node.chunks is not None:
            budget.claim(f"{what} chunk {node.chunks}", 2 * budget.array_nbytes(what, tuple(node.chunks), node.dtype))
    out = {}
    for name, node in datasets:
        arr = np.empty(node.shape, dtype=node.dtype)
        if arr.size:
            node.read_direct(arr)
        out[name] = arr
    return out


# ---------------------------------------------------------------------------
# pickles
# ---------------------------------------------------------------------------

_MUTATORS = {"APPEND", "APPENDS", "SETITEM", "SETITEMS", "BUILD", "ADDITEMS"}
_PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}
_GETS = {"GET", "BINGET", "LONG_BINGET"}


def check_pickle(data, budget, what="pickle"):
    """Refuse a pickle that would take memory out of proportion or crash the interpreter.

    Runs the pickle's opcodes symbolically (:func:`pickletools.genops`, nothing is
    built) before a restricted unpickler sees it: a memo index larger than its
    position in the pickle (``LONG_BINPUT 2**31`` makes CPython allocate a memo of
    2**32 slots from ten bytes), containers nested more than ``MAX_PICKLE_DEPTH``
    deep (a deeply nested tuple used as a dict key overflows the C stack while it is
    hashed), and malformed opcode streams are refused. Every object the pickle
    creates is claimed at ``PICKLE_OBJECT_BYTES`` bytes, strings and bytes by their
    length.
    """
    stack, marks, memo = [], [], {}
    n_objects = 0
    deepest = 0
    try:
        for op, arg, pos in pickletools.genops(data):
            name = op.name
            if name == "MARK":
                marks.append(len(stack))
                continue
            if name in _GETS:
                if arg not in memo:
                    raise ValueError(f"memo key {arg} read before it is written")
                stack.append(memo[arg])
                continue
            if name in _PUTS:
                if not isinstance(arg, int) or arg < 0 or arg > (pos or 0):
                    raise ValueError(
                        f"memo index {short_repr(arg)} at byte {pos} (a pickler numbers its memo 0, 1, 2, ...)"
                    )
                if not stack:
                    raise ValueError("memo write on an empty stack")
                memo[arg] = stack[-1]
                continue
            before = op.stack_before
            if pickletools.markobject in before:
                if not marks:
                    raise ValueError(f"{name} without a MARK")
                k = marks.pop()
                items = stack[k:]
                del stack[k:]
                n_lower = before.index(pickletools.markobject)
            else:
                items = []
                n_lower = len(before)
            if len(stack) < n_lower:
                raise ValueError(f"{name} on a stack of {len(stack)} items")
            lower = stack[len(stack) - n_lower:] if n_lower else []
            del stack[len(stack) - n_lower:]
            popped = lower + items
            if name == "MEMOIZE":
                memo[len(memo)] = popped[0]
                stack.append(popped[0])
                continue
            if name == "DUP":
                stack.extend(popped * 2)
                continue
            if not op.stack_after:  # POP, POP_MARK, STOP
                continue
            if name in _MUTATORS:
                depth = max([popped[0]] + [d + 1 for d in popped[1:]])
            else:
                depth = 1 + max(popped) if popped else 0
            deepest = max(deepest, depth)
            if deepest > MAX_PICKLE_DEPTH:
                raise ValueError(f"containers nested more than {MAX_PICKLE_DEPTH} deep")
            stack.extend([depth] * len(op.stack_after))
            n_objects += len(op.stack_after)
    except ValueError as exc:
        raise budget.error(f"{what} refused: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - genops reports malformed input in several types
        raise budget.error(f"{what} is not a valid pickle: {type(exc).__name__}: {exc}") from None
    budget.claim(f"the objects of {what} ({n_objects} values)", n_objects * PICKLE_OBJECT_BYTES + len(data))
    return n_objects


def is_dense_view(size, stride):
    """True if a strided view ``(size, stride)`` (in elements) touches no element twice.

    The sufficient test torch uses for non-overlapping tensors: dimensions of
    length > 1, sorted by stride, each stride at least the extent of the smaller ones.
    A stride-0 or otherwise overlapping view returns False.
    """
    extent = 0
    for n, st in sorted(((n, st) for n, st in zip(size, stride) if n > 1), key=lambda p: p[1]):
        if st <= extent:
            return False
        extent += (n - 1) * st
    return True


def loads_json(text, budget, what, key="key"):
    """``json.loads(text)`` with its objects claimed (``JSON_BYTES_PER_CHAR`` per byte),
    duplicate keys refused (``"duplicate <key> 'k' in <what>"``), and decoding or
    nesting errors as ``ValueError``."""
    budget.claim(f"{what} ({len(text):,} bytes of JSON)", JSON_BYTES_PER_CHAR * len(text))

    def no_duplicates(pairs):
        seen = {}
        for k, v in pairs:
            if k in seen:
                raise ValueError(f"duplicate {key} {short_repr(k)} in {what}")
            seen[k] = v
        return seen

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except RecursionError:
        raise budget.error(f"{what} is nested too deeply") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise budget.error(f"invalid {what}: {exc}") from None
    except ValueError as exc:
        raise budget.error(str(exc)) from None

