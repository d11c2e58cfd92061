"""Safe, torch-free weight loading.

:func:`load_weights` reads the weight files users get out of PyTorch, safetensors,
numpy and Keras into a plain ``dict[str, numpy.ndarray]``; :func:`check_weights`
validates such a dict against the names, shapes and dtypes a model expects.

No file can execute code: PyTorch's ``data.pkl`` is read with a restricted
unpickler that resolves only the handful of globals a tensor state dict needs
(``torch._utils._rebuild_tensor_v2``, ``torch._utils._rebuild_parameter``, the
typed ``torch.*Storage`` markers and ``collections.OrderedDict``), each mapped to a
numpy stand-in, never to torch; every other global is refused before anything
is called, like ``torch.load(weights_only=True)``. ``.npz`` files are read with
``allow_pickle=False``.
"""

from __future__ import annotations

import collections
import io
import json
import os
import pickle
import struct
import zipfile
import zlib
from collections.abc import Mapping

import numpy as np

from .graph_io import _is_keras_archive, _load_keras_archive, _load_onnx, _looks_like_onnx

__all__ = ["load_weights", "check_weights"]

# torch storage type name -> numpy dtype (bfloat16 handled separately)
_STORAGE_DTYPES = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "BFloat16Storage": np.dtype("<u2"),  # widened to float32 after reading
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}

_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_MAX_SAFETENSORS_HEADER = 100_000_000


# ---------------------------------------------------------------------------
# PyTorch zip format
# ---------------------------------------------------------------------------


class _StorageType:
    """Stand-in for a ``torch.<X>Storage`` class named in a persistent id."""

    def __init__(self, name):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]

    def __repr__(self):  # pragma: no cover - debugging aid
        return f"torch.{self.name}"


class _Storage:
    """A storage read from the archive: a flat numpy array of its elements."""

    def __init__(self, data, key):
        self.data = data
        self.key = key


def _bad(path, msg):
    return ValueError(f"weight file {os.fspath(path)!r}: {msg}")


def _check_int_tuple(value, what, path):
    if not isinstance(value, tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    ):
        raise _bad(path, f"tensor {what} must be a tuple of non-negative ints, got {value!r}")
    return value


