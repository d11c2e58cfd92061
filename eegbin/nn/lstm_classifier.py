"""scikit-learn classifier around a torch-free LSTM (float, binarized, or as trained)."""

from __future__ import annotations

import copy
import numbers
import os

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..base import EpochsInputMixin
from ..docstrings import fill_doc
from ..footprint import Footprint
from ..kernels.checks import check_epochs
from .layers import _fit_softmax_head, softmax
from .learned import read_lstm_export
from .lstm import LSTM

__all__ = ["LSTMClassifier"]


def _pool(X, decimate, pooling):
    """(n, C, T) -> (n, C, T'): every ``decimate``-th sample, or the mean of windows of ``decimate``.

    The mean sums each window left to right and divides by ``decimate`` in the
    dtype of ``X``, as ``torch.nn.functional.avg_pool1d`` (trailing samples that do
    not fill a window are dropped).
    """
    if pooling == "pick" or decimate == 1:
        return X[:, :, ::decimate]
    n = X.shape[2] // decimate * decimate
    win = X[:, :, :n].reshape(X.shape[0], X.shape[1], n // decimate, decimate)
    acc = win[..., 0].copy()
    for j in range(1, decimate):
        acc += win[..., j]
    return acc / X.dtype.type(decimate)


def _n_pooled_steps(n_times, decimate, pooling):
    """Time steps :func:`_pool` leaves of ``n_times`` samples."""
    if pooling == "mean":
        return n_times // decimate
    return len(range(0, n_times, decimate))


def _sequences(X, net, scale, decimate, pooling):
    """The sequences (n_trials, n_steps, n_channels) ``net`` reads, in its ``input_dtype`` arithmetic.

    ``dtype(X * scale) / input_scale``, then pooling: for an export of
    :mod:`eegbin.train` the float32 operations of ``TorchEEGClassifier`` and
    ``LSTMNet.sequences``, so the input sign planes are bit-identical to training's.
    """
    dtype = net.input_dtype
    X = np.asarray(X if scale == 1.0 else X * scale, dtype=dtype)
    if net.input_scale != 1.0:
        X = X / dtype(net.input_scale)
    return np.ascontiguousarray(_pool(X, decimate, pooling).transpose(0, 2, 1))


def _network_head(net, n_classes):
    """Copies of the dense head ``(W, b)`` stored with ``net``, checked against ``n_classes``."""
    if net.params.head is None:
        raise ValueError("refit_head=False needs a network with a dense head")
    W, b = net.params.head
    if W.shape[0] != n_classes:
        raise ValueError(f"the dense head has {W.shape[0]} outputs but y has {n_classes} classes")
    return W.copy(), b.copy()


def _export_classes(path, meta, n_outputs):
    """The class labels an LSTM export records for its ``n_outputs`` head outputs (default: 0..n-1)."""
    if n_outputs is None:
        raise ValueError(f"{os.fspath(path)!r}: the export has no dense head")
    classes = meta.get("classes", list(range(n_outputs)))
    if not isinstance(classes, list) or len(classes) != n_outputs:
        raise ValueError(
            f"{os.fspath(path)!r}: metadata 'classes' must list the {n_outputs} classes of the head, "
            f"got {classes!r}"
        )
    return np.asarray(classes)


def _with_dense_head(fp, coef, intercept, float_bits):
    """``fp`` (a network's footprint) with its dense head replaced by ``coef``, ``intercept``."""
    parts = tuple(p for p in fp.parts if p.name != "dense head") + (
        Footprint("dense head", n_params=coef.size + intercept.size,
                  bits_per_param=float_bits, macs=coef.size),
    )
    return Footprint(f"LSTMClassifier: {fp.name}", parts=parts, note=fp.note)


@fill_doc
class LSTMClassifier(EpochsInputMixin, ClassifierMixin, BaseEstimator):
    """Classify MOABB epochs with a torch-free LSTM (float, B_LSTM, MuBiNN1/2, or as trained).

    Epochs ``X`` of shape (n_trials, n_channels, n_times) are read as sequences
    over time with the channels as the features of each step, as in MuBiNN
    Section V (32 features x 1300 time steps): the network sees the epochs
    multiplied by ``scale``, divided by the network's ``input_scale``, pooled in
    time by ``decimate`` and transposed to (n_trials, n_steps, n_channels), in the
    network's ``input_dtype`` (float32 for a network exported by
    :mod:`eegbin.train`, so its inputs are bit-identical to training's). The
    features are the last hidden state of the last layer.

    ``fit`` keeps the LSTM weights and re-fits only the dense head (a
    multinomial logistic regression on the features, the softmax dense layer),
    so the classifier can be cross-validated in a MOABB evaluation. With
    ``refit_head=False`` the network's own head is used and ``fit`` only
    records the classes (they must be as many as the head's outputs, in the
    order of ``np.unique(y)``).

    The network is one choice, each with its own parameters:

    - ``LSTM(weights, layout=..., key_map=..., gate_order=...)``: float
      (a dict of arrays or a weight file given as ``network`` means ``LSTM(network)``);
    - ``MultiLevelBinarizedLSTM(weights, A, W, mode="b_lstm" | "mubinn1" | "mubinn2")``:
      binarized after training (``fit`` fixes the static activation scales of mubinn2, and of
      mubinn1 with ``calibrate=True``, on the training epochs);
    - ``LearnedMultiLevelLSTM.from_export(path)``: a MuBiNN2 LSTM as trained by
      :mod:`eegbin.train`, with its learned sign planes and scales. :meth:`from_export`
      builds the whole classifier from such a file.

    Parameters
    ----------
    network : LSTM, MultiLevelBinarizedLSTM, LearnedMultiLevelLSTM, or dict / str / PathLike
        The network; weights (a dict of arrays or a weight file) are read as a float
        :class:`eegbin.nn.LSTM`.
    decimate : int, default=1
        Keep every ``decimate``-th time sample (``pooling="pick"``) or average
        non-overlapping windows of ``decimate`` samples (``pooling="mean"``).
    pooling : {"pick", "mean"}, default="pick"
        ``"mean"`` is ``torch.nn.functional.avg_pool1d(x, decimate)`` (trailing
        samples that do not fill a window are dropped), as
        :class:`eegbin.train.LSTMNet` ``downsample`` does in training.
    scale : float, default=1.0
        Multiplies the signal before the network (MOABB delivers volts; ``1e6``
        gives µV).
    calibrate : "auto" or bool, default="auto"
        In ``fit``, fix static activation scales from the training epochs
        (:meth:`MultiLevelBinarizedLSTM.calibrate`) on a copy of the network.
        ``"auto"``: when the network cannot run without them (a mubinn2
        :class:`MultiLevelBinarizedLSTM` not calibrated yet); ``True``: always
        (modes "mubinn1"/"mubinn2"; mubinn1 otherwise computes its scales per
        vector at inference); ``False``: never.
    refit_head : bool, default=True
        Re-fit the dense head in ``fit`` (else use the network's head).
    C : float, default=1.0
        Inverse L2 regularization of the re-fitted head.

    Attributes
    ----------
    net_ : LSTM, MultiLevelBinarizedLSTM or LearnedMultiLevelLSTM
        The network that runs (``network``, or its calibrated copy).
    classes_ : ndarray of shape (n_classes,)
    head_coef_ : ndarray of shape (n_classes, H)
    head_intercept_ : ndarray of shape (n_classes,)
    n_features_in_ : int
        Number of channels.
    n_times_in_ : int or None
        Number of time samples seen in ``fit`` (:meth:`from_export`: the
        training epochs' length recorded in the export, None if absent).

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin import LSTMClassifier
    >>> from eegbin.nn import MultiLevelBinarizedLSTM
    >>> rng = np.random.default_rng(0)
    >>> w = {"weight_ih_l0": rng.normal(size=(16, 3)), "weight_hh_l0": rng.normal(size=(16, 4)),
    ...      "bias_ih_l0": np.zeros(16), "bias_hh_l0": np.zeros(16)}
    >>> X, y = rng.normal(size=(20, 3, 30)), np.arange(20) % 2
    >>> clf = LSTMClassifier(MultiLevelBinarizedLSTM(w, mode="mubinn2")).fit(X, y)
    >>> clf.predict_proba(X).shape, clf.transform(X).shape
    ((20, 2), (20, 4))
    >>> LSTMClassifier(w).fit(X, y).net_.footprint().name   # weights: a float LSTM
    'LSTM'

    References
    ----------
    MuBiNN, Section III (LSTM), Section IV-C (MuBiNN2, learned scales),
    Section V (network: one LSTM layer and a dense layer; EEG features x time
    steps).
    """

    _parameter_constraints = {
        "network": [LSTM, dict, str, os.PathLike],
        "decimate": [Interval(numbers.Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"pick", "mean"})],
        "scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "calibrate": [StrOptions({"auto"}), "boolean"],
        "refit_head": ["boolean"],
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(self, network, decimate=1, pooling="pick", scale=1.0, calibrate="auto", refit_head=True, C=1.0):
        self.network = network
        self.decimate = decimate
        self.pooling = pooling
        self.scale = scale
        self.calibrate = calibrate
        self.refit_head = refit_head
        self.C = C

    # -- helpers --------------------------------------------------------------
    def _check_X(self, X, reset):
        X = check_epochs(X, n_channels=None if reset else self.n_features_in_,
                         n_times=None if reset else self.n_times_in_,
                         estimator="LSTMClassifier", min_times=self.decimate)
        if reset:
            self.n_features_in_ = X.shape[1]
            self.n_times_in_ = X.shape[2]
        return X

    def _sequences(self, X):
        return _sequences(X, self.net_, self.scale, self.decimate, self.pooling)

    def _calibrates(self, net):
        if self.calibrate == "auto":
            return bool(getattr(net, "needs_calibration", False))
        return bool(self.calibrate)

    def _build_net(self):
        net = self.network
        if not isinstance(net, LSTM):
            return LSTM(net)
        return copy.deepcopy(net) if self._calibrates(net) else net

    @classmethod
    def from_export(cls, path):
        """A ready-to-predict classifier from a file written by :func:`eegbin.train.export`.

        The one call to deploy an LSTM trained by :class:`eegbin.train.TorchEEGClassifier`
        (``model="lstm"``) without torch: the network, pooling (``decimate`` =
        trained ``downsample``, ``pooling="mean"``), input scale, dense head and
        classes come from the file. A MuBiNN2 model runs with its learned sign
        planes and scales (:class:`LearnedMultiLevelLSTM`), a float LSTM as
        :class:`LSTM`; both predict what the torch model predicts. The returned
        classifier is fitted (``refit_head=False``); ``fit(X, y)`` refits it
        from the network (changing nothing but the classes), and ``clone`` works.

        Parameters
        ----------
        path : str or PathLike
            The ``.safetensors`` file (the ``.pt`` companion has no metadata).

        Returns
        -------
        LSTMClassifier

        Raises
        ------
        ValueError
            Not an eegbin LSTM export, or its quantization metadata is missing,
            incomplete or inconsistent (the message names the entry).

        Examples
        --------
        >>> import numpy as np, tempfile, pathlib
        >>> from eegbin.train import TorchEEGClassifier, export  # doctest: +SKIP
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.normal(size=(16, 3, 40)) * 1e-5, np.arange(16) % 2
        >>> params = {"hidden_size": 8, "downsample": 2, "quantize": "mubinn2",
        ...           "activation_levels": 2, "weight_levels": 2}
        >>> torch_clf = TorchEEGClassifier("lstm", model_params=params, max_epochs=2).fit(X, y)  # doctest: +SKIP
        >>> path, _ = export(torch_clf, pathlib.Path(tempfile.mkdtemp()) / "m.safetensors")  # doctest: +SKIP
        >>> clf = LSTMClassifier.from_export(path)  # doctest: +SKIP
        >>> type(clf.network).__name__, clf.decimate  # doctest: +SKIP
        ('LearnedMultiLevelLSTM', 2)
        >>> bool((clf.predict(X) == torch_clf.predict(X)).all())  # doctest: +SKIP
        True

        References
        ----------
        MuBiNN, Algorithm 1, eq. (9), Section IV-C (MuBiNN2, learned scales).
        """
        net, meta = read_lstm_export(path)
        clf = cls(net, decimate=meta["hparams"].get("downsample", 1), pooling="mean", refit_head=False)
        clf._validate_params()
        clf.net_ = net
        clf.classes_ = _export_classes(path, meta, net.n_outputs)
        clf.head_coef_, clf.head_intercept_ = _network_head(net, len(clf.classes_))
        clf.n_features_in_ = net.input_size
        clf.n_times_in_ = meta.get("n_times")
        return clf

    # -- sklearn API ------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Build the network and fit the dense head on the last hidden states.

        Parameters
        ----------
        X : ndarray of shape (n_trials, n_channels, n_times)
            Epochs (finite); the time axis is the recurrence.
        %(y_trials)s

        %(returns_self)s
        """
        X = self._check_X(X, reset=True)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"y must be 1-D with {len(X)} labels, got shape {y.shape}")
        check_classification_targets(y)
        self.net_ = self._build_net()
        if self.net_.input_size != X.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} channels, but the LSTM weights expect {self.net_.input_size} input features"
            )
        if self._calibrates(self.net_):
            if not callable(getattr(self.net_, "calibrate", None)):
                raise ValueError(
                    "calibrate=True needs a network with activation scales to calibrate "
                    f"(MultiLevelBinarizedLSTM, mode 'mubinn1' or 'mubinn2'), got {type(self.net_).__name__}"
                )
            self.net_.calibrate(self._sequences(X))
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"y must hold at least 2 classes, got {len(self.classes_)}")
        if self.refit_head:
            head = _fit_softmax_head(self.net_.features(self._sequences(X)), y, self.C)
        else:
            head = _network_head(self.net_, len(self.classes_))
        self.head_coef_, self.head_intercept_ = head
        return self

    def transform(self, X):
        """Last hidden state of the last LSTM layer, shape (n_trials, H)."""
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        return self.net_.features(self._sequences(X))

    def decision_function(self, X):
        """Head logits, shape (n_trials, n_classes)."""
        return self.transform(X) @ self.head_coef_.T + self.head_intercept_

    def predict_proba(self, X):
        """Softmax of the head logits, shape (n_trials, n_classes)."""
        return softmax(self.decision_function(X))

    def predict(self, X):
        """Most probable class per trial."""
        scores = self.decision_function(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def footprint(self, float_bits=32):
        """Footprint of the network for sequences of ``n_times_in_ / decimate`` steps."""
        check_is_fitted(self)
        if self.n_times_in_ is None:
            raise ValueError(
                "the sequence length is unknown (the export does not record n_times): call "
                "fit(X, y) first, or use net_.footprint(n_times=...)"
            )
        n_steps = _n_pooled_steps(self.n_times_in_, self.decimate, self.pooling)
        fp = self.net_.footprint(float_bits=float_bits, n_times=n_steps)
        return _with_dense_head(fp, self.head_coef_, self.head_intercept_, float_bits)
