"""EEGNet from an ONNX graph (a braindecode-layout EEGNet exported by ``torch.onnx.export``).

The exporter may fold the batch norms into the convolutions, and the folded
tensors then lose their names (``onnx::Conv_41``): what a tensor is can only be
read from the node that consumes it. So the reader walks the graph from its input
and matches EEGNet's operators in order::

    [shape ops] Conv [BatchNormalization] Conv [BatchNormalization] Elu AveragePool
    [Dropout] Conv Conv [BatchNormalization] Elu AveragePool [Dropout]
    head: Conv [Transpose/Gather/Squeeze/Reshape ...]  or  Flatten/Reshape Gemm | MatMul Add
    [Softmax/LogSoftmax]

taking kernels, biases, paddings, pooling sizes and epsilons from the nodes, never
from names. Convolution biases are folded as
:func:`~eegbin.nn.eegnet_params.params_from_layers` says. A final (log-)softmax is
allowed; :meth:`EEGNet.forward` returns the logits before it (same argmax).
"""

from __future__ import annotations

import numpy as np

from .eegnet_params import Affine, DenseHead, params_from_layers
from .layers import batchnorm_affine

__all__ = []

_SHAPE_OPS = ("Unsqueeze", "Transpose", "Reshape", "Squeeze", "Identity", "Flatten", "Gather")
_PASS_OPS = ("Dropout", "Identity")


class _Chain:
    """The operators of a single-path graph, read one by one."""

    def __init__(self, nodes):
        self.nodes, self.i = nodes, 0

    def _summary(self):
        ops = [n.op_type for n in self.nodes]
        return ", ".join(ops[:40]) + (" ..." if len(ops) > 40 else "")

    def peek(self):
        return self.nodes[self.i].op_type if self.i < len(self.nodes) else None

    def skip(self, ops):
        while self.peek() in ops:
            self.i += 1

    def take(self, op_type, role):
        if self.peek() != op_type:
            found = "the end of the graph" if self.peek() is None else (
                f"{self.peek()} (node {self.nodes[self.i].name!r})")
            raise ValueError(
                f"weights: the ONNX graph is not an EEGNet: expected {op_type} ({role}) at "
                f"operator {self.i}, found {found}; the graph runs {self._summary()}"
            )
        self.i += 1
        return self.nodes[self.i - 1]

    def maybe(self, op_type):
        return self.take(op_type, "") if self.peek() == op_type else None


def _chain(graph):
    """The operators on the path from the graph's input to its output."""
    if len(graph.inputs) != 1:
        raise ValueError(f"weights: the ONNX graph has {len(graph.inputs)} data inputs "
                         f"{[name for name, _ in graph.inputs]}, an EEGNet has one (the trials)")
    value, nodes = graph.inputs[0][0], []
    while value not in graph.outputs:
        readers = [n for n in graph.consumers(value) if n.op_type != "Shape"]
        if len(readers) != 1:
            raise ValueError(
                f"weights: the ONNX graph is not a chain: value {value!r} is read by "
                f"{[n.op_type for n in readers] or 'no operator'}"
            )
        nodes.append(readers[0])
        value = readers[0].outputs[0]
    return nodes


def _const(weights, node, index, role, shape=None):
    """Input ``index`` of ``node``, a tensor of the file (None if the input is omitted)."""
    if index >= len(node.inputs) or not node.inputs[index]:
        return None
    name = node.inputs[index]
    if name not in weights:
        raise ValueError(f"weights: the {role} of ONNX node {node.name!r} is computed in the graph "
                         f"({name!r}), not stored in the file")
    a = np.asarray(weights[name], dtype=np.float64)
    if shape is not None and (a.ndim != len(shape) or any(e is not None and e != s
                                                          for e, s in zip(shape, a.shape))):
        raise ValueError(f"weights: the {role} ({name!r}) has shape {a.shape}, expected "
                         + "(" + ", ".join("*" if e is None else str(e) for e in shape) + ")")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"weights: the {role} ({name!r}) contains NaN or Inf")
    return a


def _conv(weights, node, role, shape, group):
    a = node.attributes
    w = _const(weights, node, 1, f"{role} kernel", shape)
    n_groups = a.get("group", 1)
    if n_groups != group(w):
        raise ValueError(f"weights: the {role} (node {node.name!r}) has group={n_groups}, "
                         f"EEGNet's has {group(w)}")
    if any(v != 1 for v in a.get("strides", (1, 1)) + a.get("dilations", (1, 1))):
        raise ValueError(f"weights: the {role} (node {node.name!r}) has strides "
                         f"{a.get('strides')} / dilations {a.get('dilations')}, expected 1")
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise ValueError(f"weights: the {role} (node {node.name!r}) has auto_pad={a['auto_pad']!r}")
    pads = a.get("pads", (0, 0, 0, 0))
    if pads[0] or pads[2]:
        raise ValueError(f"weights: the {role} pads the channel axis ({pads})")
    bias = _const(weights, node, 2, f"{role} bias", (w.shape[0],))
    return w, bias, (int(pads[1]), int(pads[3]))


def _batchnorm(weights, node, n, setting):
    if node is None:
        return None
    if node.attributes.get("training_mode", 0):
        raise ValueError(f"weights: batch norm {node.name!r} was exported in training mode")
    gamma, beta, mean, var = (_const(weights, node, i, f"batch norm {p}", (n,))
                              for i, p in enumerate(("scale", "bias", "mean", "variance"), 1))
    eps = setting("batch_norm_eps", float(node.attributes.get("epsilon", 1e-5)), "the ONNX graph")
    return Affine(*batchnorm_affine(gamma, beta, mean, var, eps=eps))