def _make_rebuild_tensor(path, counter):
    def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                           backward_hooks=None, metadata=None):
        if not isinstance(storage, _Storage):
            raise _bad(path, f"tensor rebuilt from a non-storage object {type(storage).__name__}")
        if not isinstance(storage_offset, int) or isinstance(storage_offset, bool) or storage_offset < 0:
            raise _bad(path, f"tensor storage offset must be a non-negative int, got {storage_offset!r}")
        size = _check_int_tuple(size, "size", path)
        stride = _check_int_tuple(stride, "stride", path)
        if len(size) != len(stride):
            raise _bad(path, f"tensor size {size} and stride {stride} differ in length")
        flat = storage.data
        if not isinstance(flat, np.ndarray) or flat.ndim != 1:
            raise _bad(path, f"storage {storage.key!r} was tampered with")
        counter[0] += 1
        if any(s == 0 for s in size):
            return np.zeros(size, dtype=flat.dtype)
        last = storage_offset + sum((n - 1) * st for n, st in zip(size, stride))
        if last >= flat.size:
            raise _bad(
                path,
                f"tensor of size {size}, stride {stride}, offset {storage_offset} reads "
                f"element {last} of storage {storage.key!r} that holds {flat.size} elements",
            )
        item = flat.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[storage_offset:], shape=size, strides=tuple(st * item for st in stride),
            writeable=False,
        )
        return np.array(view, copy=True)

    return _rebuild_tensor_v2


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    if not isinstance(data, np.ndarray):
        raise ValueError(f"parameter rebuilt from a non-tensor object {type(data).__name__}")
    return data


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler of ``data.pkl`` that resolves only tensor-state-dict globals."""

    def __init__(self, file, *, path, archive, prefix, byteorder, counter):
        super().__init__(file)
        self._path = path
        self._archive = archive
        self._prefix = prefix
        self._byteorder = byteorder
        self._storages = {}
        self._allowed = {
            ("torch._utils", "_rebuild_tensor_v2"): _make_rebuild_tensor(path, counter),
            ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
            ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
            ("collections", "OrderedDict"): collections.OrderedDict,
        }

    def find_class(self, module, name):
        key = (module, name)
        if key in self._allowed:
            return self._allowed[key]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise _bad(
            self._path,
            f"refused to load global '{module}.{name}': only tensor state dicts "
            "(torch._utils._rebuild_tensor_v2, torch.*Storage, collections.OrderedDict) "
            "are allowed, like torch.load(weights_only=True)",
        )

    def persistent_load(self, pid):
        if (
            not isinstance(pid, tuple)
            or len(pid) != 5
            or pid[0] != "storage"
            or not isinstance(pid[1], _StorageType)
            or not isinstance(pid[2], str)
            or not isinstance(pid[4], int)
        ):
            raise _bad(self._path, f"unsupported persistent id {pid!r} (expected a tensor storage)")
        _, stype, key, _location, numel = pid
        if key in self._storages:
            stored = self._storages[key]
            if stored.data.dtype != stype.dtype and stype.name != "BFloat16Storage":
                raise _bad(self._path, f"storage {key!r} is used with two dtypes")
            return stored
        member = f"{self._prefix}/data/{key}"
        try:
            info = self._archive.getinfo(member)
        except KeyError:
            raise _bad(self._path, f"storage member {member!r} is missing (truncated file?)") from None
        expected = numel * stype.dtype.itemsize
        if info.file_size != expected:
            raise _bad(
                self._path,
                f"storage {key!r} holds {info.file_size} bytes, expected {expected} "
                f"({numel} x {stype.dtype.itemsize}) (truncated or corrupt file?)",
            )
        try:
            raw = self._archive.read(member)
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
            raise _bad(self._path, f"cannot read storage {member!r}: {exc}") from None
        dtype = stype.dtype.newbyteorder(">" if self._byteorder == "big" else "<")
        arr = np.frombuffer(raw, dtype=dtype, count=numel)
        if self._byteorder == "big":
            arr = arr.astype(arr.dtype.newbyteorder("="))
        if stype.name == "BFloat16Storage":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        storage = _Storage(arr, key)
        self._storages[key] = storage
        return storage


def _load_torch_zip(path, archive):
    names = archive.namelist()
    pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pkl) != 1:
        raise _bad(path, f"expected one '<archive>/data.pkl' member, found {len(pkl)}")
    prefix = pkl[0][: -len("/data.pkl")]
    byteorder = "little"
    if f"{prefix}/byteorder" in names:
        byteorder = archive.read(f"{prefix}/byteorder").decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise _bad(path, f"unknown byteorder {byteorder!r}")
    counter = [0]
    try:
        data = archive.read(pkl[0])
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise _bad(path, f"cannot read data.pkl: {exc}") from None
    unpickler = _RestrictedUnpickler(
        io.BytesIO(data), path=path, archive=archive, prefix=prefix,
        byteorder=byteorder, counter=counter,
    )
    try:
        obj = unpickler.load()
    except ValueError:
        raise
    except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, IndexError,
            KeyError, struct.error, RecursionError, MemoryError) as exc:
        raise _bad(path, f"data.pkl is not a valid tensor state dict: {type(exc).__name__}: {exc}") from None
    obj = _unwrap_state_dict(obj, path)
    n_distinct = len({id(v) for v in obj.values()})
    if counter[0] > n_distinct:
        raise _bad(
            path,
            f"data.pkl rebuilds {counter[0]} tensors but the state dict keeps {n_distinct}: "
            "duplicate keys overwrote tensors",
        )
    return obj


def _unwrap_state_dict(obj, path):
    """Accept a flat ``{name: tensor}`` dict, or a checkpoint holding one."""
    if not isinstance(obj, dict):
        raise _bad(path, f"expected a state dict (a dict of tensors), got {type(obj).__name__}")
    if not all(isinstance(v, np.ndarray) for v in obj.values()):
        for wrapper in ("state_dict", "model_state_dict", "model"):
            inner = obj.get(wrapper)
            if isinstance(inner, dict) and inner and all(
                isinstance(v, np.ndarray) for v in inner.values()
            ):
                obj = inner
                break
    out = {}
    for k, v in obj.items():
        if not isinstance(k, str):
            raise _bad(path, f"state dict key {k!r} is not a string")
        if not isinstance(v, np.ndarray) or v.dtype.kind not in "biuf":
            raise _bad(path, f"entry {k!r} is a {type(v).__name__}, not a numeric tensor")
        out[k] = v
    return out


# ---------------------------------------------------------------------------
# safetensors, npz, HDF5
# ---------------------------------------------------------------------------


def _read_safetensors_header(path):
    """The parsed JSON header of a safetensors file (tensor entries and ``__metadata__``)."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise _bad(path, "truncated safetensors header")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_SAFETENSORS_HEADER:
            raise _bad(path, f"safetensors header of {n} bytes is implausible")
        header = fh.read(n)
    if len(header) != n:
        raise _bad(path, "truncated safetensors header")

    def no_duplicates(pairs):
        seen = {}
        for k, v in pairs:
            if k in seen:
                raise _bad(path, f"duplicate tensor name {k!r} in the safetensors header")
            seen[k] = v
        return seen

    try:
        parsed = json.loads(header.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(path, f"invalid safetensors header: {exc}") from None
    if not isinstance(parsed, dict):
        raise _bad(path, f"invalid safetensors header: expected a JSON object, got {type(parsed).__name__}")
    return parsed


def _read_head(path, n):
    """The first ``n`` bytes of the weight file ``path`` (clear errors for a bad path)."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if not os.path.isfile(path):
        raise ValueError(f"weight file {os.fspath(path)!r} does not exist or is not a file")
    with open(path, "rb") as fh:
        return fh.read(n)


def _safetensors_metadata(path):
    """The ``__metadata__`` (str -> str) of a safetensors file, read without safetensors."""
    head = _read_head(path, 9)
    if len(head) < 9 or head[8:9] != b"{":
        raise _bad(path, "not a safetensors file (the header carries the metadata)")
    meta = _read_safetensors_header(path).get("__metadata__") or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise _bad(path, "safetensors __metadata__ must map strings to strings")
    return meta


def _load_safetensors(path):
    _read_safetensors_header(path)
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return dict(load_file(os.fspath(path)))
    except (SafetensorError, ValueError, OSError, TypeError) as exc:
        raise _bad(path, f"invalid safetensors file: {exc}") from None


def _load_npz(path, archive):
    names = archive.namelist()
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise _bad(path, f"duplicate members {sorted(dup)} in the .npz archive")
    bad = [n for n in names if not n.endswith(".npy")]
    if bad:
        raise _bad(path, f"zip archive is neither a torch.save file nor an .npz (members {bad[:3]})")
    out = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for k in npz.files:
                out[k] = npz[k]
    except ValueError as exc:
        raise _bad(path, f"cannot read .npz without pickles: {exc}") from None
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise _bad(path, f"truncated or corrupt .npz: {exc}") from None
    return out


def _load_hdf5(path, source=None):
    """Datasets of the HDF5 file ``path`` (or of the file object ``source``, named ``path``)."""
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is in the test extra
        raise ImportError(
            "reading Keras HDF5 weight files needs h5py: pip install 'eegbin[hdf5]'"
        ) from None
    out = {}
    try:
        with h5py.File(path if source is None else source, "r") as f:
            root = f["model_weights"] if "model_weights" in f else f

            def visit(name, node):
                if isinstance(node, h5py.Dataset):
                    if node.dtype.kind not in "fiub":
                        raise _bad(path, f"dataset {name!r} has non-numeric dtype {node.dtype}")
                    out[name] = np.array(node[()])

            root.visititems(visit)
    except OSError as exc:
        raise _bad(path, f"truncated or corrupt HDF5 file: {exc}") from None
    if not out:
        raise _bad(path, "HDF5 file holds no weight datasets")
    return out


def load_weights(path) -> dict:
    """Load a weight file into ``{name: numpy array}`` without executing code.

    The format is detected from the file's first bytes, not its extension:

    - PyTorch ``torch.save`` zip archives (``.pt``/``.pth``) of a state dict (or a
      checkpoint dict holding one under ``state_dict``/``model_state_dict``/``model``),
      read without importing torch through a restricted unpickler (anything but
      tensor rebuilds, storage types and ``OrderedDict`` is refused);
    - safetensors files (via ``safetensors.numpy``);
    - ``.npz`` archives (``allow_pickle=False``);
    - Keras HDF5 weight files (needs ``h5py``, extra ``hdf5``): dataset paths under
      ``model_weights`` (or the root) become the keys, e.g. ``"dense/dense/kernel:0"``
      (Keras 2) or ``"layers/dense/vars/0"`` (Keras 3 ``.weights.h5``);
    - Keras 3 ``.keras`` archives: the tensors of their ``model.weights.h5``, and their
      ``config.json`` read as JSON data (never deserialized) in ``.config``;
    - ONNX models (needs ``onnx``): initializers and ``Constant`` tensors by value name,
      and the graph's nodes in ``.graph`` (no runtime; external data is refused).

    ONNX and ``.keras`` files give a :class:`~eegbin.nn.WeightDict`, a dict that also
    carries the graph or config the layout readers need.

    Parameters
    ----------
    path : str or os.PathLike
        The weight file.

    Returns
    -------
    weights : dict of str to ndarray
        Every tensor, with its stored dtype (bfloat16 is widened to float32
        exactly) and shape; views are materialized honouring strides and offsets.
        A :class:`~eegbin.nn.WeightDict` for ONNX and ``.keras`` files.

    Raises
    ------
    ValueError
        Truncated or corrupt files, unknown formats, legacy (non-zip) torch
        pickles, pickles that reference any other global (e.g. ``os.system``),
        duplicate tensor names, entries that are not tensors.
    ImportError
        An HDF5 file and h5py is not installed.

    See Also
    --------
    check_weights : validate names, shapes and dtypes against a model's spec.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from eegbin.nn import load_weights
    >>> d = tempfile.mkdtemp()
    >>> np.savez(os.path.join(d, "w.npz"), w=np.eye(2, dtype=np.float32))
    >>> load_weights(os.path.join(d, "w.npz"))["w"].shape
    (2, 2)

    References
    ----------
    PyTorch serialization semantics, ``torch.load(weights_only=True)``.
    """
    head = _read_head(path, 16)
    if not head:
        raise _bad(path, "file is empty")
    if head.startswith(_ZIP_MAGIC):
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise _bad(path, f"truncated or corrupt zip archive: {exc}") from None
        with archive:
            if any(n.endswith("/data.pkl") for n in archive.namelist()):
                return _load_torch_zip(path, archive)
            if _is_keras_archive(archive.namelist()):
                return _load_keras_archive(path, archive, lambda fh: _load_hdf5(path, fh))
            return _load_npz(path, archive)
    if head.startswith(_HDF5_MAGIC):
        return _load_hdf5(path)
    if len(head) >= 9 and head[8:9] == b"{":
        return _load_safetensors(path)
    if _looks_like_onnx(head):
        return _load_onnx(path)
    if head[:1] == b"\x80":
        raise _bad(
            path,
            "legacy (non-zip) pickle format is not supported: re-save with a current "
            "torch.save, or as safetensors",
        )
    raise _bad(
        path, "unknown format: expected a torch.save zip, safetensors, .npz, Keras HDF5 or "
        ".keras, or ONNX file"
    )


# ---------------------------------------------------------------------------
# validation against a model spec
# ---------------------------------------------------------------------------


def _fmt_shape(shape):
    return "(" + ", ".join("*" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def check_weights(weights, spec, *, optional=(), kind="f", name="weights") -> dict:
    """Validate a weight dict against the tensor names and shapes a model expects.

    Parameters
    ----------
    weights : mapping of str to array-like
        Typically the output of :func:`load_weights`.
    spec : mapping of str to tuple
        Expected shape of every tensor; an entry ``None`` matches any size.
    optional : iterable of str, default=()
        Keys that may be absent (or present with any shape), e.g. batch-norm
        ``num_batches_tracked`` counters.
    kind : str, default="f"
        numpy dtype kinds accepted for the tensors of ``spec`` ("f": floating).
    name : str, default="weights"
        Name of the argument, used in error messages.

    Returns
    -------
    checked : dict of str to ndarray
        The tensors of ``spec`` (optional keys dropped) as float64 arrays.

    Raises
    ------
    TypeError
        ``weights`` is not a mapping.
    ValueError
        Missing or unexpected tensors, wrong shapes (the message names the tensor
        and the expected vs. found shape), wrong dtypes, NaN or Inf.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import check_weights
    >>> w = check_weights({"fc.weight": np.ones((4, 3))}, {"fc.weight": (4, None)})
    >>> w["fc.weight"].dtype
    dtype('float64')
    """
    if not isinstance(weights, Mapping):
        raise TypeError(f"{name} must be a mapping of str to arrays, got {type(weights).__name__}")
    optional = set(optional)
    missing = [k for k in spec if k not in weights and k not in optional]
    if missing:
        k = missing[0]
        raise ValueError(
            f"{name}: missing tensor {k!r} (expected shape {_fmt_shape(spec[k])})"
            + (f" and {len(missing) - 1} more: {missing[1:]}" if len(missing) > 1 else "")
        )
    extra = [k for k in weights if k not in spec and k not in optional]
    if extra:
        raise ValueError(
            f"{name}: unexpected tensors {extra} (expected exactly {sorted(spec)}"
            + (f", optionally {sorted(optional)}" if optional else "") + ")"
        )
    out = {}
    for k, shape in spec.items():
        if k not in weights:
            continue
        arr = np.asarray(weights[k])
        if arr.dtype.kind not in kind:
            raise ValueError(f"{name}: tensor {k!r} has dtype {arr.dtype}, expected kind {kind!r}")
        if arr.ndim != len(shape) or any(e is not None and e != s for e, s in zip(shape, arr.shape)):
            raise ValueError(
                f"{name}: tensor {k!r} has shape {_fmt_shape(arr.shape)}, "
                f"expected {_fmt_shape(shape)}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}: tensor {k!r} contains NaN or Inf")
        out[k] = arr.astype(np.float64)
    return out
