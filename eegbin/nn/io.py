"""Safe, torch-free, bounded weight loading.

:func:`load_weights` reads the weight files users get out of PyTorch, safetensors,
numpy and Keras into a plain ``dict[str, numpy.ndarray]``; :func:`check_weights`
validates such a dict against the names, shapes and dtypes a model expects.

No file can execute code: PyTorch's ``data.pkl`` is read with a restricted
unpickler that resolves only the handful of globals a tensor state dict needs
(``torch._utils._rebuild_tensor_v2``, ``torch._utils._rebuild_parameter``, the
typed ``torch.*Storage`` markers and ``collections.OrderedDict``), each mapped to a
stand-in, never to torch; every other global is refused before anything is
called, like ``torch.load(weights_only=True)``. ``.npy`` data is read without
pickles.

No file can take memory out of proportion: every reader goes through
:mod:`eegbin.nn._bounded`, which claims what a file's headers say before anything
is decoded and refuses the file past ``max_bytes`` (see :func:`load_weights`).
"""

from __future__ import annotations

import collections
import io
import math
import pickle
import struct
import zipfile
from collections.abc import Mapping

import numpy as np

from ._bounded import (
    JSON_BYTES_PER_CHAR,
    MAX_BYTES,
    ReadBudget,
    WeightFileError,
    check_pickle,
    format_bytes,
    is_dense_view,
    loads_json,
    open_regular,
    open_zip_member,
    read_hdf5_datasets,
    read_npy,
    read_npy_data,
    read_npy_header,
    read_zip_member,
    short_repr,
)
from .graph_io import _is_keras_archive, _load_keras_archive, _load_onnx, _looks_like_onnx

__all__ = ["load_weights", "check_weights"]

# torch storage type name -> numpy dtype as stored (bfloat16 is widened after reading)
_STORAGE_DTYPES = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "BFloat16Storage": np.dtype("<u2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}

# safetensors dtype name -> numpy dtype as stored (BF16 is widened after reading)
_SAFETENSORS_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}

_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_NPY_MAGIC = b"\x93NUMPY"
_MAX_SAFETENSORS_HEADER = 100_000_000  # the limit of the safetensors library


def _widen_bfloat16(raw):
    """bfloat16 bit patterns (uint16) -> float32, exactly (the high half of a float32)."""
    out = raw.astype(np.uint32)
    out <<= 16
    return out.view(np.float32)


# ---------------------------------------------------------------------------
# PyTorch zip format: a restricted unpickler that builds references, then arrays
# ---------------------------------------------------------------------------


class _Refused:
    """Base of the unpickler's stand-ins: the pickle cannot set their attributes."""

    __slots__ = ()

    def __setstate__(self, state):
        raise pickle.UnpicklingError(f"BUILD on a {type(self).__name__.lstrip('_')} refused")


class _StorageType(_Refused):
    """Stand-in for a ``torch.<X>Storage`` class named in a persistent id."""

    __slots__ = ("name", "dtype")

    def __init__(self, name):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _Storage(_Refused):
    """A storage of the archive, not read yet: its member, element type and count."""

    __slots__ = ("key", "stype", "numel", "info")

    def __init__(self, key, stype, numel, info):
        self.key, self.stype, self.numel, self.info = key, stype, numel, info


class _TensorRef(_Refused):
    """A tensor of the state dict, not materialized yet: a strided view of a storage."""

    __slots__ = ("storage", "offset", "size", "stride")

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


