"""eegbin.quantize"""

from .mlb import (
    MultiLevelBinarizer,
    MultiLevelCode,
    mlb_dot,
    mlb_matmul,
    multilevel_binarize,
    reconstruct,
)
