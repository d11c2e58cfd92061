"""Hostile weight files against every loader that takes a path (issue 17, section 4).

Each case is a file a careless or hostile user could hand to eegbin: memory bombs
(a stride-0 view, deflate bombs in torch and ``.npz`` archives, an HDF5 dataset
never written, ``.npy`` headers claiming 40000 x 40000, a pickle memo bomb, one
storage viewed many times), code-executing pickles, truncated files, paths that
are not regular files, HDF5 external links and storage, deeply nested pickles and
headers, overlapping views and unreadable compression. Every loader of
:data:`LOADERS` runs on every case (on the one valid "cpu" case, the two that read
it differently) in its own child process (forked from a
forkserver that imported eegbin once) under a memory cap (``RLIMIT_AS``: the
child's address space + 1 GiB) and a CPU-time limit (``RLIMIT_CPU``: 60 s); a
hang that burns no CPU (a FIFO) is caught by a wall-clock guard far above any
passing run. Each must end with a ``ValueError``/``TypeError`` that names the
file, run no code, and grow the peak resident memory by less than
``PEAK_SLACK`` + twice the file's size.

The same module measures the loaders of another eegbin checkout (``measure``):
the before/after figures of the issue come from it.
"""

from __future__ import annotations

import bz2
import json
import multiprocessing
import os
import pickle
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

# ---------------------------------------------------------------------------
# crafted files (no torch needed: the torch layout is written by hand and
# checked against torch.load where torch is installed)
# ---------------------------------------------------------------------------

_CHUNK = 1 << 20
_ZERO_CHUNK = bytes(_CHUNK)


def _pkl_int(v):
    if 0 <= v < 256:
        return b"K" + bytes([v])
    if 0 <= v < 65536:
        return b"M" + struct.pack("<H", v)
    if -(2**31) <= v < 2**31:
        return b"J" + struct.pack("<i", v)
    raw = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def _pkl_str(s):
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _pkl_tuple(items):
    return b"(" + b"".join(items) + b"t"


def _pkl_tensor(key, numel, size, stride, offset=0, storage="FloatStorage"):
    """The opcodes torch.save (protocol 2) writes for one tensor."""
    pid = _pkl_tuple([_pkl_str("storage"), b"ctorch\n" + storage.encode() + b"\n", _pkl_str(key),
                      _pkl_str("cpu"), _pkl_int(numel)])
    return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + b"Q" + _pkl_int(offset)
            + _pkl_tuple([_pkl_int(s) for s in size]) + _pkl_tuple([_pkl_int(s) for s in stride])
            + b"\x89ccollections\nOrderedDict\n)RtR")


def _pkl_state_dict(entries):
    """``{name: tensor}`` from ``[(name, tensor opcodes)]``."""
    return b"\x80\x02}(" + b"".join(_pkl_str(k) + t for k, t in entries) + b"u."


class _Deflated:
    """``prefix`` then ``n_chunks`` MiB of zeros, deflated without compressing them all.

    The compressed form of one zero MiB, ended by a full flush (which resets the
    compressor), is computed once and repeated: a genuine deflate stream whose
    CRC and sizes are those of the whole member.
    """

    def __init__(self, prefix, n_chunks):
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
        self.block = c.compress(_ZERO_CHUNK) + c.flush(zlib.Z_FULL_FLUSH)
        assert c.compress(_ZERO_CHUNK) + c.flush(zlib.Z_FULL_FLUSH) == self.block
        self.tail = c.flush()
        self.n_chunks = n_chunks
        crc = zlib.crc32(prefix)
        for _ in range(n_chunks):
            crc = zlib.crc32(_ZERO_CHUNK, crc)
        self.crc = crc
        self.size = len(prefix) + n_chunks * _CHUNK
        self.csize = len(self.head) + n_chunks * len(self.block) + len(self.tail)

    def write(self, fh):
        fh.write(self.head)
        for _ in range(self.n_chunks):
            fh.write(self.block)
        fh.write(self.tail)


