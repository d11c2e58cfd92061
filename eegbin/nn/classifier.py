"""scikit-learn shell around :class:`eegbin.nn.EEGNet` with Feng's compressions."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import EpochsInputMixin
from ..docstrings import fill_doc
from ..kernels.checks import refuse_strings
from .eegnet import EEGNet
from .layers import _fit_softmax_head, softmax

__all__ = ["EEGNetClassifier"]


@fill_doc
class EEGNetClassifier(EpochsInputMixin, ClassifierMixin, TransformerMixin, BaseEstimator):
    """A trained EEGNet as a scikit-learn classifier, with optional compressions.

    ``fit`` loads and checks the weights, applies the chosen compressions and
    keeps the trained network, head included: ``y`` must hold as many classes as
    the network has outputs (sorted label i is output i). With
    ``refit_head=True`` it re-fits only the classification head on the network's
    features (multinomial logistic regression) and keeps the convolutional weights.
    ``transform`` returns those features (``F2 * T'`` values: 272 for
    22 x 1125 trials with the pooling of Hersche 2020 / Q-EEGNet,
    ``pool1_kernel_size=8``; 560 with braindecode's default 4).

    Parameters
    ----------
    weights : str, os.PathLike or dict of str to ndarray
        braindecode ``EEGNet`` state dict, Keras 2/3 or ONNX EEGNet weights (see
        :class:`eegbin.nn.EEGNet`), or a file :func:`eegbin.nn.load_weights` reads.
    n_chans : int
        Number of EEG channels of the trials.
    n_times : int
        Samples per trial.
    sfreq : float
        Sampling frequency in Hz (the rate the network was trained at; recorded
        and validated, the network itself has no notion of time).
    layout : {"auto", "braindecode", "keras", "onnx"}, default="auto"
    pool1_kernel_size, pool2_kernel_size : int or None, default=None
        What the weight file records (ONNX, .keras), else 4 and 8.
    refit_head : bool, default=False
        Re-fit the classification head on ``fit`` data (e.g. after channel
        selection, or for a new set of classes). If False, the trained head is
        kept and ``y`` must hold exactly ``n_classes`` labels (sorted label i is
        output i).
    C : float, default=1.0
        Inverse regularization of the re-fitted head (``LogisticRegression(C=...)``).
    fold_batchnorm : bool, default=False
        Merge the batch norms into the convolutions (Feng III-C): same outputs to
        float rounding, no batch-norm operations.
    n_selected_channels : int or None, default=None
        Embedded channel selection (Feng eq. 1): keep the channels with the largest
        ℓ1 norm of spatial weights (Feng retrains after it: consider ``refit_head=True``).
    elu : {"exact", "table"}, default="exact"
        "table": negative branch of ELU from a 256-entry interpolated table on [-8, 0].
    output : {"softmax", "max"}, default="softmax"
        Feng III-D: "max" drops the softmax from the inference cost (``predict``
        is the argmax of the logits either way; ``predict_proba`` still works).
    dtype : {"float32", "float64"}, default="float32"
    head : {"dense", "pq"}, default="dense"
        "pq": product-quantized dense layer (Feng III-D, :class:`eegbin.ProductQuantizedLinear`,
        balanced binary regression trees) fitted on the ``fit`` features.
    n_subspaces : int or "auto", default="auto"
        Number m of sub-vectors of the product-quantized head ("auto": 8, Feng's m).
    n_prototypes : int, default=16
        Leaves per tree of the product-quantized head (16 = 4 comparisons).
    fixed_point : bool, default=False
        Simulate Feng's datapath (V-A): batch norms folded, 8-bit weights, 16-bit
        feature maps calibrated on the ``fit`` data (computed in float64).

    Attributes
    ----------
    net_ : EEGNet
        The (compressed) network used for inference.
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
        Number of channels (the second axis of X).
    channels_ : ndarray of int
        Input channels the network reads.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin import EEGNetClassifier
    >>> from eegbin.nn import EEGNet
    >>> rng = np.random.default_rng(0)
    >>> w = EEGNet.random_weights(n_chans=4, n_times=128, n_classes=2, rng=rng)
    >>> X, y = rng.standard_normal((20, 4, 128)), np.arange(20) % 2
    >>> clf = EEGNetClassifier(w, n_chans=4, n_times=128, sfreq=128.0).fit(X, y)
    >>> bool(np.all(clf.decision_function(X) == EEGNet(w, n_times=128).forward(X)))  # trained head
    True
    >>> clf.transform(X).shape, clf.predict(X[:3]).shape
    ((20, 64), (3,))

    References
    ----------
    .. [1] V. J. Lawhern et al., EEGNet, J. Neural Eng. 15, 2018.
    .. [2] L. Feng et al., "An Efficient Model-Compressed EEGNet Accelerator ...",
       Section III (eq. 1, eq. 2-5, product quantization, softmax to max).
    """

    _parameter_constraints = {
        "weights": "no_validation",  # checked by EEGNet / load_weights
        "n_chans": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_times": [Interval(numbers.Integral, 1, None, closed="left")],
        "sfreq": [Interval(numbers.Real, 0, None, closed="neither")],
        "layout": [StrOptions({"auto", "braindecode", "keras", "onnx"})],
        "pool1_kernel_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "pool2_kernel_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "refit_head": ["boolean"],
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
        "fold_batchnorm": ["boolean"],
        "n_selected_channels": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "elu": [StrOptions({"exact", "table"})],
        "output": [StrOptions({"softmax", "max"})],
        "dtype": [StrOptions({"float32", "float64"})],
        "head": [StrOptions({"dense", "pq"})],
        "n_subspaces": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_prototypes": [Interval(numbers.Integral, 2, None, closed="left")],
        "fixed_point": ["boolean"],
    }

    def __init__(self, weights, n_chans, n_times, sfreq, *, layout="auto",
                 pool1_kernel_size=None, pool2_kernel_size=None, refit_head=False, C=1.0,
                 fold_batchnorm=False, n_selected_channels=None, elu="exact",
                 output="softmax", dtype="float32", head="dense", n_subspaces="auto",
                 n_prototypes=16, fixed_point=False):
        self.weights = weights
        self.n_chans = n_chans
        self.n_times = n_times
        self.sfreq = sfreq
        self.layout = layout
        self.pool1_kernel_size = pool1_kernel_size
        self.pool2_kernel_size = pool2_kernel_size
        self.refit_head = refit_head
        self.C = C
        self.fold_batchnorm = fold_batchnorm
        self.n_selected_channels = n_selected_channels
        self.elu = elu
        self.output = output
        self.dtype = dtype
        self.head = head
        self.n_subspaces = n_subspaces
        self.n_prototypes = n_prototypes
        self.fixed_point = fixed_point

    # ------------------------------------------------------------------ fit
    def _build_net(self):
        net = EEGNet(
            self.weights, n_chans=self.n_chans, n_times=self.n_times, layout=self.layout,
            pool1_kernel_size=self.pool1_kernel_size, pool2_kernel_size=self.pool2_kernel_size,
            dtype=self.dtype,
        )
        if self.fold_batchnorm:
            net = net.fold_batchnorm()
        if self.n_selected_channels is not None:
            if self.n_selected_channels > self.n_chans:
                raise ValueError(
                    f"n_selected_channels={self.n_selected_channels} exceeds n_chans={self.n_chans}"
                )
            net = net.select_channels(int(self.n_selected_channels))
        if self.elu == "table":
            net = net.with_elu_table()
        return net

    def _validate_X(self, X, reset):
        if np.ndim(X) != 3 or np.shape(X)[1:] != (self.n_chans, self.n_times):
            raise ValueError(
                f"X must have shape (n_trials, n_chans={self.n_chans}, n_times={self.n_times}), "
                f"got {np.shape(X)}"
            )
        return validate_data(self, refuse_strings(X), reset=reset, allow_nd=True,
                             dtype=[np.float64, np.float32], ensure_min_features=1)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Load the weights, apply the compressions and keep (or re-fit) the head.

        Parameters
        ----------
        X : ndarray of shape (n_trials, n_chans, n_times)
            Epochs with the ``n_chans`` and ``n_times`` given to the constructor.
        %(y_trials)s

        %(returns_self)s
        """
        X, y = validate_data(self, refuse_strings(X), y, allow_nd=True, dtype=[np.float64, np.float32])
        if X.ndim != 3 or X.shape[1:] != (self.n_chans, self.n_times):
            raise ValueError(
                f"X must have shape (n_trials, n_chans={self.n_chans}, n_times={self.n_times}), "
                f"got {X.shape}"
            )
        net = self._build_net()
        classes = np.unique(y)
        if self.refit_head:
            if len(classes) < 2:
                raise ValueError(f"y must hold at least 2 classes to fit a head, got {classes}")
            net = net.with_head(*_fit_softmax_head(net.features(X).astype(np.float64), y, self.C))
        elif len(classes) != net.n_classes:
            raise ValueError(
                f"refit_head=False: y holds {len(classes)} classes but the network has "
                f"{net.n_classes} outputs (refit_head=True fits a new head)"
            )
        if self.fixed_point:
            net = net.to_fixed_point(X)
        if self.head == "pq":
            net = net.with_pq_head(X, n_subspaces=self.n_subspaces, n_prototypes=self.n_prototypes)
        self.classes_ = classes
        self.net_ = net
        self.channels_ = net.channels
        return self

    # ------------------------------------------------------------------ inference
    def transform(self, X):
        """Flattened network features before the classifier, shape (n_trials, F2 * T')."""
        check_is_fitted(self)
        return self.net_.features(self._validate_X(X, reset=False))

    def decision_function(self, X):
        """Logits of the network, shape (n_trials, n_classes)."""
        check_is_fitted(self)
        return self.net_.forward(self._validate_X(X, reset=False))

    def predict_proba(self, X):
        """Softmax of the logits, shape (n_trials, n_classes)."""
        return softmax(self.decision_function(X).astype(np.float64))

    def predict(self, X):
        """Class of the largest logit (softmax is monotonic: Feng III-D)."""
        scores = self.decision_function(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def footprint(self, float_bits=32, convention="eegbin"):
        """Per-layer parameters and MACs like Hersche 2020 Table II (see EEGNet.footprint)."""
        check_is_fitted(self)
        return self.net_.footprint(float_bits, output=self.output, convention=convention)
