"""Arrays over JSON lines: the one encoding of the grader ↔ worker channel.

Arrays travel as ``{"__array__": [dtype, shape, base64 bytes]}``; only numeric dtypes are
accepted either way, so an answer can never carry an object that would run code.
"""

from __future__ import annotations

import base64

import numpy as np


def decode(value):
    """JSON value → Python, arrays rebuilt; safe on untrusted input (numbers only)."""
    if isinstance(value, dict):
        if "__array__" in value:
            dtype, shape, data = value["__array__"]
            if np.dtype(dtype).kind not in "biuf":
                raise ValueError(f"array of dtype {dtype} is not numeric")
            return np.frombuffer(base64.b64decode(data), dtype=dtype).reshape(shape).copy()
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def encode(value):
    if isinstance(value, np.ndarray | np.generic):
        arr = np.ascontiguousarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"returned an array of dtype {arr.dtype}, expected numbers")
        return {"__array__": [arr.dtype.str, list(arr.shape),
                              base64.b64encode(arr.tobytes()).decode("ascii")]}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    raise TypeError(f"returned a {type(value).__name__}, expected an array or a number")