def _write_zip(path, members):
    """A zip of ``[(name, bytes | _Deflated | ("bz2", bytes, size))]`` (stored, deflated, bzip2)."""
    central = []
    with open(path, "wb") as fh:
        for name, data in members:
            offset = fh.tell()
            raw_name = name.encode()
            if isinstance(data, _Deflated):
                method, crc, csize, size = 8, data.crc, data.csize, data.size
            elif isinstance(data, tuple):
                method, (_, payload, size, crc) = 12, data
                csize = len(payload)
            else:
                method, crc, csize, size = 0, zlib.crc32(data), len(data), len(data)
            common = struct.pack("<HHHHIII", 0, method, 0, 0x21, crc, csize, size)
            fh.write(struct.pack("<IH", 0x04034B50, 46) + common + struct.pack("<HH", len(raw_name), 0) + raw_name)
            if isinstance(data, _Deflated):
                data.write(fh)
            elif isinstance(data, tuple):
                fh.write(data[1])
            else:
                fh.write(data)
            central.append(struct.pack("<IHH", 0x02014B50, 46, 46) + common
                           + struct.pack("<HHHHHII", len(raw_name), 0, 0, 0, 0, 0, offset) + raw_name)
        start = fh.tell()
        directory = b"".join(central)
        fh.write(directory)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), start, 0))
    return path


def _torch_zip(path, pkl, storages=(), byteorder="little"):
    """The layout of torch.save: ``archive/data.pkl``, ``archive/data/<key>``, ``byteorder``, ``version``."""
    members = [("archive/data.pkl", pkl), ("archive/byteorder", byteorder.encode())]
    members += [(f"archive/data/{key}", data) for key, data in storages]
    members.append(("archive/version", b"3\n"))
    return _write_zip(path, members)


def _npy_header(shape, descr="<f8"):
    """A version 1.0 ``.npy`` header (magic included), padded like numpy's."""
    return _npy_header_text(repr({"descr": descr, "fortran_order": False, "shape": tuple(shape)}))


def _npy_header_text(text):
    body = text.encode("latin1")
    pad = 64 - (10 + len(body) + 1) % 64
    body += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body


