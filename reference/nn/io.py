"""Save and load a network: ``np.savez`` arrays plus the architecture as JSON.

Files load with ``allow_pickle=False``: nothing in them can run code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from reference.nn.model import Sequential

ARCH_KEY = "__architecture__"
FORMAT = "le4nn-params/1"


class ModelFileError(ValueError):
    """A parameter file that is missing, corrupt or not one of ours."""


def save_model(path: str | os.PathLike, model: Sequential) -> Path:
    """Write every parameter, every state array (BatchNorm's running statistics) and the
    architecture to ``path`` (``.npz`` appended if absent)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    meta = json.dumps({"format": FORMAT, "layers": model.architecture()})
    tmp = path.with_name(f".{path.name}.tmp.npz")
    np.savez(tmp, **{ARCH_KEY: np.array(meta)}, **_arrays(model))
    os.replace(tmp, path)
    return path


def load_model(path: str | os.PathLike) -> Sequential:
    """Rebuild the network saved by :func:`save_model`, with its parameters."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise ModelFileError(f"{path}: parameter file not found — run task 3 first") from None
    except (OSError, ValueError) as e:
        raise ModelFileError(f"{path}: not a readable .npz parameter file ({e})") from None
    if ARCH_KEY not in arrays:
        raise ModelFileError(f"{path}: no architecture record; was it written by save_model?")
    try:
        meta = json.loads(str(arrays.pop(ARCH_KEY)))
        model = Sequential.from_architecture(meta["layers"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"{path}: architecture record is invalid ({e})") from None
    expected = _arrays(model)
    if set(expected) != set(arrays):
        raise ModelFileError(
            f"{path}: parameters {sorted(arrays)} do not match the architecture "
            f"{sorted(expected)}"
        )
    for name, target in expected.items():
        if arrays[name].shape != target.shape:
            raise ModelFileError(
                f"{path}: {name} has shape {arrays[name].shape}, expected {target.shape}"
            )
    for i, layer in enumerate(model.layers):
        for store in (layer.params, layer.state):
            for name in store:
                store[name] = arrays[f"{i}.{name}"]
    return model


def _arrays(model: Sequential) -> dict[str, np.ndarray]:
    """Parameters and state of ``model``, keyed ``"<layer index>.<name>"``."""
    return {**dict(model.named_params()), **dict(model.named_state())}
