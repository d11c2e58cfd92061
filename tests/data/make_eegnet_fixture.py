"""Train the small EEGNet of the README's tour and write ``eegnet_simulated_s1.safetensors``.

Subject 1 of the simulated dataset, session ``0train`` only, epochs band-passed to 4-30 Hz
and resampled to 64 Hz (as the README loads them); exported with :func:`eegbin.train.export`
(weights and metadata only, no code). 40 epochs: about 0.70 accuracy on 0train and 0.52
on 1test (chance 0.25). Rerun after a change to the training or export code:

    python tests/data/make_eegnet_fixture.py
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # eegbin from this checkout

from eegbin.datasets import load_motor_imagery  # noqa: E402
from eegbin.train import TorchEEGClassifier, export  # noqa: E402

EPOCHS = dict(fmin=4.0, fmax=30.0, resample=64.0)
MODEL = dict(kernel_length=32, pool1=4, pool2=8)


def main(max_epochs=40):
    X, y, meta = load_motor_imagery("simulated", subjects=[1], **EPOCHS)
    train = (meta.session == "0train").to_numpy()
    net = TorchEEGClassifier("eegnet", model_params=MODEL, max_epochs=max_epochs, batch_size=32, lr=3e-3,
                             random_state=0).fit(X[train], y[train])
    path, state_dict = export(net, HERE / "eegnet_simulated_s1.safetensors")
    state_dict.unlink()  # the README reads the safetensors file; the .pt copy is not needed
    print(f"{path}: accuracy on 0train {net.score(X[train], y[train]):.3f}, "
          f"on 1test {net.score(X[~train], y[~train]):.3f}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