class _Reduce:
    """Pickles as ``func(*args)``: the classic code-execution payload."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


# -- the cases -----------------------------------------------------------------
# Each builder writes its file into ``d`` and returns its path; ``sentinel`` is a
# path that a payload would create if it ran.


def bomb_torch_stride0(d, sentinel):
    """torch.zeros(1).expand(40000, 40000): 1 stored float, 6.4 GB once expanded."""
    pkl = _pkl_state_dict([("w", _pkl_tensor("0", 1, (40000, 40000), (0, 0)))])
    return _torch_zip(d / "stride0.pt", pkl, [("0", np.zeros(1, "<f4").tobytes())])


def bomb_torch_deflate(d, sentinel):
    """A 2.2 GB float32 storage of zeros, deflated to about 2 MB."""
    n_chunks = 2100
    numel = n_chunks * _CHUNK // 4
    pkl = _pkl_state_dict([("w", _pkl_tensor("0", numel, (numel,), (1,)))])
    return _torch_zip(d / "deflate.pt", pkl, [("0", _Deflated(b"", n_chunks))])


def bomb_torch_shared_storage(d, sentinel):
    """One deflated 32 MiB storage viewed by 48 tensors: 1.5 GiB once each is copied."""
    numel = 32 * _CHUNK // 4
    pkl = _pkl_state_dict([(f"w{i}", _pkl_tensor("0", numel, (numel,), (1,))) for i in range(48)])
    return _torch_zip(d / "shared.pt", pkl, [("0", _Deflated(b"", 32))])


def bomb_pickle_memo(d, sentinel):
    """data.pkl of 12 bytes whose memo index 2**28 - 1 makes CPython allocate a 4 GB memo."""
    pkl = b"\x80\x02}r\xff\xff\xff\x0f."
    return _torch_zip(d / "memo.pt", pkl)


def bomb_hdf5_fill(d, sentinel):
    """A chunked 40000 x 40000 float32 dataset never written: 4.5 KB, 6.4 GB of fill values."""
    h5py = pytest.importorskip("h5py")
    with h5py.File(d / "fill.h5", "w") as f:
        f.create_dataset("model_weights/dense/kernel:0", shape=(40000, 40000), dtype="f4", chunks=(1000, 1000))
    return d / "fill.h5"


def bomb_npz_deflate(d, sentinel):
    """An .npz member of 2.6 GB of float64 zeros, deflated to about 2.5 MB."""
    n_chunks = 2480
    header = _npy_header((n_chunks * _CHUNK // 8,))
    return _write_zip(d / "deflate.npz", [("w.npy", _Deflated(header, n_chunks))])


def bomb_npy_header(d, sentinel):
    """A bare .npy whose header claims 40000 x 40000 float64 (12.8 GB) over 64 bytes."""
    path = d / "claim.npy"
    path.write_bytes(_npy_header((40000, 40000)) + bytes(64))
    return path


def bomb_npz_header(d, sentinel):
    """The same header claim inside an .npz member."""
    return _write_zip(d / "claim.npz", [("w.npy", _npy_header((40000, 40000)) + bytes(64))])


def bomb_npz_bzip2(d, sentinel):
    """An .npz member compressed with bzip2: 64 MiB of zeros in 200 bytes (zipfile bounds no bzip2 read)."""
    n = 64 * _CHUNK
    body = _npy_header((n // 8,))
    comp = bz2.BZ2Compressor(9)
    payload = comp.compress(body)
    crc = zlib.crc32(body)
    for _ in range(64):
        payload += comp.compress(_ZERO_CHUNK)
        crc = zlib.crc32(_ZERO_CHUNK, crc)
    payload += comp.flush()
    return _write_zip(d / "bzip2.npz", [("w.npy", ("bz2", payload, len(body) + n, crc))])


def bomb_zip_many_members(d, sentinel):
    """An .npz of 40000 one-element members (a quadratic scan of its names took minutes)."""
    one = _npy_header((1,)) + bytes(8)
    return _write_zip(d / "many.npz", [(f"w{i}.npy", one) for i in range(40000)])


def bomb_safetensors_claim(d, sentinel):
    """A safetensors header claiming a 12.8 GB tensor over 8 bytes of data."""
    header = json.dumps({"w": {"dtype": "F64", "shape": [40000, 40000], "data_offsets": [0, 12_800_000_000]}})
    path = d / "claim.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header.encode() + bytes(8))
    return path


def bomb_keras_deflate(d, sentinel):
    """A Keras 3 .keras archive whose model.weights.h5 declares 2.1 GB, deflated to 2 MB."""
    config = json.dumps({"class_name": "Sequential", "config": {"layers": []}}).encode()
    return _write_zip(d / "deflate.keras", [("config.json", config),
                                            ("model.weights.h5", _Deflated(b"\x89HDF\r\n\x1a\n", 2000))])


def bomb_keras_hdf5_fill(d, sentinel):
    """A .keras archive whose model.weights.h5 holds a 40000 x 40000 dataset never written."""
    h5py = pytest.importorskip("h5py")
    with h5py.File(d / "model.weights.h5", "w") as f:
        f.create_dataset("layers/dense/vars/0", shape=(40000, 40000), dtype="f4", chunks=(1000, 1000))
    config = json.dumps({"class_name": "Sequential", "config": {"layers": []}}).encode()
    return _write_zip(d / "fill.keras", [("config.json", config),
                                         ("model.weights.h5", (d / "model.weights.h5").read_bytes())])


def bomb_onnx_dims(d, sentinel):
    """An ONNX initializer whose dims claim 40000 x 40000 float32 over 8 bytes of raw data."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[40000, 40000], raw_data=bytes(8))
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])], initializer=[t])
    onnx.save(helper.make_model(graph), d / "dims.onnx")
    return d / "dims.onnx"


def _payloads(sentinel):
    import builtins
    import subprocess

    cmd = f"touch {sentinel}"
    code = f"open({str(sentinel)!r}, 'w').close()"
    return {
        "os.system": pickle.dumps({"w": _Reduce(os.system, (cmd,))}, protocol=2),
        "builtins.eval": pickle.dumps({"w": _Reduce(builtins.eval, (code,))}, protocol=2),
        "builtins.exec": pickle.dumps(_Reduce(builtins.exec, (code,)), protocol=4),
        "subprocess.call": pickle.dumps({"w": _Reduce(subprocess.call, (["touch", str(sentinel)],))}),
        "posix.system (protocol 0)": b"(S'" + cmd.encode() + b"'\nios\nsystem\n.",
    }


