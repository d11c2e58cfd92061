"""eegbin.quantize"""

# mubinn branch: multi-level binarization (MuBiNN Algorithm 1, eq. 9)
from .mlb import (
    MultiLevelBinarizer,
    MultiLevelCode,
    mlb_dot,
    mlb_matmul,
    multilevel_binarize,
    reconstruct,
)

__all__ = list(globals().get("__all__", [])) + [  # mubinn branch: extends any __all__ above
    "MultiLevelBinarizer",
    "MultiLevelCode",
    "mlb_dot",
    "mlb_matmul",
    "multilevel_binarize",
    "reconstruct",
]
