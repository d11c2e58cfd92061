"""C99 source text: identifiers and exact array literals."""

from __future__ import annotations

import os
import re

import numpy as np

__all__ = []

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: C99 keywords and names the generated files use from <stdint.h>/<math.h>
_RESERVED = frozenset(
    """auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef union
    unsigned void volatile while _Bool _Complex _Imaginary""".split()
)


def check_name(name):
    """``name`` as a C identifier for the model's files and functions, or a clear error."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str (a C identifier), got {type(name).__name__}")
    if not _IDENTIFIER.match(name):
        raise ValueError(
            f"name must be a C identifier (letters, digits, underscores, not starting with a "
            f"digit), got {name!r}"
        )
    if name in _RESERVED or name.startswith("eb_") or name.startswith("__"):
        raise ValueError(f"name {name!r} is a C keyword or a reserved prefix (eb_, __); choose another")
    return name


def check_directory(directory):
    """``directory`` as a str path, or a TypeError naming it (bytes and non-paths refused)."""
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory must be a str or path-like, got {type(directory).__name__} {directory!r}")
    directory = os.fspath(directory)
    if not isinstance(directory, str):
        raise TypeError(f"directory must be a str or path-like giving a str, got {directory!r}")
    return directory


def check_text(value, name):
    """``value`` if it is a str (a tool name or flag), or a TypeError naming ``name``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__} {value!r}")
    return value


def _float32_literal(v):
    s = str(np.float32(v))  # numpy prints the shortest decimal that round-trips to float32
    if "inf" in s or "nan" in s:
        raise ValueError(f"cannot write the non-finite value {v!r} into C source")
    if "." not in s and "e" not in s:
        s += ".0"
    return s + "f"


def _float64_literal(v):
    s = repr(float(v))
    if "inf" in s or "nan" in s:
        raise ValueError(f"cannot write the non-finite value {v!r} into C source")
    if "." not in s and "e" not in s:
        s += ".0"
    return s


def literals(values, ctype):
    """C literals of ``values`` for an array of ``ctype``, exact (round-trip) for floats."""
    values = np.asarray(values).ravel()
    if ctype == "float":
        return [_float32_literal(v) for v in values.astype(np.float32)]
    if ctype == "double":
        return [_float64_literal(v) for v in values.astype(np.float64)]
    if ctype == "uint64_t":
        return [f"UINT64_C(0x{int(v):016X})" for v in values.astype(np.uint64)]
    if ctype in ("int8_t", "int16_t", "int32_t"):
        return [str(int(v)) for v in values]
    if ctype in ("uint8_t", "uint16_t", "uint32_t"):
        return [f"{int(v)}u" for v in values]
    raise ValueError(f"no literal format for C type {ctype!r}")


def array_initializer(values, ctype, per_line=None):
    """``{ a, b, ... }`` spread over lines of a readable width."""
    items = literals(values, ctype)
    if not items:
        raise ValueError("C99 forbids empty arrays")
    if per_line is None:
        per_line = max(1, 96 // (max(len(s) for s in items) + 2))
    lines = [
        "    " + ", ".join(items[i:i + per_line]) + ","
        for i in range(0, len(items), per_line)
    ]
    return "{\n" + "\n".join(lines) + "\n}"


#: bytes of one element of each C type the generator writes
SIZEOF = {
    "float": 4, "double": 8, "uint64_t": 8, "int8_t": 1, "uint8_t": 1, "int16_t": 2,
    "uint16_t": 2, "int32_t": 4, "uint32_t": 4,
}