def _code_zip(kind):
    def build(d, sentinel):
        return _torch_zip(d / "evil.pt", _payloads(sentinel)[kind])

    build.__doc__ = f"a torch zip whose data.pkl calls {kind}"
    build.__name__ = "torch_zip_" + kind.split(" ")[0].replace(".", "_")
    return build


def code_legacy_pickle(d, sentinel):
    """A legacy (non-zip) torch file: a bare pickle calling os.system."""
    path = d / "legacy.pt"
    path.write_bytes(_payloads(sentinel)["os.system"])
    return path


def code_protocol0_pickle(d, sentinel):
    """A bare protocol-0 pickle calling os.system."""
    path = d / "proto0.pt"
    path.write_bytes(_payloads(sentinel)["posix.system (protocol 0)"])
    return path


def code_npz_object_array(d, sentinel):
    """An .npz whose object array pickles an os.system call."""
    arr = np.empty(1, dtype=object)
    arr[0] = _Reduce(os.system, (f"touch {sentinel}",))
    np.savez(d / "object.npz", w=arr)
    return d / "object.npz"


def code_npy_object_array(d, sentinel):
    """A bare .npy object array pickling an os.system call."""
    arr = np.empty(1, dtype=object)
    arr[0] = _Reduce(os.system, (f"touch {sentinel}",))
    np.save(d / "object.npy", arr)
    return d / "object.npy"


def code_in_rebuild_args(d, sentinel):
    """A payload nested inside otherwise valid tensor rebuild arguments."""
    inner = pickle.dumps(_Reduce(os.system, (f"touch {sentinel}",)), protocol=2)
    pkl = b"\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n" + inner[2:-1] + b"\x85Rs."
    return _torch_zip(d / "evil_args.pt", pkl)


