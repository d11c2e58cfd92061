"""scikit-learn classifier around a trained (optionally binarized) LSTM."""

from __future__ import annotations

import numbers
import os

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._validation import check_epochs
from ..footprint import Footprint
from .learned import LearnedMultiLevelLSTM, read_export_metadata
from .lstm import LSTM
from .mubinn import MultiLevelBinarizedLSTM

__all__ = ["LSTMClassifier"]


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class LSTMClassifier(ClassifierMixin, BaseEstimator):
    """Classify MOABB epochs with a trained LSTM (float, B_LSTM, MuBiNN1 or MuBiNN2).

    Epochs ``X`` of shape (n_trials, n_channels, n_times) are read as sequences
    over time with the channels as the features of each step, as in MuBiNN
    Section V (32 features x 1300 time steps): the network sees
    ``X[:, :, ::decimate].transpose(0, 2, 1) * scale``. ``decimate`` keeps one
    sample in ``decimate`` (shorter sequences, as the LSTM was trained);
    ``scale`` converts units (MOABB delivers volts; ``scale=1e6`` gives µV).
    The features are the last hidden state of the last layer.

    ``fit`` keeps the LSTM weights and re-fits only the dense head (a
    multinomial logistic regression on the features, the softmax dense layer),
    so the classifier can be cross-validated in a MOABB evaluation. With
    ``refit_head=False`` the weight file's own head is used and ``fit`` only
    records the classes (they must be as many as the head's outputs, in the
    order of ``np.unique(y)``).

    A model trained and exported by :mod:`eegbin.train` loads in one call,
    :meth:`from_export`, ready to predict: for MuBiNN2 it uses the learned
    codes and scales (``binarization="learned"``) and gives the torch model's
    predictions.

    Parameters
    ----------
    weights : dict of str to ndarray, or str / PathLike
        LSTM (+ dense head) weights, see :class:`eegbin.nn.LSTM`.
    mode : {"float", "b_lstm", "mubinn1", "mubinn2"}, default="float"
        Float inference or a binarized network (:class:`eegbin.nn.MultiLevelBinarizedLSTM`).
    activation_levels, weight_levels : int, default=3
        Levels A and W of the binarized modes (ignored for "float").
    decimate : int, default=1
        Keep every ``decimate``-th time sample (``pooling="pick"``) or average
        non-overlapping windows of ``decimate`` samples (``pooling="mean"``).
    pooling : {"pick", "mean"}, default="pick"
        ``"mean"`` is ``torch.nn.functional.avg_pool1d(x, decimate)`` (trailing
        samples that do not fill a window are dropped), as
        :class:`eegbin.train.LSTMNet` ``downsample`` does in training.
    scale : float, default=1.0
        Multiplies the signal before the network.
    calibrate : bool, default=False
        Binarized modes "mubinn1"/"mubinn2": in ``fit``, fix static activation
        scales from the training epochs (:meth:`MultiLevelBinarizedLSTM.calibrate`)
        instead of computing them per vector at inference.
    refit_head : bool, default=True
        Re-fit the dense head in ``fit`` (else use the head in ``weights``).
    C : float, default=1.0
        Inverse L2 regularization of the re-fitted head.
    layout, key_map, gate_order
        Weight layout, see :class:`eegbin.nn.LSTM`.
    binarization : {"post_training", "learned"}, default="post_training"
        Mode "mubinn2" only. ``"post_training"``: binarize the float weights
        after training (:class:`MultiLevelBinarizedLSTM`, scales computed from
        the weights). ``"learned"``: run the binarized network of an
        :func:`eegbin.train.export` file as trained
        (:class:`LearnedMultiLevelLSTM`: exported ±1 codes, learned weight and
        activation scales); ``weights`` must then be the path of that
        ``.safetensors`` file, the levels must be those of the export, and the
        epochs are divided by the export's input scale (after ``scale``) in
        float32 as in training. Use ``pooling="mean"`` and ``decimate`` equal
        to the trained ``downsample`` (:meth:`from_export` sets them).

    Attributes
    ----------
    net_ : LSTM, MultiLevelBinarizedLSTM or LearnedMultiLevelLSTM
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
    >>> rng = np.random.default_rng(0)
    >>> w = {"weight_ih_l0": rng.normal(size=(16, 3)), "weight_hh_l0": rng.normal(size=(16, 4)),
    ...      "bias_ih_l0": np.zeros(16), "bias_hh_l0": np.zeros(16)}
    >>> X, y = rng.normal(size=(20, 3, 30)), np.arange(20) % 2
    >>> clf = LSTMClassifier(w, mode="mubinn2").fit(X, y)
    >>> clf.predict_proba(X).shape, clf.transform(X).shape
    ((20, 2), (20, 4))

    References
    ----------
    MuBiNN, Section III (LSTM), Section IV-C (MuBiNN2, learned scales),
    Section V (network: one LSTM layer and a dense layer; EEG features x time
    steps).
    """

    _parameter_constraints = {
        "weights": "no_validation",  # checked by resolve_lstm_weights
        "mode": [StrOptions({"float", "b_lstm", "mubinn1", "mubinn2"})],
        "activation_levels": [Interval(numbers.Integral, 1, None, closed="left")],
        "weight_levels": [Interval(numbers.Integral, 1, None, closed="left")],
        "decimate": [Interval(numbers.Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"pick", "mean"})],
        "scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "calibrate": ["boolean"],
        "binarization": [StrOptions({"post_training", "learned"})],
        "refit_head": ["boolean"],
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
        "layout": [StrOptions({"auto", "torch", "keras"})],
        "key_map": [dict, None],
        "gate_order": [str, None],
    }

    def __init__(
        self,
        weights,
        mode="float",
        activation_levels=3,
        weight_levels=3,
        decimate=1,
        pooling="pick",
        scale=1.0,
        calibrate=False,
        refit_head=True,
        C=1.0,
        layout="auto",
        key_map=None,
        gate_order=None,
        binarization="post_training",
    ):
        self.weights = weights
        self.mode = mode
        self.activation_levels = activation_levels
        self.weight_levels = weight_levels
        self.decimate = decimate
        self.pooling = pooling
        self.scale = scale
        self.calibrate = calibrate
        self.refit_head = refit_head
        self.C = C
        self.layout = layout
        self.key_map = key_map
        self.gate_order = gate_order
        self.binarization = binarization

    # -- helpers --------------------------------------------------------------
    def _check_X(self, X, reset):
        X = check_epochs(X, n_channels=None if reset else self.n_features_in_,
                         estimator="LSTMClassifier", min_times=self.decimate)
        if reset:
            self.n_features_in_ = X.shape[1]
            self.n_times_in_ = X.shape[2]
        return X

    def _n_steps(self, n_times):
        if self.pooling == "mean":
            return n_times // self.decimate
        return len(range(0, n_times, self.decimate))

    def _sequences(self, X):
        if self.binarization == "learned":
            return self._sequences_float32(X)
        d = self.decimate
        if self.pooling == "mean":
            n = X.shape[2] // d * d
            X = X[:, :, :n].reshape(X.shape[0], X.shape[1], n // d, d).mean(axis=3, dtype=np.float64)
        else:
            X = X[:, :, ::d]
        return np.ascontiguousarray(X.transpose(0, 2, 1), dtype=np.float64) * self.scale

    def _sequences_float32(self, X):
        """The sequences a trained eegbin.train LSTM quantizes, in its float32 arithmetic.

        ``float32(X) / input_scale`` then ``avg_pool1d`` (window summed left to right,
        divided by ``decimate``), the operations of ``TorchEEGClassifier`` and
        ``LSTMNet.sequences``, so the input codes are bit-identical to training's.
        """
        X = X if self.scale == 1.0 else X * self.scale
        X = np.asarray(X, dtype=np.float32) / np.float32(self.net_.input_scale)
        d = self.decimate
        if self.pooling == "mean" and d > 1:
            n = X.shape[2] // d * d
            win = X[:, :, :n].reshape(X.shape[0], X.shape[1], n // d, d)
            acc = win[..., 0].copy()
            for j in range(1, d):
                acc += win[..., j]
            X = acc / np.float32(d)
        else:
            X = X[:, :, ::d]
        return np.ascontiguousarray(X.transpose(0, 2, 1))

    def _build_net(self):
        if self.binarization == "learned":
            if self.mode != "mubinn2":
                raise ValueError(f"binarization='learned' needs mode='mubinn2', got mode={self.mode!r}")
            if self.calibrate:
                raise ValueError(
                    "binarization='learned' runs with the trained activation scales: calibrate must be False"
                )
            if not isinstance(self.weights, (str, os.PathLike)):
                raise ValueError(
                    "binarization='learned' reads the learned codes and scales from the header of an "
                    "eegbin.train.export file: weights must be the path of that .safetensors file, "
                    f"got {type(self.weights).__name__}"
                )
            net = LearnedMultiLevelLSTM.from_export(self.weights)
            if (net.activation_levels, net.weight_levels) != (self.activation_levels, self.weight_levels):
                raise ValueError(
                    f"the export was trained with activation_levels={net.activation_levels}, "
                    f"weight_levels={net.weight_levels}, got activation_levels={self.activation_levels}, "
                    f"weight_levels={self.weight_levels} (LSTMClassifier.from_export sets them)"
                )
            return net
        common = dict(layout=self.layout, key_map=self.key_map, gate_order=self.gate_order)
        if self.mode == "float":
            return LSTM(self.weights, **common)
        return MultiLevelBinarizedLSTM(
            self.weights, self.activation_levels, self.weight_levels, mode=self.mode, **common
        )

    def _use_file_head(self):
        if self.net_.params.head is None:
            raise ValueError("refit_head=False needs weights with a dense head")
        W, b = self.net_.params.head
        if W.shape[0] != len(self.classes_):
            raise ValueError(
                f"the dense head has {W.shape[0]} outputs but y has {len(self.classes_)} classes"
            )
        self.head_coef_, self.head_intercept_ = W.copy(), b.copy()

    @classmethod
    def from_export(cls, path):
        """A ready-to-predict classifier from a file written by :func:`eegbin.train.export`.

        The one call to deploy an LSTM trained by :class:`eegbin.train.TorchEEGClassifier`
        (``model="lstm"``) without torch: the network, pooling (``decimate`` =
        trained ``downsample``, ``pooling="mean"``), input scale, dense head and
        classes come from the file. A MuBiNN2 model runs with its learned codes
        and scales (``mode="mubinn2", binarization="learned"``,
        :class:`LearnedMultiLevelLSTM`), a float LSTM as ``mode="float"``; both
        predict what the torch model predicts. The returned classifier is
        fitted (``refit_head=False``); ``fit(X, y)`` rebuilds it from the file,
        and ``clone`` works.

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
        >>> clf.mode, clf.binarization, clf.decimate  # doctest: +SKIP
        ('mubinn2', 'learned', 2)
        >>> bool((clf.predict(X) == torch_clf.predict(X)).all())  # doctest: +SKIP
        True

        References
        ----------
        MuBiNN, Algorithm 1, eq. (9), Section IV-C (MuBiNN2, learned scales).
        """
        meta = read_export_metadata(path)
        if meta.get("model") != "LSTMNet":
            raise ValueError(
                f"{os.fspath(path)!r} holds a {meta.get('model')!r} export; LSTMClassifier loads "
                "LSTMNet exports (EEGNet: eegbin.nn.EEGNet / EEGNetClassifier)"
            )
        hp = meta.get("hparams")
        if not isinstance(hp, dict):
            raise ValueError(f"{os.fspath(path)!r}: the export metadata has no 'hparams' object")
        quantized = hp.get("quantize") is not None
        if quantized and hp.get("quantize") != "mubinn2":
            raise ValueError(f"{os.fspath(path)!r}: unknown quantization {hp.get('quantize')!r}")
        if quantized and "quantization" not in meta:
            raise ValueError(f"{os.fspath(path)!r}: a MuBiNN2 export without 'quantization' metadata")
        levels = {}
        if quantized:
            levels = dict(activation_levels=hp.get("activation_levels"), weight_levels=hp.get("weight_levels"))
        clf = cls(path, mode="mubinn2" if quantized else "float", decimate=hp.get("downsample", 1),
                  pooling="mean", refit_head=False,
                  binarization="learned" if quantized else "post_training", **levels)
        clf._validate_params()
        clf.net_ = clf._build_net()
        C = clf.net_.n_outputs
        if C is None:
            raise ValueError(f"{os.fspath(path)!r}: the export has no dense head")
        classes = meta.get("classes", list(range(C)))
        if not isinstance(classes, list) or len(classes) != C:
            raise ValueError(
                f"{os.fspath(path)!r}: metadata 'classes' must list the {C} classes of the head, got {classes!r}"
            )
        clf.classes_ = np.asarray(classes)
        clf._use_file_head()
        clf.n_features_in_ = clf.net_.input_size
        clf.n_times_in_ = meta.get("n_times")
        return clf

    # -- sklearn API ------------------------------------------------------------
    def fit(self, X, y):
        """Build the network and fit the dense head on the last hidden states.

        Parameters
        ----------
        X : ndarray of shape (n_trials, n_channels, n_times)
        y : array-like of shape (n_trials,)

        Returns
        -------
        self
        """
        self._validate_params()
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
        if self.calibrate and self.mode in ("mubinn1", "mubinn2"):
            self.net_.calibrate(self._sequences(X))
        elif self.calibrate:
            raise ValueError(f"calibrate=True needs mode 'mubinn1' or 'mubinn2', got mode={self.mode!r}")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"y must hold at least 2 classes, got {len(self.classes_)}")
        if not self.refit_head:
            self._use_file_head()
            return self
        F = self.net_.features(self._sequences(X))
        lr = LogisticRegression(C=self.C, max_iter=1000).fit(F, y)
        coef, icpt = lr.coef_, lr.intercept_
        if coef.shape[0] == 1:  # binary: softmax of (-z/2, z/2) equals sigmoid(z)
            coef, icpt = np.vstack([-coef / 2, coef / 2]), np.array([-icpt[0] / 2, icpt[0] / 2])
        self.head_coef_, self.head_intercept_ = coef, icpt
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
        return _softmax(self.decision_function(X))

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
        n_steps = self._n_steps(self.n_times_in_)
        fp = self.net_.footprint(float_bits=float_bits, n_times=n_steps)
        parts = tuple(p for p in fp.parts if p.name != "dense head") + (
            Footprint("dense head", n_params=self.head_coef_.size + self.head_intercept_.size,
                      bits_per_param=float_bits, macs=self.head_coef_.size),
        )
        name = f"{self.mode}, learned scales" if self.binarization == "learned" else self.mode
        return Footprint(f"LSTMClassifier ({name})", parts=parts, note=fp.note)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
