"""Safe weight loading: torch zip, safetensors, npz, HDF5; malicious pickles refused."""

import os
import pickle
import zipfile

import numpy as np
import pytest

from eegbin.nn import check_weights, load_weights
from tests.nn.test_weight_files import _payloads, _Reduce


def _torch_like_zip(path, pkl_bytes, storages=None, prefix="archive"):
    """A zip laid out like torch.save's: <prefix>/data.pkl, <prefix>/data/<key>."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", pkl_bytes)
        z.writestr(f"{prefix}/byteorder", "little")
        for key, raw in (storages or {}).items():
            z.writestr(f"{prefix}/data/{key}", raw)
        z.writestr(f"{prefix}/version", "3\n")
    return path


def _rewrite_zip(src, dst, edit_pkl=None, keep=lambda name: True):
    """Copy a torch.save archive, editing data.pkl's bytes and/or dropping members."""
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist() if keep(n)}
    if edit_pkl is not None:
        name = [n for n in members if n.endswith("data.pkl")][0]
        members[name] = edit_pkl(members[name])
    with zipfile.ZipFile(dst, "w") as z:
        for n, raw in members.items():
            z.writestr(n, raw)
    return dst


def test_payload_is_live(tmp_path):
    """The crafted os.system payload does execute under plain pickle (so the test below means something)."""
    sentinel = tmp_path / "pwned_plain"
    pickle.loads(_payloads(sentinel)["os.system"])
    assert sentinel.exists()


@pytest.mark.parametrize("kind", list(_payloads("x")))
def test_malicious_pickle_refused_without_executing(tmp_path, kind):
    sentinel = tmp_path / "pwned"
    path = _torch_like_zip(tmp_path / "evil.pt", _payloads(sentinel)[kind])
    with pytest.raises(ValueError, match="refused to load global"):
        load_weights(path)
    assert not sentinel.exists()


def test_payload_hidden_in_rebuild_args_refused(tmp_path):
    """A payload nested inside otherwise valid-looking tensor rebuild arguments."""
    sentinel = tmp_path / "pwned"
    inner = pickle.dumps(_Reduce(os.system, (f"touch {sentinel}",)), protocol=2)
    # GLOBAL torch._utils._rebuild_tensor_v2 then the payload as its first argument
    pkl = (b"\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n"
           + inner[2:-1] + b"\x85R" + b"s.")
    path = _torch_like_zip(tmp_path / "evil.pt", pkl)
    with pytest.raises(ValueError, match="refused"):
        load_weights(path)
    assert not sentinel.exists()


def test_unknown_persistent_id_refused(tmp_path):
    pkl = b"\x80\x02}X\x01\x00\x00\x00wX\x03\x00\x00\x00abcQs."
    with pytest.raises(ValueError, match="persistent id"):
        load_weights(_torch_like_zip(tmp_path / "p.pt", pkl))


def test_storage_out_of_bounds_refused(tmp_path):
    torch = pytest.importorskip("torch")
    t = torch.arange(6, dtype=torch.float32)
    torch.save({"w": t}, tmp_path / "ok.pt")
    # rewrite the stored size so the view would read past the storage
    _rewrite_zip(tmp_path / "ok.pt", tmp_path / "bad.pt",
                 lambda pkl: pkl.replace(b"K\x06\x85", b"K\x09\x85", 1))
    with pytest.raises(ValueError, match="reads element"):
        load_weights(tmp_path / "bad.pt")