def _valid_files(d):
    """One small valid file per format: ``{suffix: path}``."""
    w = np.arange(600, dtype="<f4")
    out = {
        "pt": _torch_zip(d / "ok.pt", _pkl_state_dict([("w", _pkl_tensor("0", 600, (20, 30), (30, 1)))]),
                         [("0", w.tobytes())]),
    }
    np.savez(d / "ok.npz", w=w.reshape(20, 30))
    out["npz"] = d / "ok.npz"
    np.save(d / "ok.npy", w)
    out["npy"] = d / "ok.npy"
    header = json.dumps({"w": {"dtype": "F32", "shape": [20, 30], "data_offsets": [0, w.nbytes]}}).encode()
    (d / "ok.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + w.tobytes())
    out["safetensors"] = d / "ok.safetensors"
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is in the test extra
        return out
    with h5py.File(d / "ok.h5", "w") as f:
        f["model_weights/dense/dense/kernel:0"] = w.reshape(20, 30)
    out["h5"] = d / "ok.h5"
    return out


def _truncated(suffix, where):
    def build(d, sentinel):
        raw = _valid_files(d)[suffix].read_bytes()
        cut = {"half": len(raw) // 2, "end": len(raw) - 7}[where]
        path = d / f"cut_{where}.{suffix}"
        path.write_bytes(raw[:cut])
        return path

    build.__doc__ = f"a valid .{suffix} file cut at its {where}"
    build.__name__ = f"cut_{suffix}_{where}"
    return build


def path_directory(d, sentinel):
    """A directory."""
    (d / "weights.pt").mkdir()
    return d / "weights.pt"


def path_fifo(d, sentinel):
    """A FIFO with no writer (opening it for reading blocks)."""
    os.mkfifo(d / "fifo.pt")
    return d / "fifo.pt"


def path_dev_zero(d, sentinel):
    """A symlink to /dev/zero (endless zeros)."""
    os.symlink("/dev/zero", d / "zero.npz")
    return d / "zero.npz"


def path_missing(d, sentinel):
    """A path that does not exist."""
    return d / "missing.pt"


def path_dangling_symlink(d, sentinel):
    """A symlink to nothing."""
    os.symlink(d / "nowhere", d / "dangling.pt")
    return d / "dangling.pt"


def path_empty(d, sentinel):
    """An empty file."""
    (d / "empty.pt").write_bytes(b"")
    return d / "empty.pt"


def hdf5_external_link(d, sentinel):
    """model_weights is an external link to another HDF5 file."""
    h5py = pytest.importorskip("h5py")
    other = _valid_files(d)["h5"]
    with h5py.File(d / "extlink.h5", "w") as f:
        f["model_weights"] = h5py.ExternalLink(str(other), "/model_weights")
    return d / "extlink.h5"


def hdf5_nested_external_link(d, sentinel):
    """A group deep inside model_weights links to another file."""
    h5py = pytest.importorskip("h5py")
    other = _valid_files(d)["h5"]
    with h5py.File(d / "extlink2.h5", "w") as f:
        f["model_weights/dense/bias:0"] = np.zeros(3, np.float32)
        f["model_weights/other"] = h5py.ExternalLink(str(other), "/model_weights/dense")
    return d / "extlink2.h5"


def hdf5_external_storage(d, sentinel):
    """A dataset whose raw data lives in /dev/zero (HDF5 external storage)."""
    h5py = pytest.importorskip("h5py")
    with h5py.File(d / "extstore.h5", "w") as f:
        f.create_dataset("model_weights/w", shape=(1000,), dtype="f8",
                         external=[("/dev/zero", 0, h5py.h5f.UNLIMITED)])
    return d / "extstore.h5"


def hdf5_virtual_dataset(d, sentinel):
    """A virtual dataset mapping a dataset of another file."""
    h5py = pytest.importorskip("h5py")
    other = _valid_files(d)["h5"]
    layout = h5py.VirtualLayout(shape=(20, 30), dtype="f4")
    layout[:] = h5py.VirtualSource(str(other), "model_weights/dense/dense/kernel:0", shape=(20, 30))
    with h5py.File(d / "virtual.h5", "w") as f:
        f.create_virtual_dataset("model_weights/w", layout)
    return d / "virtual.h5"


def nested_pickle_tuple_key(d, sentinel):
    """data.pkl: a dict keyed by a tuple nested 10**6 deep (hashing it overflowed the C stack)."""
    n = 10**6
    pkl = b"\x80\x02}N" + b"\x85" * n + b"Ns."
    return _torch_zip(d / "nested_key.pt", pkl)


def nested_pickle_list(d, sentinel):
    """data.pkl: a value that is a list nested 10**5 deep."""
    n = 10**5
    pkl = b"\x80\x02}X\x01\x00\x00\x00w" + b"]" * n + b"a" * (n - 1) + b"s."
    return _torch_zip(d / "nested_list.pt", pkl)


def nested_safetensors_header(d, sentinel):
    """A safetensors header that is a JSON array nested 10**5 deep."""
    header = b"{" + b'"w": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    path = d / "nested.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    return path


def nested_npy_header(d, sentinel):
    """An .npy header whose shape is nested parentheses."""
    path = d / "nested.npy"
    deep_shape = "(" * 3000 + ")" * 3000
    path.write_bytes(_npy_header_text("{'descr': '<f8', 'fortran_order': False, 'shape': " + deep_shape + "}"))
    return path


def view_overlapping(d, sentinel):
    """A 3 x 3 tensor with strides (1, 1) over a storage of 5 elements (rows overlap)."""
    pkl = _pkl_state_dict([("w", _pkl_tensor("0", 5, (3, 3), (1, 1)))])
    return _torch_zip(d / "overlap.pt", pkl, [("0", np.arange(5, dtype="<f4").tobytes())])


def malformed_storage_size(d, sentinel):
    """A storage member shorter than its persistent id says."""
    pkl = _pkl_state_dict([("w", _pkl_tensor("0", 1000, (1000,), (1,)))])
    return _torch_zip(d / "short.pt", pkl, [("0", bytes(400))])


CASES = {
    "bomb": [bomb_torch_stride0, bomb_torch_deflate, bomb_torch_shared_storage, bomb_pickle_memo,
             bomb_hdf5_fill, bomb_npz_deflate, bomb_npy_header, bomb_npz_header, bomb_npz_bzip2,
             bomb_safetensors_claim, bomb_keras_deflate, bomb_keras_hdf5_fill, bomb_onnx_dims],
    # a valid file whose names were scanned in quadratic time: it must load, in linear time
    # (load_weights and BinaryKeyValueMemory, which had its own np.load path, are run)
    "cpu": [bomb_zip_many_members],
    "code": [*(_code_zip(k) for k in _payloads("x")), code_legacy_pickle, code_protocol0_pickle,
             code_npz_object_array, code_npy_object_array, code_in_rebuild_args],
    "truncated": [_truncated(s, w) for s in ("pt", "npz", "npy", "safetensors", "h5") for w in ("half", "end")],
    "path": [path_directory, path_fifo, path_dev_zero, path_missing, path_dangling_symlink, path_empty],
    "hdf5-external": [hdf5_external_link, hdf5_nested_external_link, hdf5_external_storage, hdf5_virtual_dataset],
    "nested": [nested_pickle_tuple_key, nested_pickle_list, nested_safetensors_header, nested_npy_header],
    "malformed": [view_overlapping, malformed_storage_size],
}


def _case_ids():
    return [f"{cls}:{b.__name__}" for cls, builders in CASES.items() for b in builders]


# ---------------------------------------------------------------------------
# the loaders: every public entry point that takes a path
# ---------------------------------------------------------------------------


def _xy(n_chans=4, n_times=128):
    X = np.random.default_rng(0).standard_normal((8, n_chans, n_times))
    return X, np.arange(8) % 2


def _load_weights(path):
    from eegbin.nn import load_weights

    return load_weights(path)


def _eegnet(path):
    from eegbin.nn import EEGNet

    return EEGNet(path)


def _eegnet_classifier(path):
    from eegbin.nn import EEGNetClassifier

    return EEGNetClassifier(path, n_chans=4, n_times=128, sfreq=128.0).fit(*_xy())


def _lstm(path):
    from eegbin.nn import LSTM

    return LSTM(path)


def _mubinn_lstm(path):
    from eegbin.nn import MultiLevelBinarizedLSTM

    return MultiLevelBinarizedLSTM(path)


def _lstm_classifier(path):
    from eegbin.nn import LSTMClassifier

    return LSTMClassifier(path).fit(*_xy())


def _lstm_classifier_from_export(path):
    from eegbin.nn import LSTMClassifier

    return LSTMClassifier.from_export(path)


def _learned_lstm_from_export(path):
    from eegbin.nn import LearnedMultiLevelLSTM

    return LearnedMultiLevelLSTM.from_export(path)


def _read_export_metadata(path):
    from eegbin.nn import read_export_metadata

    return read_export_metadata(path)


def _train_read_metadata(path):
    from eegbin.train import read_export_metadata

    return read_export_metadata(path)


def _key_value_memory(path):
    from eegbin import BinaryKeyValueMemory

    X, y = _xy()
    return BinaryKeyValueMemory(projection="learned", projection_weights=path, n_components=8).fit(X[:, 0, :6], y)


LOADERS = {
    "load_weights": _load_weights,
    "EEGNet": _eegnet,
    "EEGNetClassifier.fit": _eegnet_classifier,
    "LSTM": _lstm,
    "MultiLevelBinarizedLSTM": _mubinn_lstm,
    "LSTMClassifier.fit": _lstm_classifier,
    "LSTMClassifier.from_export": _lstm_classifier_from_export,
    "LearnedMultiLevelLSTM.from_export": _learned_lstm_from_export,
    "read_export_metadata": _read_export_metadata,
    "train.read_export_metadata": _train_read_metadata,
    "BinaryKeyValueMemory.fit": _key_value_memory,
}


# ---------------------------------------------------------------------------
# isolation: a forkserver child per (loader, file), capped
# ---------------------------------------------------------------------------

#: Peak resident growth allowed to a refused file, besides twice its size.
PEAK_SLACK = 64 << 20


def _proc_status(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)  # pragma: no cover


def _child(loader, path, extra_as, cpu_s, conn):
    import resource

    if extra_as is not None:
        cap = _proc_status("VmSize") + extra_as
        resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, resource.getrlimit(resource.RLIMIT_CPU)[1]))
    rss0 = _proc_status("VmRSS")
    with open("/proc/self/clear_refs", "w") as fh:  # reset the peak (VmHWM) to the current RSS
        fh.write("5")
    cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    try:
        LOADERS[loader](path)
        kind, msg = "ok", ""
    except BaseException as exc:  # noqa: BLE001 - every outcome is reported
        kind, msg = type(exc).__name__, str(exc)[:3000]
    peak = _proc_status("VmHWM") - rss0
    conn.send((kind, msg, peak, sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu0))
    conn.close()


