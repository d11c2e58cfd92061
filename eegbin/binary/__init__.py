"""eegbin.binary"""

from .memory import BinaryKeyValueMemory, cosine_from_hamming, memory_readout, sharpen_attention

__all__ = ["BinaryKeyValueMemory", "cosine_from_hamming", "memory_readout", "sharpen_attention"]