def test_torch_state_dict_roundtrip(tmp_path):
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    base = torch.randn(5, 7, generator=g)
    sd = {
        "f32": torch.randn(3, 4, generator=g),
        "transposed": base.t(),                 # non-contiguous strides
        "slice": base[1:4, 2:6],                # offset + strides into a shared storage
        "f64": torch.randn(2, 3, dtype=torch.float64, generator=g),
        "f16": torch.randn(4, generator=g).half(),
        "bf16": torch.randn(4, generator=g).bfloat16(),
        "i64": torch.arange(5),
        "i32": torch.arange(3, dtype=torch.int32),
        "u8": torch.arange(3, dtype=torch.uint8),
        "bool": torch.tensor([True, False]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
    }
    bn = torch.nn.BatchNorm2d(3)
    sd.update({f"bn.{k}": v for k, v in bn.state_dict().items()})
    torch.save(sd, tmp_path / "sd.pt")
    got = load_weights(tmp_path / "sd.pt")
    assert set(got) == set(sd)
    for k, v in sd.items():
        ref = v.float().numpy() if v.dtype == torch.bfloat16 else v.numpy()
        assert got[k].dtype == ref.dtype, k
        assert got[k].shape == ref.shape, k
        np.testing.assert_array_equal(got[k], ref)
    # a module state_dict (OrderedDict with _metadata) and a checkpoint wrapper
    lin = torch.nn.Linear(3, 2)
    torch.save({"epoch": 3, "state_dict": lin.state_dict()}, tmp_path / "ckpt.pth")
    got = load_weights(tmp_path / "ckpt.pth")
    np.testing.assert_array_equal(got["weight"], lin.weight.detach().numpy())
    # a training checkpoint: optimizer tensors beside the state dict (was refused as
    # "duplicate keys overwrote tensors")
    opt = torch.optim.Adam(lin.parameters())
    lin(torch.ones(1, 3)).sum().backward()
    opt.step()
    torch.save({"epoch": 1, "state_dict": lin.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "full.pth")
    got = load_weights(tmp_path / "full.pth")
    assert set(got) == {"weight", "bias"}
    np.testing.assert_array_equal(got["bias"], lin.bias.detach().numpy())
    # nn.Parameter values go through torch._utils._rebuild_parameter
    torch.save({"p": torch.nn.Parameter(torch.ones(2))}, tmp_path / "param.pt")
    np.testing.assert_array_equal(load_weights(tmp_path / "param.pt")["p"], np.ones(2, np.float32))


def test_torch_not_imported(tmp_path):
    """Loading runs in a fresh interpreter where torch never gets imported."""
    import subprocess
    import sys

    np.savez(tmp_path / "w.npz", w=np.ones(2))
    pkl = pickle.dumps({"a": 1})
    _torch_like_zip(tmp_path / "x.pt", pkl)
    code = (
        "import sys; from eegbin.nn import load_weights\n"
        f"load_weights({str(tmp_path / 'w.npz')!r})\n"
        "try:\n"
        f"    load_weights({str(tmp_path / 'x.pt')!r})\n"
        "except ValueError: pass\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.getcwd())


def test_non_tensor_entries_refused(tmp_path):
    pkl = pickle.dumps({"a": 1}, protocol=2)
    with pytest.raises(ValueError, match="'a' is a int, not a numeric tensor"):
        load_weights(_torch_like_zip(tmp_path / "x.pt", pkl))
    with pytest.raises(ValueError, match="expected a state dict"):
        load_weights(_torch_like_zip(tmp_path / "y.pt", pickle.dumps([1, 2], protocol=2)))


def test_duplicate_keys_detected(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"aa": torch.ones(2), "bb": torch.zeros(2)}, tmp_path / "d.pt")
    _rewrite_zip(tmp_path / "d.pt", tmp_path / "dup.pt", lambda pkl: pkl.replace(b"bb", b"aa"))
    with pytest.raises(ValueError, match="duplicate keys"):
        load_weights(tmp_path / "dup.pt")


def test_truncated_and_wrong_files(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.randn(100, 100)}, tmp_path / "full.pt")
    raw = (tmp_path / "full.pt").read_bytes()
    for cut in (10, len(raw) // 2, len(raw) - 30):
        (tmp_path / "cut.pt").write_bytes(raw[:cut])
        with pytest.raises(ValueError, match="cut.pt"):
            load_weights(tmp_path / "cut.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        load_weights(tmp_path / "empty.pt")
    (tmp_path / "text.pt").write_text("hello, I am not weights\n")
    with pytest.raises(ValueError, match="unknown format"):
        load_weights(tmp_path / "text.pt")
    (tmp_path / "legacy.pt").write_bytes(pickle.dumps({"w": 1}, protocol=2))
    with pytest.raises(ValueError, match="legacy"):
        load_weights(tmp_path / "legacy.pt")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(ValueError, match="neither"):
        load_weights(tmp_path / "other.zip")
    with pytest.raises(ValueError, match="does not exist"):
        load_weights(tmp_path / "missing.pt")
    with pytest.raises(TypeError, match="path"):
        load_weights(3)


def test_missing_storage_member(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(3)}, tmp_path / "a.pt")
    _rewrite_zip(tmp_path / "a.pt", tmp_path / "b.pt", keep=lambda name: "/data/" not in name)
    with pytest.raises(ValueError, match="missing"):
        load_weights(tmp_path / "b.pt")


def test_safetensors(tmp_path):
    from safetensors.numpy import save_file

    w = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(4, np.float64)}
    save_file(w, str(tmp_path / "w.safetensors"))
    got = load_weights(tmp_path / "w.safetensors")
    for k in w:
        np.testing.assert_array_equal(got[k], w[k])
    raw = (tmp_path / "w.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(raw[:-5])
    with pytest.raises(ValueError, match="safetensors"):
        load_weights(tmp_path / "cut.safetensors")
    # duplicate names in the JSON header
    import struct

    header = (b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
              b'"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}')
    (tmp_path / "dup.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4)
    with pytest.raises(ValueError, match="duplicate tensor name 'a'"):
        load_weights(tmp_path / "dup.safetensors")


def test_npz(tmp_path):
    np.savez(tmp_path / "w.npz", a=np.ones((2, 2)), b=np.arange(3))
    got = load_weights(tmp_path / "w.npz")
    assert set(got) == {"a", "b"}
    np.savez(tmp_path / "o.npz", a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        load_weights(tmp_path / "o.npz")


def test_hdf5_keras_layout(tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "w.h5", "w") as f:
        g = f.create_group("model_weights/dense/dense")
        g["kernel:0"] = np.ones((3, 2), np.float32)
        g["bias:0"] = np.zeros(2, np.float32)
    got = load_weights(tmp_path / "w.h5")
    assert set(got) == {"dense/dense/kernel:0", "dense/dense/bias:0"}
    raw = (tmp_path / "w.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(raw[: len(raw) // 3])
    with pytest.raises(ValueError, match="cut.h5"):
        load_weights(tmp_path / "cut.h5")


def test_check_weights():
    spec = {"conv.weight": (8, 1, 1, 64), "fc.bias": (None,)}
    ok = {"conv.weight": np.zeros((8, 1, 1, 64), np.float32), "fc.bias": np.zeros(4)}
    out = check_weights(ok, spec)
    assert out["conv.weight"].dtype == np.float64
    with pytest.raises(ValueError, match=r"'conv.weight' has shape \(8, 1, 1, 32\), expected \(8, 1, 1, 64\)"):
        check_weights({**ok, "conv.weight": np.zeros((8, 1, 1, 32))}, spec)
    with pytest.raises(ValueError, match=r"missing tensor 'fc.bias' \(expected shape \(\*,\)\)"):
        check_weights({"conv.weight": ok["conv.weight"]}, spec)
    with pytest.raises(ValueError, match="unexpected tensors"):
        check_weights({**ok, "typo.weight": np.zeros(1)}, spec)
    assert set(check_weights({**ok, "n": np.zeros(())}, spec, optional=["n"])) == set(spec)
    with pytest.raises(ValueError, match="dtype int64"):
        check_weights({**ok, "fc.bias": np.zeros(4, np.int64)}, spec)
    with pytest.raises(ValueError, match="NaN"):
        check_weights({**ok, "fc.bias": np.full(4, np.nan)}, spec)
    with pytest.raises(TypeError, match="weights must be a mapping"):
        check_weights([1], spec)
    # arguments that raised messages naming nothing (issue 17)
    with pytest.raises(TypeError, match="spec must map tensor names to shape tuples"):
        check_weights(ok, [("fc.bias", (4,))])
    with pytest.raises(TypeError, match="spec must map"):
        check_weights(ok, {"fc.bias": 4})
    with pytest.raises(TypeError, match="optional must be an iterable of tensor names"):
        check_weights(ok, spec, optional="fc.bias")
    with pytest.raises(TypeError, match="kind must be a string"):
        check_weights(ok, spec, kind=3)
    with pytest.raises(ValueError, match="cannot be opened: embedded null byte"):
        load_weights("a\0b.pt")


# ---------------------------------------------------------------------------
# formats and bounded reading (issue 17): oracles are torch, safetensors, numpy
# ---------------------------------------------------------------------------


def test_torch_shared_storages_and_protocols(tmp_path):
    """Tied weights stay one array; views of one storage are copies; any pickle protocol."""
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(1)
    base = torch.randn(6, 4, generator=g)
    tied = torch.randn(3, 5, generator=g)
    sd = {"a": tied, "b": tied, "row": base[2], "col": base[:, 1], "whole": torch.randn(7, generator=g)}
    for protocol in (2, 4, 5):
        torch.save(sd, tmp_path / "s.pt", pickle_protocol=protocol)
        got = load_weights(tmp_path / "s.pt")
        for k, v in sd.items():
            np.testing.assert_array_equal(got[k], v.numpy())
        assert got["a"] is got["b"]  # one tensor under two names, as torch keeps it
        assert not np.shares_memory(got["row"], got["col"])
        assert all(v.flags.writeable for v in got.values())


def test_torch_big_endian_and_bfloat16_storages(tmp_path):
    from tests.nn.test_weight_files import _pkl_state_dict, _pkl_tensor, _torch_zip

    ref = np.arange(6, dtype=np.float64).reshape(2, 3) - 2.5
    pkl = _pkl_state_dict([("w", _pkl_tensor("0", 6, (2, 3), (3, 1), storage="DoubleStorage"))])
    path = _torch_zip(tmp_path / "be.pt", pkl, [("0", ref.astype(">f8").tobytes())], byteorder="big")
    got = load_weights(path)["w"]
    assert got.dtype == np.float64 and got.dtype.isnative
    np.testing.assert_array_equal(got, ref)
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(torch.load(path, weights_only=True)["w"].numpy(), ref)
    bf = torch.tensor([1.5, -2.0, 3.140625], dtype=torch.bfloat16)
    torch.save({"bf": bf}, tmp_path / "bf.pt")
    np.testing.assert_array_equal(load_weights(tmp_path / "bf.pt")["bf"], bf.float().numpy())


def test_npy_and_npz_variants(tmp_path):
    """Bare .npy (key arr_0), Fortran order, big-endian, compressed .npz: as numpy reads them."""
    a = np.arange(12, dtype=">i4").reshape(3, 4)
    f = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.save(tmp_path / "a.npy", a)
    got = load_weights(tmp_path / "a.npy")
    assert list(got) == ["arr_0"] and got["arr_0"].dtype == np.dtype("=i4")
    np.testing.assert_array_equal(got["arr_0"], a)
    np.savez_compressed(tmp_path / "c.npz", a=a, f=f, s=np.float32(2.5), e=np.zeros((0, 3)))
    got = load_weights(tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz") as ref:
        for k in ref.files:
            np.testing.assert_array_equal(got[k], ref[k])
            assert got[k].shape == ref[k].shape
    np.save(tmp_path / "u.npy", np.array(["text"]))
    with pytest.raises(ValueError, match="only numeric"):
        load_weights(tmp_path / "u.npy")


def test_safetensors_reader_agrees_with_the_library(tmp_path):
    """Our reader (no safetensors package needed) against safetensors.numpy on every dtype."""
    from safetensors.numpy import load_file, save_file

    rng = np.random.default_rng(0)
    w = {f"t_{np.dtype(d).name}": (rng.standard_normal((3, 4)) * 10).astype(d)
         for d in ("f8", "f4", "f2", "i8", "i4", "i2", "i1", "u8", "u4", "u2", "u1", "?")}
    w["scalar"] = np.array(1.5, dtype=np.float32)
    w["empty"] = np.zeros((0, 2), dtype=np.float32)
    save_file(w, str(tmp_path / "w.safetensors"), metadata={"k": "v"})
    got, ref = load_weights(tmp_path / "w.safetensors"), load_file(str(tmp_path / "w.safetensors"))
    assert set(got) == set(ref)
    for k in ref:
        assert got[k].dtype == ref[k].dtype and got[k].shape == ref[k].shape, k
        np.testing.assert_array_equal(got[k], ref[k])


def _safetensors(path, entries, data):
    import json
    import struct

    header = json.dumps(entries).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


@pytest.mark.parametrize("entries, size, match", [
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
      "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, 12, "without gaps or overlaps"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, 12, "starts at byte 4"),
    ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, 8, "span 8 bytes"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, 12, "cover 8 bytes"),
    ({"a": {"dtype": "X99", "shape": [1], "data_offsets": [0, 8]}}, 8, "dtype 'X99'"),
    ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, 4, "non-negative ints"),
    ({"a": [1, 2]}, 0, "expected {dtype, shape, data_offsets}"),
])
def test_safetensors_malformed_headers(tmp_path, entries, size, match):
    """Refused by us (with the reason) and by the safetensors library (the oracle)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = _safetensors(tmp_path / "m.safetensors", entries, bytes(size))
    with pytest.raises(ValueError, match=match):
        load_weights(path)
    with pytest.raises((SafetensorError, ValueError, TypeError, KeyError)):
        load_file(str(path))


def test_safetensors_complex_refused(tmp_path):
    """Complex tensors are valid safetensors but not real weights: refused, like .npy and torch."""
    path = _safetensors(tmp_path / "c.safetensors", {"a": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}},
                        bytes(8))
    with pytest.raises(ValueError, match="dtype 'C64'; expected one of"):
        load_weights(path)


def test_safetensors_bfloat16_widened(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    t = torch.tensor([[0.5, -1.25], [3.0, 1e-3]], dtype=torch.bfloat16)
    save_file({"t": t}, str(tmp_path / "bf.safetensors"))
    np.testing.assert_array_equal(load_weights(tmp_path / "bf.safetensors")["t"], t.float().numpy())


def test_hdf5_scalar_empty_and_soft_links(tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "w.h5", "w") as f:
        f["model_weights/s"] = np.float32(2.0)
        f["model_weights/e"] = np.zeros((0, 4), np.float32)
        f["model_weights/k"] = np.ones((2, 2), ">f8")
        f["model_weights/alias"] = h5py.SoftLink("/model_weights/k")  # read once, under its own name
    got = load_weights(tmp_path / "w.h5")
    assert set(got) == {"s", "e", "k"}
    assert got["s"].shape == () and got["s"] == 2.0 and got["e"].shape == (0, 4)
    np.testing.assert_array_equal(got["k"], np.ones((2, 2)))


def test_pickle_preflight():
    """check_pickle accepts what picklers write and refuses memo abuse, depth and garbage."""
    from eegbin.nn._bounded import MAX_PICKLE_DEPTH, ReadBudget, check_pickle

    budget = ReadBudget("x.pt")
    obj = {"a": [1, 2.5, "s", (3, None)], "b": {"c": b"raw"}, "shared": None}
    obj["shared"] = obj["a"]
    for protocol in range(6):
        check_pickle(pickle.dumps(obj, protocol=protocol), budget)
    deep = []
    for _ in range(MAX_PICKLE_DEPTH):  # [] is depth 0, [[]] depth 1, ...
        deep = [deep]
    check_pickle(pickle.dumps(deep, protocol=2), budget)
    for protocol in (0, 2, 5):
        with pytest.raises(ValueError, match=f"nested more than {MAX_PICKLE_DEPTH} deep"):
            check_pickle(pickle.dumps([[], deep], protocol=protocol), ReadBudget("x.pt"))
        key = ()
        for _ in range(MAX_PICKLE_DEPTH):
            key = (key,)
        with pytest.raises(ValueError, match="nested more than"):  # a dict keyed by it
            check_pickle(pickle.dumps({key: 1}, protocol=protocol), ReadBudget("x.pt"))
    with pytest.raises(ValueError, match="memo index 4294967295"):
        check_pickle(b"\x80\x02}r\xff\xff\xff\xff.", ReadBudget("x.pt"))
    with pytest.raises(ValueError, match="read before it is written"):
        check_pickle(b"\x80\x02h\x05.", ReadBudget("x.pt"))
    with pytest.raises(ValueError, match="not a valid pickle|refused"):
        check_pickle(b"\x80\x02\xff.", ReadBudget("x.pt"))
    with pytest.raises(ValueError, match="values\\) claims"):
        check_pickle(pickle.dumps(list(range(1000)), protocol=2), ReadBudget("x.pt", max_bytes=1000))


def test_is_dense_view_never_admits_overlap():
    """Every view it accepts touches distinct elements (brute force), and torch's own views pass."""
    from itertools import product

    from eegbin.nn._bounded import is_dense_view

    rng = np.random.default_rng(0)
    for _ in range(2000):
        ndim = int(rng.integers(1, 4))
        size = tuple(int(s) for s in rng.integers(1, 5, ndim))
        stride = tuple(int(s) for s in rng.integers(0, 13, ndim))
        offsets = [sum(i * s for i, s in zip(idx, stride)) for idx in product(*map(range, size))]
        if is_dense_view(size, stride):
            assert len(set(offsets)) == len(offsets), (size, stride)
    assert is_dense_view((4, 3), (1, 4))        # a transpose
    assert is_dense_view((2, 3), (12, 2))       # a strided slice
    assert is_dense_view((1, 5), (0, 1))        # stride of a length-1 axis is free
    assert not is_dense_view((3, 3), (1, 1))
    assert not is_dense_view((40000, 40000), (0, 0))


def test_paths_that_are_not_regular_files(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    os.symlink("/dev/zero", tmp_path / "zero")
    for name, kind in (("fifo", "FIFO"), ("dir", "directory"), ("zero", "character device")):
        with pytest.raises(ValueError, match=f"is a {kind}"):
            load_weights(tmp_path / name)


def test_memory_error_never_escapes(tmp_path, monkeypatch):
    """Whatever runs out of memory inside a read, the caller gets a ValueError naming the file."""
    from eegbin.nn import _bounded

    np.savez(tmp_path / "w.npz", w=np.ones(3))

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(_bounded, "read_npy_data", no_memory)
    monkeypatch.setattr("eegbin.nn.io.read_npy_data", no_memory)
    with pytest.raises(ValueError, match="w.npz': not enough memory"):
        load_weights(tmp_path / "w.npz")