_CONTEXT = None


def _context():
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        preload = [__name__, "eegbin", "eegbin.nn", "eegbin.binary"]
        for optional in ("h5py", "torch"):
            try:
                __import__(optional)
                preload.append(optional)
            except ImportError:  # pragma: no cover
                pass
        ctx.set_forkserver_preload(preload)
        _CONTEXT = ctx
    return _CONTEXT


def run_isolated(loader, path, extra_as=1 << 30, cpu_s=60, hang_s=300):
    """``(outcome, message, peak bytes, CPU seconds)`` of ``LOADERS[loader](path)`` in a capped child.

    ``outcome`` is the exception type name, ``"ok"``, ``"crash"`` (the child died,
    e.g. a segfault or SIGXCPU) or ``"hang"`` (no answer within ``hang_s`` seconds,
    a guard for waits that burn no CPU; a passing run takes well under a second).
    """
    ctx = _context()
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(loader, str(path), extra_as, cpu_s, send))
    proc.start()
    send.close()
    try:
        if recv.poll(hang_s):
            try:
                return recv.recv()
            except EOFError:
                proc.join()
                return "crash", f"the child died with exit code {proc.exitcode}", None, None
        proc.kill()
        return "hang", f"no answer in {hang_s} s", None, None
    finally:
        proc.join(30)
        recv.close()


