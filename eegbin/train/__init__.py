"""Optional quantization-aware training (extra ``torch``); imported lazily, never by inference."""
