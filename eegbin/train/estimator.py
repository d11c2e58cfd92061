"""scikit-learn wrapper that trains the :mod:`eegbin.train.models` inside MOABB evaluations."""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from torch.nn import functional as F

from ..base import EpochsInputMixin
from ..kernels.checks import check_epochs
from ..nn.layers import softmax
from .models import MIMANN, EEGNet, LSTMNet

__all__ = ["TorchEEGClassifier"]


def _support_set(yi, n_shots, gen):
    """``n_shots`` random training samples of each class (the m-way / n-shot support)."""
    return np.concatenate([gen.permutation(np.flatnonzero(yi == c))[:n_shots] for c in np.unique(yi)])


def _lr_schedule(opt, n_epochs, lr, lr_final=None):
    """Per-epoch learning rates: cosine, or constant then ``lr_final = (n_last, lr_last)``."""
    if lr_final is None:
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, n_epochs))
    n_last, lr_last = lr_final
    switch = max(0, n_epochs - n_last)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1.0 if epoch < switch else lr_last / lr)


def _train_epochs(module, Xt, yt, n_epochs, batch_size, gen, opt, sched):
    """Mini-batch cross-entropy training; the mean loss of every epoch."""
    n = Xt.shape[0]
    losses = []
    for _ in range(n_epochs):
        module.train()
        order = gen.permutation(n)
        total = 0.0
        for start in range(0, len(order), batch_size):
            b = torch.as_tensor(order[start:start + batch_size], device=Xt.device)
            loss = F.cross_entropy(module(Xt[b]), yt[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        sched.step()
        losses.append(total / max(1, len(order)))
    return losses


def _train_episodes(module, Xt, yt, n_episodes, batch_size, n_shots, n_classes, gen, opt, sched):
    """MI-MANN (Hersche 2020, Sec. IV-C): per episode, rewrite the memory, update once.

    The memory is rewritten with a random support set (``n_shots`` per class,
    encoded by the current controller, tanh(10 x)); then the controller is updated
    on one batch of ``batch_size`` samples that are not in the support set (binary
    cross-entropy of the readout, Adam). The paper updates first and rewrites
    after; in a loop of episodes the two orders are the same. Returns the loss of
    every episode.
    """
    yi = yt.cpu().numpy()
    losses = []
    for _ in range(n_episodes):
        module.train()
        support = _support_set(yi, n_shots, gen)
        rest = np.setdiff1d(np.arange(len(yi)), support, assume_unique=True)
        batch = gen.choice(rest, size=min(batch_size, len(rest)), replace=False)
        with torch.no_grad():
            module.keys = module.encode(Xt[support]).detach()
            module.values = F.one_hot(yt[support], n_classes).float()
        b = torch.as_tensor(batch, device=Xt.device)
        out = module(Xt[b])
        target = F.one_hot(yt[b], n_classes).float()
        loss = F.binary_cross_entropy(out.clamp(1e-6, 1 - 1e-6), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
    return losses


def _resolve_device(device):
    """The torch device ``device`` names ("auto": CUDA if present)."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but CUDA is not available")
    return device


def _build_module(model, model_params, n_chans, n_times, n_classes, channels=None):
    """A new (untrained) network ``model`` with ``model_params`` for these shapes."""
    params = dict(model_params or {})
    if channels is not None:
        params["channels"] = channels
    if model == "eegnet":
        return EEGNet(n_chans, n_classes, n_times, **params)
    if model == "mimann":
        return MIMANN(n_chans, n_classes, n_times, **params)
    return LSTMNet(n_chans, n_classes, **params)


def _check_lr_final(lr_final):
    """``lr_final`` as ``(int n_last, float lr_last)``, or None."""
    if lr_final is None:
        return None
    ok = len(lr_final) == 2
    if ok:
        n_last, lr_last = lr_final
        ok = (isinstance(n_last, numbers.Integral) and not isinstance(n_last, bool)
              and n_last >= 0 and isinstance(lr_last, numbers.Real)
              and np.isfinite(lr_last) and lr_last > 0)
    if not ok:
        raise ValueError(
            "lr_final must be None or a pair (n_last epochs >= 0, lr_last > 0), e.g. "
            f"(1000, 1e-4), got {lr_final!r}")
    return int(n_last), float(lr_last)


def _per_stage(name, value, n_stages):
    """``value`` for each training stage: a float for all, or a pair for BiPer's two."""
    if not isinstance(value, tuple):
        return [float(value)] * n_stages
    ok = len(value) == 2 and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)
        and (v > 0 if name == "lr" else v >= 0) for v in value)
    if not ok:
        raise ValueError(f"{name} must be a number or a pair of numbers, got {value!r}")
    if n_stages != 2:
        raise ValueError(
            f"{name}={value!r}: a pair is for the two stages of binarize='biper'; this "
            "model trains in one stage")
    return [float(v) for v in value]


def _training_stages(binarize, max_epochs, stage1_fraction):
    """``(stage, n_epochs)`` pairs: BiPer's two (sin weights, then square wave), one otherwise."""
    if binarize == "biper":
        n1 = int(round(max_epochs * stage1_fraction))
        return [(1, n1), (2, max_epochs - n1)]
    return [(None, max_epochs)]


def _set_stage(module, stage):
    """Put every BiPer layer of ``module`` in training ``stage``."""
    for m in module.modules():
        if hasattr(m, "stage"):
            m.stage = stage


@torch.no_grad()
def _select_channels(module, n_selected, n_channels):
    """Feng eq. (1): the channels with the largest l1 norm of the spatial weights."""
    w = module.conv_spatial.weight.detach().cpu().numpy()  # after max-norm
    scores = np.abs(w[:, 0, :, 0]).sum(axis=0)
    keep = np.sort(np.argsort(-scores, kind="stable")[:n_selected])
    used = np.asarray(module.channels if module.channels is not None else np.arange(n_channels))
    return used[keep]


@torch.no_grad()
def _load_kept_channels(new, old, n_channels, channels):
    """``new`` (reading ``channels`` only) initialized from the trained weights of ``old``."""
    rows = [list(old.channels or range(n_channels)).index(c) for c in channels]
    state = old.state_dict()
    key = "conv_spatial.parametrizations.weight.original"
    state[key] = state[key][:, :, rows, :]
    new.load_state_dict(state)
    return new


def _load_module_state(module, weights, stages):
    """``module`` with the state dict ``weights`` and the BiPer ``stages`` of a pickled one."""
    own = module.state_dict()
    for key, value in weights.items():  # buffers sized at fit (MI-MANN's memory)
        if key in own and own[key].shape != value.shape:
            owner, _, leaf = key.rpartition(".")
            setattr(module.get_submodule(owner), leaf, value.clone())
    module.load_state_dict(weights)
    for name, stage in stages.items():
        module.get_submodule(name).stage = stage
    return module


class TorchEEGClassifier(EpochsInputMixin, ClassifierMixin, BaseEstimator):
    """Train EEGNet (float, STE- or BiPer-binarized), MI-MANN or an LSTM with ``fit``/``predict``.

    Inputs are MOABB epochs (n_trials, n_channels, n_times). They are divided by the
    training standard deviation (``scale_``), which :func:`eegbin.train.export`
    folds into the first layer so exported weights take raw epochs.

    Parameters
    ----------
    model : {"eegnet", "mimann", "lstm"}, default="eegnet"
    model_params : dict, optional
        Keyword arguments of :class:`~eegbin.train.EEGNet`, :class:`~eegbin.train.MIMANN`
        or :class:`~eegbin.train.LSTMNet` (e.g. ``binarize="biper", omega=2.0``).
    max_epochs : int, default=100
        Training epochs. With ``binarize="biper"`` the first ``stage1_fraction`` of
        them train stage 1 (sin weights), the rest stage 2 (BiPer Section 5.1.3).
        MI-MANN: training episodes, which Hersche 2020 (Sec. IV-C) calls epochs: each
        rewrites the key-value memory with a random support set (``n_shots`` per
        class) and updates the controller on one batch of ``batch_size`` other
        samples (the paper trains 20 000 of them).
    batch_size : int, default=64
    lr : float or tuple (float, float), default=1e-3
        Adam learning rate (a cosine schedule decays it within each stage, unless
        ``lr_final`` is given). A pair gives BiPer's two stages their own rates
        (``binarize="biper"`` only). BiPer (Section 5.1) trains with SGD (momentum
        0.9) at 0.1 then 0.01; eegbin trains with Adam, whose step does not scale
        with the gradient and whose usual rate is about 100 times SGD's, so the
        translation keeps the paper's tenfold drop: ``lr=(1e-3, 1e-4)``.
    lr_final : tuple (int, float) or None, default=None
        ``(n_last, lr_last)``: train at the constant rate ``lr``, then at ``lr_last``
        for the last ``n_last`` epochs (episodes for MI-MANN). Hersche 2020 (Sec.
        IV-C): ``lr=1e-3, lr_final=(1000, 1e-4)``. None: cosine schedule.
    weight_decay : float or tuple (float, float), default=0.0
        L2 penalty added to the gradient (Adam's ``weight_decay``); a pair for
        BiPer's two stages, the paper's ``(5e-4, 5e-5)``.
    stage1_fraction : float, default=0.5
    n_shots : int, default=8
        MI-MANN: support examples per class written to memory each episode (the
        m-way / n-shot memory: 4 x 8 = 32 keys for 4 classes).
    n_selected_channels : int or None, default=None
        Feng's embedded channel selection (Section III-B) for ``model="eegnet"``:
        after training, keep the channels with the largest l1 norm of the spatial
        weights (eq. 1), then retrain the network on them (``channels_``), starting
        from the trained weights of the kept channels (Feng retrains; whether from
        scratch is not said, norm-based pruning fine-tunes) for ``max_epochs`` more.
    random_state : int, default=0
        Seed: same seed, same data -> same model (CPU).
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"`` (used only when available; "auto" picks CUDA if present).

    Attributes
    ----------
    module_ : torch.nn.Module
    classes_ : ndarray
    scale_ : float
    history_ : list of float
        Training loss per epoch (per episode for MI-MANN), over all stages.
    channels_ : ndarray of int
        With ``n_selected_channels``: the input channels the network reads (sorted).

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.train import TorchEEGClassifier
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randn(16, 4, 128), np.repeat([0, 1], 8)
    >>> clf = TorchEEGClassifier(max_epochs=2, batch_size=8).fit(X, y)
    >>> clf.predict(X).shape
    (16,)

    References
    ----------
    Hersche et al. 2020, Section IV-C (MI-MANN training); BiPer Section 5.1.3 (two stages);
    MuBiNN (LSTM with 100 cells and a dense head).
    """

    _parameter_constraints = {
        "model": [StrOptions({"eegnet", "mimann", "lstm"})],
        "model_params": [dict, None],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither"), tuple],
        "lr_final": [None, tuple],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left"), tuple],
        "stage1_fraction": [Interval(numbers.Real, 0, 1, closed="both")],
        "n_shots": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_selected_channels": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
    }

    def __init__(self, model="eegnet", model_params=None, max_epochs=100, batch_size=64,
                 lr=1e-3, lr_final=None, weight_decay=0.0, stage1_fraction=0.5, n_shots=8,
                 n_selected_channels=None, random_state=0, device="cpu"):
        self.model = model
        self.model_params = model_params
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_final = lr_final
        self.weight_decay = weight_decay
        self.stage1_fraction = stage1_fraction
        self.n_shots = n_shots
        self.n_selected_channels = n_selected_channels
        self.random_state = random_state
        self.device = device

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags

    # -- helpers ---------------------------------------------------------------
    def _build(self, n_chans, n_times, n_classes, channels=None):
        return _build_module(self.model, self.model_params, n_chans, n_times, n_classes, channels)

    def _tensor(self, X):
        return torch.as_tensor(np.asarray(X, dtype=np.float32) / self.scale_, device=self.dev_)

    # -- fit / predict ---------------------------------------------------------
    def fit(self, X, y):
        """Train the model on epochs ``X`` and labels ``y``."""
        self._validate_params()
        _check_lr_final(self.lr_final)
        binarize = (self.model_params or {}).get("binarize")
        n_stages = 2 if binarize == "biper" else 1
        lrs = _per_stage("lr", self.lr, n_stages)
        decays = _per_stage("weight_decay", self.weight_decay, n_stages)
        if self.n_selected_channels is not None and self.model != "eegnet":
            raise ValueError(
                f"n_selected_channels is Feng's channel selection for model='eegnet', got "
                f"model={self.model!r}")
        X = check_epochs(X)
        if self.n_selected_channels is not None and self.n_selected_channels > X.shape[1]:
            raise ValueError(
                f"n_selected_channels={self.n_selected_channels} exceeds the {X.shape[1]} "
                "channels of X")
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
        check_classification_targets(y)  # NaN and continuous targets refused, naming y
        enc = LabelEncoder().fit(y)
        self.classes_ = enc.classes_
        if len(self.classes_) < 2:
            raise ValueError(f"y must hold at least 2 classes, got {len(self.classes_)}")
        yi = enc.transform(y)
        seed = int(np.random.RandomState(self.random_state).randint(2**31 - 1)) \
            if not isinstance(self.random_state, numbers.Integral) else int(self.random_state)
        torch.manual_seed(seed)
        gen = np.random.default_rng(seed)
        self.dev_ = _resolve_device(self.device)
        self.scale_ = float(X.std()) or 1.0
        self.n_channels_ = X.shape[1]
        self.n_times_ = X.shape[2]
        self.module_ = self._build(X.shape[1], X.shape[2], len(self.classes_)).to(self.dev_)
        Xt = self._tensor(X)
        yt = torch.as_tensor(yi, device=self.dev_)
        self.history_ = []
        self._train(Xt, yt, gen, binarize, lrs, decays)
        if self.n_selected_channels is not None:
            self.channels_ = _select_channels(self.module_, self.n_selected_channels, self.n_channels_)
            with torch.no_grad():  # weight surgery: nothing here is trained
                new = self._build(self.n_channels_, self.n_times_, len(self.classes_),
                                  channels=self.channels_).to(self.dev_)
            self.module_ = _load_kept_channels(new, self.module_, self.n_channels_, self.channels_)
            self._train(Xt, yt, gen, binarize, lrs, decays)
        if self.model == "mimann":
            self._write_support(Xt, yi, gen)
        self.module_.eval()
        return self

    def _train(self, Xt, yt, gen, binarize, lrs, decays):
        """All stages: BiPer's two (sin weights, then square wave), one otherwise."""
        stages = _training_stages(binarize, self.max_epochs, self.stage1_fraction)
        for (stage, n_epochs), lr, wd in zip(stages, lrs, decays):
            if stage is not None:
                _set_stage(self.module_, stage)
            self._train_stage(Xt, yt, n_epochs, gen, lr, wd)

    # -- pickling ----------------------------------------------------------------
    # A trained module holds torch parametrizations (max-norm), whose classes are
    # made at run time and cannot be pickled: the state is the module's
    # state_dict, the stage of BiPer's layers, and what _build needs to remake it.
    def __getstate__(self):
        state = self.__dict__.copy()
        module = state.pop("module_", None)
        if module is not None:
            state["_module_state"] = {k: v.detach().cpu() for k, v in module.state_dict().items()}
            state["_module_stages"] = {name: m.stage for name, m in module.named_modules()
                                       if hasattr(m, "stage")}
        return state

    def __setstate__(self, state):
        weights = state.pop("_module_state", None)
        stages = state.pop("_module_stages", {})
        self.__dict__.update(state)
        if weights is None:
            return
        module = self._build(self.n_channels_, self.n_times_, len(self.classes_),
                             channels=getattr(self, "channels_", None))
        self.module_ = _load_module_state(module, weights, stages).to(self.dev_).eval()

    def _write_support(self, Xt, yi, gen):
        idx = _support_set(yi, self.n_shots, gen)
        self.module_.eval()
        self.module_.write_memory(Xt[idx], torch.as_tensor(yi[idx]))
        self.support_index_ = idx

    def _train_stage(self, Xt, yt, n_epochs, gen, lr, weight_decay):
        if n_epochs == 0:
            return
        opt = torch.optim.Adam(self.module_.parameters(), lr=lr, weight_decay=weight_decay)
        sched = _lr_schedule(opt, n_epochs, lr, _check_lr_final(self.lr_final))
        if self.model == "mimann":
            losses = _train_episodes(self.module_, Xt, yt, n_epochs, self.batch_size, self.n_shots,
                                    len(self.classes_), gen, opt, sched)
        else:
            losses = _train_epochs(self.module_, Xt, yt, n_epochs, self.batch_size, gen, opt, sched)
        self.history_.extend(losses)

    @torch.no_grad()
    def _scores(self, X):
        check_is_fitted(self, "module_")
        # EEGNet's dense head (and MI-MANN's keys) are sized by the trial length
        n_times = None if self.model == "lstm" else self.n_times_
        X = check_epochs(X, n_channels=self.n_channels_, n_times=n_times,
                         estimator=type(self).__name__)
        self.module_.eval()
        return self.module_(self._tensor(X)).cpu().numpy()

    def decision_function(self, X):
        """Logits (EEGNet, LSTM) or memory readout (MI-MANN), shape (n_trials, n_classes)."""
        return self._scores(X)

    def predict(self, X):
        """Class of each epoch (softmax -> max is argmax of the scores)."""
        scores = self._scores(X)  # first: NotFittedError before classes_ is read
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_proba(self, X):
        """Softmax of the logits, or the normalized memory readout for MI-MANN."""
        s = self._scores(X)
        if self.model == "mimann":
            return s / np.clip(s.sum(axis=1, keepdims=True), 1e-12, None)
        return softmax(s)