def _is_index(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _check_int_tuple(value, what, budget):
    if not isinstance(value, tuple) or not all(_is_index(v) for v in value):
        raise budget.error(f"tensor {what} must be a tuple of non-negative ints, got {short_repr(value)}")
    return value


def _make_rebuild_tensor(budget, counter):
    def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                           backward_hooks=None, metadata=None):
        if not isinstance(storage, _Storage):
            raise budget.error(f"tensor rebuilt from a non-storage object {type(storage).__name__}")
        if not _is_index(storage_offset):
            raise budget.error(f"tensor storage offset must be a non-negative int, got {short_repr(storage_offset)}")
        size = _check_int_tuple(size, "size", budget)
        stride = _check_int_tuple(stride, "stride", budget)
        if len(size) != len(stride):
            raise budget.error(f"tensor size {size} and stride {stride} differ in length")
        counter[0] += 1
        if all(size):
            last = storage_offset + sum((n - 1) * st for n, st in zip(size, stride))
            if last >= storage.numel:
                raise budget.error(
                    f"tensor of size {size}, stride {stride}, offset {storage_offset} reads "
                    f"element {last} of storage {storage.key!r} that holds {storage.numel} elements"
                )
        return _TensorRef(storage, storage_offset, size, stride)

    return _rebuild_tensor_v2


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    if not isinstance(data, _TensorRef):
        raise pickle.UnpicklingError(f"parameter rebuilt from a non-tensor object {type(data).__name__}")
    return data


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler of ``data.pkl`` that resolves only tensor-state-dict globals."""

    def __init__(self, file, *, budget, archive, prefix, counter):
        super().__init__(file)
        self._budget = budget
        self._archive = archive
        self._prefix = prefix
        self._storages = {}
        self._allowed = {
            ("torch._utils", "_rebuild_tensor_v2"): _make_rebuild_tensor(budget, counter),
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
        raise self._budget.error(
            f"refused to load global '{short_repr(module)}.{short_repr(name)}': only tensor state dicts "
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
            or not _is_index(pid[4])
        ):
            raise self._budget.error(f"unsupported persistent id {short_repr(pid)} (expected a tensor storage)")
        _, stype, key, _location, numel = pid
        if key in self._storages:
            stored = self._storages[key]
            if stored.stype.name != stype.name or stored.numel != numel:
                raise self._budget.error(f"storage {key!r} is used with two types or sizes")
            return stored
        member = f"{self._prefix}/data/{key}"
        try:
            info = self._archive.getinfo(member)
        except KeyError:
            raise self._budget.error(f"storage member {member!r} is missing (truncated file?)") from None
        expected = numel * stype.dtype.itemsize
        if info.file_size != expected:
            raise self._budget.error(
                f"storage {key!r} holds {info.file_size} bytes, expected {expected} "
                f"({numel} x {stype.dtype.itemsize}) (truncated or corrupt file?)",
            )
        storage = _Storage(key, stype, numel, info)
        self._storages[key] = storage
        return storage


def _small_member(archive, name, budget, limit=64):
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise budget.error(f"member {name!r} holds {info.file_size} bytes, expected at most {limit}")
    return read_zip_member(archive, info, budget, f"member {name!r}").tobytes()


def _load_torch_zip(archive, budget):
    names = archive.namelist()
    pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pkl) != 1:
        raise budget.error(f"expected one '<archive>/data.pkl' member, found {len(pkl)}")
    prefix = pkl[0][: -len("/data.pkl")]
    byteorder = "little"
    if f"{prefix}/byteorder" in names:
        byteorder = _small_member(archive, f"{prefix}/byteorder", budget).decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise budget.error(f"unknown byteorder {short_repr(byteorder)}")
    data = read_zip_member(archive, archive.getinfo(pkl[0]), budget, "data.pkl").tobytes()
    check_pickle(data, budget, "data.pkl")
    counter = [0]
    unpickler = _RestrictedUnpickler(io.BytesIO(data), budget=budget, archive=archive, prefix=prefix,
                                     counter=counter)
    try:
        obj = unpickler.load()
    except WeightFileError:
        raise
    except (pickle.UnpicklingError, ValueError, EOFError, TypeError, AttributeError, IndexError,
            KeyError, struct.error) as exc:
        raise budget.error(
            f"data.pkl is not a valid tensor state dict: {type(exc).__name__}: {short_repr(str(exc))}"
        ) from None
    n_kept = _count_tensors(obj)
    if counter[0] > n_kept:
        raise budget.error(
            f"data.pkl rebuilds {counter[0]} tensors but keeps {n_kept}: duplicate keys overwrote tensors",
        )
    return _materialize(_unwrap_state_dict(obj, budget, _TensorRef), archive, byteorder, budget)


def _count_tensors(obj):
    """Distinct tensors reachable from the unpickled object (a checkpoint keeps optimizer
    tensors beside the state dict; only tensors lost to a repeated key are missing)."""
    seen, tensors, stack = set(), set(), [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, _TensorRef):
            tensors.add(id(item))
        elif isinstance(item, (dict, list, tuple, set, frozenset)) and id(item) not in seen:
            seen.add(id(item))
            stack.extend(item.values() if isinstance(item, dict) else item)
            if isinstance(item, dict):
                stack.extend(k for k in item if isinstance(k, tuple))
        elif hasattr(item, "__dict__") and id(item) not in seen:  # e.g. OrderedDict._metadata
            seen.add(id(item))
            stack.extend(vars(item).values())
    return len(tensors)


def _materialize(refs, archive, byteorder, budget):
    """``{name: _TensorRef}`` -> ``{name: ndarray}``, planned and claimed before any read.

    A tensor that is the whole of a storage no other tensor uses is that storage's
    buffer (no copy); any other view is copied, and the copy claimed. Overlapping
    views (stride 0, ...) are refused, never expanded. Each storage is read once.
    """
    first = {}
    for name, ref in refs.items():
        first.setdefault(id(ref), (name, ref))
    users = collections.Counter(id(ref.storage) for _, ref in first.values())
    plan, planned_storages = {}, set()
    for name, ref in first.values():
        st, size, stride = ref.storage, ref.size, ref.stride
        dtype = np.dtype(np.float32) if st.stype.name == "BFloat16Storage" else st.stype.dtype
        what = f"tensor {name!r}"
        nbytes = budget.array_nbytes(what, size, dtype)
        if nbytes == 0:
            plan[id(ref)] = ("empty", dtype)
            continue
        if not is_dense_view(size, stride):
            raise budget.error(
                f"{what} is an overlapping view of storage {st.key!r} (size {size}, stride {stride}): "
                f"it would expand {st.numel:,} stored elements to {math.prod(size):,} "
                f"({format_bytes(nbytes)}); views are not expanded, save tensor.contiguous() instead"
            )
        if st.key not in planned_storages:
            planned_storages.add(st.key)
            budget.claim(f"{what} (storage {st.key!r})", st.info.file_size)
            if st.stype.name == "BFloat16Storage":
                budget.claim(f"{what} (storage {st.key!r}) widened to float32", 4 * st.numel)
        contiguous = all(s == math.prod(size[k + 1:]) for k, (n, s) in enumerate(zip(size, stride)) if n > 1)
        if users[id(st)] == 1 and ref.offset == 0 and contiguous and math.prod(size) == st.numel:
            plan[id(ref)] = ("whole", dtype)
        else:
            budget.claim_array(what, size, dtype)
            plan[id(ref)] = ("copy", dtype)
    storages, arrays = {}, {}
    for name, ref in first.values():
        how, dtype = plan[id(ref)]
        st, size = ref.storage, ref.size
        if how == "empty":
            arrays[id(ref)] = np.zeros(size, dtype=dtype)
            continue
        if st.key not in storages:
            storages[st.key] = _storage_array(st, f"tensor {name!r} (storage {st.key!r})", archive, byteorder, budget)
        flat = storages[st.key]
        if how == "whole":
            arrays[id(ref)] = flat.reshape(size)
        else:
            view = np.lib.stride_tricks.as_strided(
                flat[ref.offset:], shape=size, strides=tuple(s * dtype.itemsize for s in ref.stride),
                writeable=False,
            )
            arrays[id(ref)] = np.array(view, copy=True)
    return {name: arrays[id(ref)] for name, ref in refs.items()}


def _storage_array(st, what, archive, byteorder, budget):
    """The elements of a storage (claimed by the caller), in native byte order."""
    arr = read_zip_member(archive, st.info, budget, what, claim=False).view(st.stype.dtype)
    if byteorder == "big" and arr.dtype.itemsize > 1:
        arr.byteswap(inplace=True)
    if st.stype.name == "BFloat16Storage":
        arr = _widen_bfloat16(arr)
    return arr


def _unwrap_state_dict(obj, budget, tensor_type=np.ndarray):
    """Accept a flat ``{name: tensor}`` dict, or a checkpoint holding one."""
    if not isinstance(obj, dict):
        raise budget.error(f"expected a state dict (a dict of tensors), got {type(obj).__name__}")
    if not all(isinstance(v, tensor_type) for v in obj.values()):
        for wrapper in ("state_dict", "model_state_dict", "model"):
            inner = obj.get(wrapper)
            if isinstance(inner, dict) and inner and all(isinstance(v, tensor_type) for v in inner.values()):
                obj = inner
                break
    out = {}
    for k, v in obj.items():
        if not isinstance(k, str):
            raise budget.error(f"state dict key {short_repr(k)} is not a string")
        if not isinstance(v, tensor_type):
            raise budget.error(f"entry {short_repr(k)} is a {type(v).__name__}, not a numeric tensor")
        out[k] = v
    return out


# ---------------------------------------------------------------------------
# safetensors, npz / npy, HDF5
# ---------------------------------------------------------------------------


def _read_safetensors_header(fh, size, budget):
    """``(header dict, data start)`` of a safetensors file open at byte 0."""
    head = fh.read(8)
    if len(head) < 8:
        raise budget.error("truncated safetensors header")
    (n,) = struct.unpack("<Q", head)
    if n > _MAX_SAFETENSORS_HEADER:
        raise budget.error(f"safetensors header of {n} bytes is implausible")
    if n > size - 8:
        raise budget.error(f"safetensors header of {n} bytes is longer than the file (truncated file?)")
    raw = fh.read(n)
    if len(raw) != n:
        raise budget.error("truncated safetensors header")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise budget.error(f"invalid safetensors header: {exc}") from None
    parsed = loads_json(text, budget, "the safetensors header", key="tensor name")
    if not isinstance(parsed, dict):
        raise budget.error(f"invalid safetensors header: expected a JSON object, got {type(parsed).__name__}")
    return parsed, 8 + n


def _safetensors_metadata(path):
    """The ``__metadata__`` (str -> str) of a safetensors file, read without safetensors."""
    budget = ReadBudget(path)
    fh, size = open_regular(path)
    with fh, budget.reading():
        head = fh.read(9)
        if len(head) < 9 or head[8:9] != b"{":
            raise budget.error("not a safetensors file (the header carries the metadata)")
        fh.seek(0)
        header, _ = _read_safetensors_header(fh, size, budget)
        meta = header.get("__metadata__") or {}
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            raise budget.error("safetensors __metadata__ must map strings to strings")
    return meta


def _load_safetensors(fh, size, budget):
    header, start = _read_safetensors_header(fh, size, budget)
    meta = header.pop("__metadata__", None)
    if meta is not None and not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise budget.error("safetensors __metadata__ must map strings to strings")
    entries = []
    for name, entry in header.items():
        what = f"tensor {name!r}"
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise budget.error(f"{what}: expected {{dtype, shape, data_offsets}}, got {short_repr(entry)}")
        dtype = _SAFETENSORS_DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
        if dtype is None:
            raise budget.error(
                f"{what} has dtype {short_repr(entry['dtype'])}; expected one of {sorted(_SAFETENSORS_DTYPES)}"
            )
        shape, offsets = entry["shape"], entry["data_offsets"]
        if not isinstance(shape, list):
            raise budget.error(f"{what} has shape {short_repr(shape)}, expected a list of non-negative ints")
        shape = tuple(shape)
        nbytes = budget.array_nbytes(what, shape, dtype)
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_index, offsets))
                and offsets[0] <= offsets[1]):
            raise budget.error(f"{what} has data_offsets {short_repr(offsets)}, expected [begin, end]")
        if offsets[1] - offsets[0] != nbytes:
            raise budget.error(
                f"{what} claims shape {shape} {entry['dtype']} = {format_bytes(nbytes)}, but its "
                f"data_offsets {offsets} span {offsets[1] - offsets[0]:,} bytes"
            )
        entries.append((offsets[0], offsets[1], name, dtype, shape))
    pos, last = 0, None
    for begin, end, name, _, _ in sorted(entries, key=lambda e: (e[0], e[1])):
        if begin != pos:
            raise budget.error(
                f"tensor {name!r} starts at byte {begin} of the data, expected {pos} "
                "(tensors must follow each other without gaps or overlaps)"
            )
        pos, last = end, name
    if start + pos != size:
        raise budget.error(
            f"the tensors cover {pos:,} bytes of data (up to the end of tensor {last!r}), the file "
            f"holds {size - start:,} (truncated or corrupt file?)"
        )
    for _, _, name, dtype, shape in entries:
        budget.claim_array(f"tensor {name!r}", shape, dtype)
        if header[name]["dtype"] == "BF16":
            budget.claim(f"tensor {name!r} widened to float32", 2 * math.prod(shape) * dtype.itemsize)
    out = {}
    for begin, _, name, dtype, shape in entries:
        arr = np.empty(math.prod(shape), dtype=dtype)
        fh.seek(start + begin)
        if fh.readinto(memoryview(arr).cast("B")) != arr.nbytes:
            raise budget.error(f"tensor {name!r} is cut short (truncated file?)")
        if header[name]["dtype"] == "BF16":
            arr = _widen_bfloat16(arr)
        out[name] = arr.reshape(shape)
    return out


def _load_npz(archive, budget):
    infos = archive.infolist()
    counts = collections.Counter(i.filename for i in infos)
    dup = sorted(n for n, c in counts.items() if c > 1)
    if dup:
        raise budget.error(f"duplicate members {[short_repr(n) for n in dup[:3]]} in the .npz archive")
    bad = [i.filename for i in infos if not i.filename.endswith(".npy")]
    if bad:
        raise budget.error(
            f"zip archive is neither a torch.save file nor an .npz (members {[short_repr(n) for n in bad[:3]]})"
        )
    headers = []
    for info in infos:  # every header checked and claimed before any data is read
        what = f"tensor {info.filename[: -len('.npy')]!r}"
        with open_zip_member(archive, info, budget, what) as fh:
            shape, fortran, dtype = read_npy_header(fh, budget, what, info.file_size)
            headers.append((what, shape, fortran, dtype, fh.tell()))
        budget.claim_array(what, shape, dtype)
    out = {}
    for info, (what, shape, fortran, dtype, start) in zip(infos, headers):
        with open_zip_member(archive, info, budget, what) as fh:
            fh.seek(start)
            out[info.filename[: -len(".npy")]] = read_npy_data(fh, budget, what, shape, fortran, dtype)
    return out


def _load_hdf5(fh, budget):
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is in the test extra
        raise ImportError(
            "reading Keras HDF5 weight files needs h5py: pip install h5py "
            "(from a clone of eegbin: pip install -e \".[hdf5]\")"
        ) from None
    try:
        with h5py.File(fh, "r") as f:
            link = f.get("model_weights", getlink=True)
            if isinstance(link, h5py.ExternalLink):
                raise budget.error(
                    f"HDF5 external link 'model_weights' -> {link.filename}:{link.path} refused "
                    "(it would read another file)"
                )
            out = read_hdf5_datasets(f["model_weights"] if link is not None else f, budget)
    except WeightFileError:
        raise
    except (OSError, KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise budget.error(f"truncated or corrupt HDF5 file: {short_repr(str(exc))}") from None
    if not out:
        raise budget.error("HDF5 file holds no weight datasets")
    return out


def _claim_keras_members(archive, budget):
    """Claim what :func:`eegbin.nn.graph_io._load_keras_archive` decodes: ``config.json``
    (and the objects of its JSON) and ``model.weights.h5``; stored or deflated only."""
    for name, factor in (("config.json", 1 + JSON_BYTES_PER_CHAR), ("model.weights.h5", 1)):
        info = archive.getinfo(name)
        open_zip_member(archive, info, budget, f"member {name!r}").close()
        budget.claim(f"member {name!r}", factor * info.file_size)


def load_weights(path, *, max_bytes=MAX_BYTES) -> dict:
    """Load a weight file into ``{name: numpy array}`` without executing code.

    The format is detected from the file's first bytes, not its extension:

    - PyTorch ``torch.save`` zip archives (``.pt``/``.pth``) of a state dict (or a
      checkpoint dict holding one under ``state_dict``/``model_state_dict``/``model``),
      read without importing torch through a restricted unpickler (anything but
      tensor rebuilds, storage types and ``OrderedDict`` is refused);
    - safetensors files (read without the safetensors package);
    - ``.npz`` archives and ``.npy`` files (no pickles; a bare ``.npy`` array is
      returned under the key ``"arr_0"``, numpy's name for an unnamed array);
    - Keras HDF5 weight files (needs ``h5py``, extra ``hdf5``): dataset paths under
      ``model_weights`` (or the root) become the keys, e.g. ``"dense/dense/kernel:0"``
      (Keras 2) or ``"layers/dense/vars/0"`` (Keras 3 ``.weights.h5``);
    - Keras 3 ``.keras`` archives: the tensors of their ``model.weights.h5``, and their
      ``config.json`` read as JSON data (never deserialized) in ``.config``;
    - ONNX models (needs ``onnx``): initializers and ``Constant`` tensors by value name,
      and the graph's nodes in ``.graph`` (no runtime; external data is refused).

    ONNX and ``.keras`` files give a :class:`~eegbin.nn.WeightDict`, a dict that also
    carries the graph or config the layout readers need.

    What a file's headers claim is checked before anything is decoded, so the
    memory a read takes is bounded whatever the file says: at most ``max_bytes``
    of decoded data (tensors, decompressed archive members, the objects of the
    pickle, the JSON header) plus a small multiple of the file's size. A file that
    claims more is refused with a ``ValueError`` naming the tensor and its size,
    before the allocation. Constructors that take a path (``EEGNet``, ``LSTM``,
    the classifiers, ``BinaryKeyValueMemory``) read it with the default; for a
    larger file you trust, call ``load_weights(path, max_bytes=...)`` and pass
    the dict.

    Parameters
    ----------
    path : str or os.PathLike
        The weight file: a regular file (directories, FIFOs and devices are refused).
    max_bytes : int or None, default=1073741824
        Most bytes the read may decode (1 GiB by default, ``eegbin.nn.io.MAX_BYTES``);
        None removes the limit (only for files you trust).

    Returns
    -------
    weights : dict of str to ndarray
        Every tensor, with its stored dtype (bfloat16 is widened to float32
        exactly; big-endian data is returned in native byte order) and shape;
        strided views are copied honouring strides and offsets.
        A :class:`~eegbin.nn.WeightDict` for ONNX and ``.keras`` files.

    Raises
    ------
    ValueError
        Files larger than ``max_bytes`` once decoded; truncated or corrupt files,
        unknown formats, legacy (non-zip) torch pickles, pickles that reference any
        other global (e.g. ``os.system``) or nest containers absurdly deep,
        overlapping (e.g. stride-0) tensor views, object arrays, HDF5 external links
        and external or virtual datasets, duplicate tensor names, entries that are
        not numeric tensors, paths that are not regular files.
    TypeError
        ``path`` is not a str or path.
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
    >>> load_weights(os.path.join(d, "w.npz"), max_bytes=8)
    Traceback (most recent call last):
    ...
    ValueError: weight file '...w.npz': tensor 'w' (2 x 2 float32) claims 16 bytes, more than max_bytes = 8 bytes...

    References
    ----------
    PyTorch serialization semantics, ``torch.load(weights_only=True)``; the
    safetensors format (https://github.com/huggingface/safetensors); the NumPy
    ``.npy`` format (``numpy.lib.format``).
    """
    budget = ReadBudget(path, max_bytes)
    fh, size = open_regular(path)
    with fh, budget.reading():
        head = fh.read(16)
        fh.seek(0)
        if not head:
            raise budget.error("file is empty")
        if head.startswith(_ZIP_MAGIC):
            try:
                archive = zipfile.ZipFile(fh)
            except (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error) as exc:
                raise budget.error(f"truncated or corrupt zip archive: {exc}") from None
            with archive:
                if any(n.endswith("/data.pkl") for n in archive.namelist()):
                    return _load_torch_zip(archive, budget)
                if _is_keras_archive(archive.namelist()):
                    _claim_keras_members(archive, budget)
                    return _load_keras_archive(budget.path, archive, lambda member: _load_hdf5(member, budget))
                return _load_npz(archive, budget)
        if head.startswith(_HDF5_MAGIC):
            return _load_hdf5(fh, budget)
        if head.startswith(_NPY_MAGIC):
            return {"arr_0": read_npy(fh, budget, "array 'arr_0'", size)}
        if len(head) >= 9 and head[8:9] == b"{":
            return _load_safetensors(fh, size, budget)
        if _looks_like_onnx(head):
            # the protobuf is parsed whole, then its tensors are copied out
            budget.claim("the ONNX model (parsed whole, its tensors copied)", 4 * size)
            return _load_onnx(budget.path)
        if head[:1] == b"\x80":
            raise budget.error(
                "legacy (non-zip) pickle format is not supported: re-save with a current "
                "torch.save, or as safetensors",
            )
        raise budget.error(
            "unknown format: expected a torch.save zip, safetensors, .npz/.npy, Keras HDF5 or .keras, "
            "or ONNX file"
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
        ``weights`` is not a mapping, or a tensor holds bools, objects or strings.
    ValueError
        Missing or unexpected tensors, wrong shapes (the message names the tensor
        and the expected vs. found shape), other wrong dtypes (complex, integer),
        ragged nested lists, NaN or Inf.

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
    if not isinstance(spec, Mapping) or not all(
        isinstance(shape, tuple)
        and all(e is None or (isinstance(e, (int, np.integer)) and not isinstance(e, bool) and e >= 0) for e in shape)
        for shape in spec.values()
    ):
        raise TypeError(f"spec must map tensor names to shape tuples of non-negative ints or None, got {spec!r}")
    if isinstance(optional, (str, bytes)) or not hasattr(optional, "__iter__"):
        raise TypeError(f"optional must be an iterable of tensor names, got {optional!r}")
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"kind must be a string of numpy dtype kinds such as 'f', got {kind!r}")
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
        try:
            arr = np.asarray(weights[k])
        except (TypeError, ValueError) as exc:  # ragged nested lists
            raise ValueError(f"{name}: tensor {k!r} is not a rectangular array ({exc})") from None
        if arr.dtype.kind not in kind:
            exc_type = TypeError if arr.dtype.kind in "bOUSV" else ValueError  # bool, or not numbers at all
            raise exc_type(f"{name}: tensor {k!r} has dtype {arr.dtype}, expected kind {kind!r}")
        if arr.ndim != len(shape) or any(e is not None and e != s for e, s in zip(shape, arr.shape)):
            raise ValueError(
                f"{name}: tensor {k!r} has shape {_fmt_shape(arr.shape)}, "
                f"expected {_fmt_shape(shape)}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}: tensor {k!r} contains NaN or Inf")
        out[k] = arr.astype(np.float64)
    return out