# ---------------------------------------------------------------------------
# the suite
# ---------------------------------------------------------------------------

_ALL = [(cls, b) for cls, builders in CASES.items() for b in builders]


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


@pytest.mark.parametrize("cls, build", _ALL, ids=_case_ids())
def test_every_loader_refuses_within_bounds(case_dir, cls, build):
    d = case_dir / f"{cls}_{build.__name__}"
    d.mkdir()
    sentinel = d / "pwned"
    path = build(d, sentinel)
    size = path.stat().st_size if path.is_file() else 0
    failures = []
    for loader in LOADERS:
        if loader == "train.read_export_metadata" and "torch" not in sys.modules:
            continue  # eegbin.train needs torch (the same reader as read_export_metadata)
        if cls == "cpu" and loader not in ("load_weights", "BinaryKeyValueMemory.fit"):
            continue  # a valid file: the other loaders read it through load_weights too
        kind, msg, peak, _ = run_isolated(loader, path)
        if cls == "cpu":  # valid tensors: load_weights reads them, a model refuses their names
            if kind != ("ok" if loader == "load_weights" else "ValueError"):
                failures.append(f"{loader}: {kind}: {msg[:300]}")
        elif kind not in ("ValueError", "TypeError"):
            failures.append(f"{loader}: {kind}: {msg[:300]}")
        elif path.name not in msg:
            failures.append(f"{loader}: the message does not name the file: {msg[:300]}")
        if peak is not None and peak > PEAK_SLACK + 2 * size:
            failures.append(f"{loader}: peak memory grew by {peak / 2**20:.0f} MiB ({msg[:200]})")
        if sentinel.exists():
            failures.append(f"{loader}: the payload ran")
    assert not failures, "\n".join(failures)


def test_bombs_name_the_tensor_and_its_size(case_dir):
    """The refusals of load_weights say which tensor claims how much."""
    from eegbin.nn import load_weights

    d = case_dir / "named"
    d.mkdir()
    expect = {
        bomb_torch_stride0: r"tensor 'w' is an overlapping view .* to 1,600,000,000 \(6,400,000,000 bytes",
        bomb_torch_deflate: r"tensor 'w' \(storage '0'\) claims 2,202,009,600 bytes .*max_bytes",
        bomb_npz_deflate: r"tensor 'w' \(325058560 float64\) claims 2,600,468,480 bytes",
        bomb_npy_header: r"array 'arr_0' claims shape \(40000, 40000\) float64 = 12,800,000,000 bytes",
        bomb_safetensors_claim: r"tensors cover 12,800,000,000 bytes of data \(up to the end of tensor 'w'\)",
        bomb_pickle_memo: r"data.pkl refused: memo index 268435455",
        view_overlapping: r"tensor 'w' is an overlapping view of storage '0' \(size \(3, 3\), stride \(1, 1\)\)",
    }
    h5py = pytest.importorskip("h5py")
    assert h5py
    expect[bomb_hdf5_fill] = r"dataset 'dense/kernel:0' \(40000 x 40000 float32\) claims 6,400,000,000 bytes"
    for build, pattern in expect.items():
        path = build(d, d / "pwned")
        with pytest.raises(ValueError, match=pattern):
            load_weights(path)


