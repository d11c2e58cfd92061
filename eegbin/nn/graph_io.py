"""Weight files that describe their network too: ONNX graphs and Keras 3 archives.

An ONNX file is a graph: its initializers are often unnamed (``onnx::Conv_41`` once
the exporter has folded batch norms into convolutions), and what a tensor is can
only be read from the node that consumes it. A Keras 3 ``.keras`` file is a zip of
``model.weights.h5`` (tensors at ``layers/<name>/vars/<i>``, in the order the layer
declares them) and ``config.json`` (each layer's class and settings). For both,
:func:`eegbin.nn.load_weights` returns a :class:`WeightDict`: the tensors, plus the
graph (:class:`OnnxGraph`) or the config (parsed JSON) as plain data, for the layout
readers (:func:`eegbin.nn.read_eegnet`, :func:`eegbin.nn.resolve_lstm_weights`).

Nothing is executed: the ONNX protobuf is parsed with the ``onnx`` package (no
runtime, no external data: a tensor stored outside the file is refused), the JSON
config is read as data and never deserialized into objects.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

__all__ = ["WeightDict", "OnnxGraph", "OnnxNode"]

#: largest config.json of a .keras archive read (an EEGNet's is ~10 kB)
_MAX_KERAS_CONFIG = 10_000_000
#: largest model.weights.h5 a .keras archive may declare (zip output stops at the declared size)
_MAX_KERAS_WEIGHTS = 1 << 30


class WeightDict(dict):
    """Tensors of a weight file (a dict of str to ndarray) and what it says of the network.

    Attributes
    ----------
    graph : OnnxGraph or None
        The nodes of an ONNX file (their inputs name the tensors of the dict).
    config : dict or None
        The model config of a Keras 3 ``.keras`` archive, as parsed JSON.
    """

    def __init__(self, tensors=(), *, graph=None, config=None):
        super().__init__(tensors)
        self.graph = graph
        self.config = config

    def __reduce__(self):
        return (type(self), (dict(self),), {"graph": self.graph, "config": self.config})


@dataclass(frozen=True)
class OnnxNode:
    """One operator of an ONNX graph.

    Parameters
    ----------
    op_type : str
        E.g. ``"Conv"``, ``"BatchNormalization"``, ``"LSTM"``.
    name : str
    inputs, outputs : tuple of str
        Value names; an input that is a tensor of the :class:`WeightDict` has its key.
        An omitted optional input is ``""``.
    attributes : dict
        Attribute values as Python ints, floats, strings, tuples or ndarrays.
    """

    op_type: str
    name: str
    inputs: tuple
    outputs: tuple
    attributes: dict


@dataclass(frozen=True)
class OnnxGraph:
    """The main graph of an ONNX model, as data.

    Parameters
    ----------
    nodes : tuple of OnnxNode
        In the file's (topological) order.
    inputs : tuple of (str, tuple)
        Graph inputs that are not tensors of the file: name and shape (None for a
        symbolic dimension such as the batch).
    outputs : tuple of str
    opset : int
        Version of the default ("ai.onnx") operator set.
    """

    nodes: tuple
    inputs: tuple
    outputs: tuple
    opset: int

    def consumers(self, value):
        """Nodes that read the value ``value``."""
        return [n for n in self.nodes if value in n.inputs]


def _bad(path, msg):
    return ValueError(f"weight file {os.fspath(path)!r}: {msg}")


def _looks_like_onnx(head):
    """True if ``head`` (the first bytes of a file) can start an ONNX ModelProto.

    Its first field is ``ir_version`` (field 1, varint: byte 0x08); no other format
    eegbin reads starts so.
    """
    return head[:1] == b"\x08"


def _attribute(attr, path):
    from onnx import AttributeProto

    kind = attr.type
    if kind == AttributeProto.INT:
        return int(attr.i)
    if kind == AttributeProto.FLOAT:
        return float(attr.f)
    if kind == AttributeProto.STRING:
        return attr.s.decode("utf-8", "replace")
    if kind == AttributeProto.INTS:
        return tuple(int(v) for v in attr.ints)
    if kind == AttributeProto.FLOATS:
        return tuple(float(v) for v in attr.floats)
    if kind == AttributeProto.STRINGS:
        return tuple(v.decode("utf-8", "replace") for v in attr.strings)
    if kind == AttributeProto.TENSOR:
        return _tensor(attr.t, f"attribute {attr.name!r}", path)
    # subgraphs (If/Loop/Scan bodies) and sparse tensors: nothing an EEGNet or LSTM needs
    return None


def _tensor(t, what, path):
    from onnx import TensorProto, helper, numpy_helper

    if t.data_location == TensorProto.EXTERNAL or len(t.external_data):
        raise _bad(path, f"{what} is stored outside the file (external data): refused")
    try:
        dtype = helper.tensor_dtype_to_np_dtype(t.data_type)
    except (KeyError, TypeError):
        raise _bad(path, f"{what} has an unknown data type {t.data_type}") from None
    if np.dtype(dtype).kind not in "biuf":
        raise _bad(path, f"{what} has non-numeric dtype {np.dtype(dtype)}")
    n = int(np.prod(t.dims, dtype=np.int64)) if len(t.dims) else 1
    if any(d < 0 for d in t.dims):
        raise _bad(path, f"{what} has negative dimensions {list(t.dims)}")
    if t.raw_data and len(t.raw_data) != n * np.dtype(dtype).itemsize:
        raise _bad(path, f"{what} of shape {list(t.dims)} holds {len(t.raw_data)} bytes, expected "
                         f"{n * np.dtype(dtype).itemsize} (truncated or corrupt file?)")
    try:
        return np.array(numpy_helper.to_array(t), copy=True)
    except (ValueError, TypeError) as exc:
        raise _bad(path, f"cannot read {what}: {exc}") from None


def _load_onnx(path):
    """Tensors and graph of an ONNX model file (:func:`eegbin.nn.load_weights` calls it).

    The initializers, the tensors of ``Constant`` nodes and the ``Identity`` copies of
    either become the entries of the returned :class:`WeightDict` (keyed by their value
    names), the nodes its ``graph``.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    WeightDict
    """
    try:
        import onnx
        from google.protobuf.message import DecodeError
    except ImportError:  # pragma: no cover - onnx is in the test extra
        raise ImportError("reading ONNX files needs the onnx package: pip install 'eegbin[onnx]'") from None
    try:
        model = onnx.load(os.fspath(path), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, OSError) as exc:
        raise _bad(path, f"not a valid ONNX model: {type(exc).__name__}: {exc}") from None
    g = model.graph
    if not len(g.node):
        raise _bad(path, "not an ONNX model (no graph nodes)")
    tensors = {}
    for init in g.initializer:
        if init.name in tensors:
            raise _bad(path, f"duplicate initializer name {init.name!r}")
        tensors[init.name] = _tensor(init, f"initializer {init.name!r}", path)
    nodes = []
    for node in g.node:
        attrs = {a.name: _attribute(a, path) for a in node.attribute}
        if node.op_type == "Constant" and len(node.output) == 1 and isinstance(attrs.get("value"), np.ndarray):
            tensors[node.output[0]] = attrs["value"]
        elif node.op_type == "Identity" and len(node.input) == 1 and node.input[0] in tensors:
            tensors[node.output[0]] = tensors[node.input[0]]  # torch shares equal tensors so
        nodes.append(OnnxNode(node.op_type, node.name, tuple(node.input), tuple(node.output), attrs))
    inputs = []
    for value in g.input:
        if value.name in tensors:
            continue
        dims = value.type.tensor_type.shape.dim
        inputs.append((value.name, tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)))
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    graph = OnnxGraph(tuple(nodes), tuple(inputs), tuple(o.name for o in g.output), int(opset))
    return WeightDict(tensors, graph=graph)


def _is_keras_archive(names):
    """True for the member list of a Keras 3 ``.keras`` zip."""
    return "model.weights.h5" in names and "config.json" in names


def _load_keras_archive(path, archive, load_hdf5):
    """Tensors and config of a Keras 3 ``.keras`` archive (:func:`load_weights` calls it).

    ``config.json`` is parsed as JSON data (never deserialized into Keras objects);
    ``model.weights.h5`` is read by ``load_hdf5`` (a function of a file object).

    Returns
    -------
    WeightDict
        Keys ``layers/<name>/vars/<i>``; ``config`` the parsed ``config.json``.
    """
    try:
        info = archive.getinfo("config.json")
        if info.file_size > _MAX_KERAS_CONFIG:
            raise _bad(path, f"config.json of {info.file_size} bytes is implausible")
        config = json.loads(archive.read(info).decode("utf-8"))
        member = archive.getinfo("model.weights.h5")
        if member.file_size > _MAX_KERAS_WEIGHTS:
            raise _bad(path, f"model.weights.h5 declares {member.file_size} bytes, more than "
                             f"{_MAX_KERAS_WEIGHTS}")
        weights = archive.read(member)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, UnicodeDecodeError,
            json.JSONDecodeError) as exc:
        raise _bad(path, f"truncated or corrupt .keras archive: {exc}") from None
    if not isinstance(config, dict):
        raise _bad(path, f"config.json must hold a JSON object, got {type(config).__name__}")
    return WeightDict(load_hdf5(io.BytesIO(weights)), config=config)