def _elu_pool(chain, role, setting, name):
    elu = chain.take("Elu", f"ELU of the {role}")
    if elu.attributes.get("alpha", 1.0) != 1.0:
        raise ValueError(f"weights: ELU {elu.name!r} has alpha={elu.attributes['alpha']}, expected 1")
    pool = chain.take("AveragePool", f"pooling of the {role}")
    a = pool.attributes
    k = tuple(a.get("kernel_shape", ()))
    if (len(k) != 2 or k[0] != 1 or tuple(a.get("strides", (1, 1))) != k or any(a.get("pads", ()))
            or a.get("ceil_mode", 0)):
        raise ValueError(f"weights: pooling {pool.name!r} has kernel {k}, strides "
                         f"{a.get('strides')}, pads {a.get('pads')}: expected (1, p), stride p, "
                         "no padding, floor mode")
    chain.skip(_PASS_OPS)
    return setting(name, int(k[1]), "the ONNX graph")


def _head(weights, chain, F2):
    """DenseHead of the graph's classifier (a convolution, or flatten + Gemm / MatMul + Add)."""
    if chain.peek() == "Conv":
        node = chain.take("Conv", "classifier")
        w = _const(weights, node, 1, "classifier kernel", (None, F2, 1, None))
        b = _const(weights, node, 2, "classifier bias", (w.shape[0],))
        head = DenseHead(w.reshape(w.shape[0], -1), np.zeros(w.shape[0]) if b is None else b)
    else:
        chain.skip(_SHAPE_OPS)
        if chain.peek() == "Gemm":
            node = chain.take("Gemm", "classifier")
            a = node.attributes
            if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0):
                raise ValueError(f"weights: classifier Gemm {node.name!r} has attributes {a}")
            w = _const(weights, node, 1, "classifier weight", (None, None))
            w = w if a.get("transB", 0) else w.T
            b = _const(weights, node, 2, "classifier bias", None)
        else:
            node = chain.take("MatMul", "classifier (Gemm, MatMul or Conv)")
            w = _const(weights, node, 1, "classifier weight", (None, None)).T
            add = chain.maybe("Add")
            b = None if add is None else _const(
                weights, add, 1 if add.inputs[0] == node.outputs[0] else 0, "classifier bias", None)
        b = np.zeros(w.shape[0]) if b is None else np.broadcast_to(b, (w.shape[0],))
        head = DenseHead(w, b)
    chain.skip(_SHAPE_OPS)
    chain.maybe("Softmax") or chain.maybe("LogSoftmax")
    chain.skip(_SHAPE_OPS)
    if chain.peek() is not None:
        raise ValueError(f"weights: the ONNX graph goes on after EEGNet's classifier with "
                         f"{[n.op_type for n in chain.nodes[chain.i:]]}")
    return head


def _read_onnx(weights, setting):
    """:class:`~eegbin.nn.EEGNetParams` of an ONNX EEGNet graph.

    Parameters
    ----------
    weights : WeightDict
        An ONNX file read by :func:`eegbin.nn.load_weights` (tensors and ``graph``).
    setting : callable
        ``setting(name, recorded, source)``: checks the pooling sizes and epsilons the
        graph records against the caller's arguments.

    Returns
    -------
    EEGNetParams
    """
    chain = _Chain(_chain(weights.graph))
    chain.skip(_SHAPE_OPS)
    wt, bt, pad_t = _conv(weights, chain.take("Conv", "temporal convolution"),
                          "temporal convolution", (None, 1, 1, None), lambda w: 1)
    F1 = wt.shape[0]
    bn0 = _batchnorm(weights, chain.maybe("BatchNormalization"), F1, setting)
    ws, bs, _ = _conv(weights, chain.take("Conv", "spatial convolution"), "spatial convolution",
                      (None, 1, None, 1), lambda w: F1)
    F1D = ws.shape[0]
    bn1 = _batchnorm(weights, chain.maybe("BatchNormalization"), F1D, setting)
    pool1 = _elu_pool(chain, "spatial block", setting, "pool1_kernel_size")
    wd, bd, pad_d = _conv(weights, chain.take("Conv", "separable depthwise convolution"),
                          "separable depthwise convolution", (F1D, 1, 1, None), lambda w: F1D)
    wp, bp, _ = _conv(weights, chain.take("Conv", "separable pointwise convolution"),
                      "separable pointwise convolution", (None, F1D, 1, 1), lambda w: 1)
    F2 = wp.shape[0]
    bn2 = _batchnorm(weights, chain.maybe("BatchNormalization"), F2, setting)
    pool2 = _elu_pool(chain, "separable block", setting, "pool2_kernel_size")
    return params_from_layers(
        temporal=wt[:, 0, 0, :], spatial=ws[:, 0, :, 0], depth=wd[:, 0, 0, :], point=wp[:, :, 0, 0],
        head=_head(weights, chain, F2), pad_temporal=pad_t, pad_depth=pad_d, pool1=pool1,
        pool2=pool2, temporal_bias=bt, temporal_bn=bn0, spatial_bias=bs, spatial_bn=bn1,
        depth_bias=bd, point_bias=bp, separable_bn=bn2, layout="onnx",
    )