def test_max_bytes_is_the_one_knob(case_dir):
    """A file refused at the default loads when max_bytes allows it; the count is exact."""
    from eegbin.nn import load_weights

    d = case_dir / "knob"
    d.mkdir()
    path = d / "w.npz"
    np.savez(path, a=np.ones((100, 100)), b=np.ones(10, np.float32))
    assert set(load_weights(path, max_bytes=80_040)) == {"a", "b"}
    with pytest.raises(ValueError, match=r"tensor 'b' \(10 float32\) claims 40 bytes \(after 80,000 bytes"):
        load_weights(path, max_bytes=80_039)
    assert load_weights(path, max_bytes=None)["a"].shape == (100, 100)
    for bad in (-1, 1.5, True, "1GB"):
        with pytest.raises(ValueError, match="max_bytes must be a non-negative int"):
            load_weights(path, max_bytes=bad)


def test_crafted_torch_layout_is_what_torch_loads(case_dir):
    """The hand-written torch zip of this suite is the real format: torch.load reads it."""
    torch = pytest.importorskip("torch")
    from eegbin.nn import load_weights

    d = case_dir / "crafted"
    d.mkdir()
    path = _valid_files(d)["pt"]
    ref = torch.load(path, weights_only=True)
    np.testing.assert_array_equal(load_weights(path)["w"], ref["w"].numpy())
    pkl = _pkl_state_dict([("t", _pkl_tensor("0", 12, (3, 2), (1, 3), offset=2))])
    path = _torch_zip(d / "strided.pt", pkl, [("0", np.arange(12, dtype="<f4").tobytes())])
    np.testing.assert_array_equal(load_weights(path)["t"], torch.load(path, weights_only=True)["t"].numpy())


def test_deflate_bomb_builder_is_a_genuine_zip(case_dir):
    """zipfile reads the repeated-block deflate stream, with its CRC, as the zeros it claims."""
    d = case_dir / "genuine"
    d.mkdir()
    path = _write_zip(d / "z.npz", [("w.npy", _Deflated(_npy_header((3 * _CHUNK // 8,)), 3))])
    with zipfile.ZipFile(path) as z:
        raw = z.read("w.npy")
    assert raw[:6] == b"\x93NUMPY" and not any(raw[128:]) and len(raw) == 128 + 3 * _CHUNK
    arr = np.load(path)["w"]
    assert arr.shape == (3 * _CHUNK // 8,) and not arr.any()


# ---------------------------------------------------------------------------
# before/after figures (not a test): python -c "import ...; measure(...)"
# ---------------------------------------------------------------------------


def measure(out_dir, builders=None, loaders=("load_weights",), extra_as=None, hang_s=120):
    """Print ``case, size, loader, outcome, peak MiB, CPU s`` for the eegbin importable from the cwd.

    Run from a checkout's root (``cd <checkout> && python -c ...``) so that its
    eegbin is imported; ``extra_as=None`` measures without a memory cap.
    """
    import eegbin

    print(f"# eegbin from {eegbin.__file__}", flush=True)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for build in builders or CASES["bomb"]:
        d = out_dir / build.__name__
        d.mkdir(exist_ok=True)
        path = build(d, d / "pwned")
        for loader in loaders:
            kind, msg, peak, cpu = run_isolated(loader, path, extra_as=extra_as, hang_s=hang_s)
            peak_txt = "-" if peak is None else f"{peak / 2**20:.1f} MiB"
            cpu_txt = "-" if cpu is None else f"{cpu:.2f} s"
            size = path.stat().st_size if path.is_file() else 0
            print(f"{build.__name__}\t{size}\t{loader}\t{kind}\t{peak_txt}\t{cpu_txt}\t{msg[:160]}", flush=True)
            rows.append((build.__name__, size, loader, kind, peak, cpu, msg))
    return rows
