"""The case matrix of the layer checks: which inputs each kind is tried on, and why.

Every case is chosen so that a realistic bug shows on every plan seed, not on some draws:
the seed changes sizes and values, never the structure of the matrix.

- affine: batch sizes 1 and odd; a 4-D input (flattened, as DLfS's Affine does; optional).
- sigmoid, relu: batch sizes 1 and odd; a 4-D input (elementwise; optional).
- softmax_cross_entropy: batch sizes 1 and odd, logits shifted by ±1000 (eq. 5–6), ties.
- batchnorm: batches of 4 and an odd size; every feature's batch variance is exactly
  s² with s ≥ 2, so the documented ε conventions (1e-5 … 1e-8, inside or outside the
  root) move a correct output by at most ~5e-6, far below the tolerance (eq. 28–31); a
  constant feature (only ε keeps it finite); two features of tiny variance that only
  name the ε convention (:mod:`grader.checks.api_variants`) and are never compared;
  4-D inputs per channel (the reference, CS231n's spatial BatchNorm) and per feature of
  the flattened vector (DLfS), each optional: a layer refuses the convention it lacks.
- conv2d: non-square kernels (kh ≠ kw), H ≠ W, strides 1–3 with paddings 0–2, batch 1
  and odd, sizes that do not divide the stride (eq. 56–62).
- maxpool2d: tiling and overlapping windows (3/2 and 2/1), odd sizes, batch 1; in every
  overlapping case each image's maximum sits where windows overlap, so a backward that
  overwrites instead of accumulating (eq. 64) is wrong there on every seed; padding
  (optional: the reference has none) with positive inputs, where zero and −∞ padding agree.

A case is ``optional`` (with the reason) when the course does not require the shape: a
layer that raises on it is not wrong, and the case is listed as not accepted; a layer that
answers must answer right. Every tensor is small enough to be probed on every coordinate
(:data:`MAX_PROBES`), so the numerical check covers borders, padding and overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reference.nn.factory import build_layer

MAX_PROBES = 512
EPS = 1e-5
# Forward tolerances (relative to the largest expected value). BatchNorm's covers ε
# conventions (see the module docstring); the loss's the "+1e-7 inside the log" of DLfS.
FORWARD_RTOL = {"batchnorm": 1e-4, "softmax_cross_entropy": 1e-3}
DEFAULT_RTOL = 1e-6


@dataclass
class LayerCase:
    """One input to one freshly built layer.

    ``convention`` says how the reference computes the expected values when the kind's
    contract has more than one reading: ``"flat"`` (BatchNorm on the flattened 4-D input),
    ``"pad"`` (pooling with zero padding). ``diagnostic`` lists features (last axis) that
    only name a variant and are left out of comparisons.
    """

    kind: str
    params: dict[str, np.ndarray]
    config: dict[str, Any]
    x: np.ndarray
    labels: np.ndarray | None = None
    optional: str = ""
    convention: str = ""
    diagnostic: list[int] = field(default_factory=list)

    @property
    def train(self) -> bool:
        return self.kind == "batchnorm"

    @property
    def is_loss(self) -> bool:
        return self.labels is not None

    @property
    def label(self) -> str:
        """The case in symbols, for messages: ``x(3, 2, 7, 6) W(4, 2, 2, 3) stride=2 pad=1``."""
        parts = [f"x{tuple(self.x.shape)}"]
        parts += [f"{n}{tuple(v.shape)}" for n, v in self.params.items()]
        parts += [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                  for k, v in self.config.items()]
        return " ".join(parts)

    def layer_request(self) -> dict[str, Any]:
        return {"op": "layer", "kind": self.kind, "params": self.params, "config": self.config}

    def eval_request(self, x: np.ndarray | None = None, labels: np.ndarray | None = None
                     ) -> dict[str, Any]:
        """Forward (or the loss) of ``x`` (default: the case's input) on the current layer."""
        x = self.x if x is None else x
        if self.is_loss:
            return {"op": "loss", "x": x, "labels": self.labels if labels is None else labels}
        return {"op": "forward", "x": x, "train": self.train}

    def fresh_request(self, x: np.ndarray, bumps: list | None = None,
                      project: np.ndarray | None = None) -> dict[str, Any]:
        """Evaluations on new objects (see the worker's ``fresh`` op)."""
        return {"op": "fresh", "kind": self.kind, "params": self.params, "config": self.config,
                "x": x, "train": self.train, "labels": self.labels, "project": project,
                "bumps": bumps}

    def compared(self, y: np.ndarray) -> np.ndarray:
        """``y`` without the diagnostic features."""
        if not self.diagnostic:
            return y
        return np.delete(y, self.diagnostic, axis=-1)


# --- what the reference says -------------------------------------------------------------


def _reference_layer(case: LayerCase) -> Any:
    config = {k: v for k, v in case.config.items() if k != "pad"} \
        if case.convention == "pad" else case.config
    return build_layer(case.kind, case.params, config)


def _into_reference(case: LayerCase, a: np.ndarray) -> np.ndarray:
    """The case's input (or an output gradient) as the reference layer takes it."""
    if case.convention == "flat":
        return a.reshape(len(a), -1)
    if case.convention == "pad":
        p = case.config["pad"]
        return np.pad(a, ((0, 0), (0, 0), (p, p), (p, p)))
    return a


def _from_reference(case: LayerCase, a: np.ndarray) -> np.ndarray:
    if case.convention == "flat":
        return a.reshape(case.x.shape)
    if case.convention == "pad":
        p = case.config["pad"]
        return a[:, :, p : a.shape[2] - p, p : a.shape[3] - p]
    return a


def reference_forward(case: LayerCase, x: np.ndarray | None = None) -> np.ndarray:
    """The reference's output (or loss) for ``x`` (default: the case's input)."""
    x = case.x if x is None else x
    layer = _reference_layer(case)
    if case.is_loss:
        return np.asarray(layer.forward(x, case.labels))
    y = layer.forward(_into_reference(case, x), case.train)
    return y.reshape(x.shape) if case.convention == "flat" else y


def reference_gradients(case: LayerCase, upstream: np.ndarray | None
                        ) -> dict[str, np.ndarray]:
    """The reference's ∂E/∂x (key ``"x"``) and ∂E/∂p of every parameter p, one forward."""
    layer = _reference_layer(case)
    if case.is_loss:
        layer.forward(case.x, case.labels)
        return {"x": layer.backward()}
    layer.forward(_into_reference(case, case.x), case.train)
    dout = upstream.reshape(len(upstream), -1) if case.convention == "flat" else upstream
    dx = _from_reference(case, layer.backward(dout))
    return {"x": dx, **{k: np.asarray(v) for k, v in layer.grads.items()}}


def windows_per_maximum(case: LayerCase) -> np.ndarray:
    """For max pooling: how many windows take each input pixel as their maximum."""
    layer = _reference_layer(case)
    y = layer.forward(_into_reference(case, case.x), False)
    return _from_reference(case, layer.backward(np.ones_like(y)))


# --- the matrix --------------------------------------------------------------------------


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with |v| ≥ 0.1, so a kink at 0 is never within a finite-difference step."""
    return rng.choice([-1.0, 1.0], size=shape) * (0.1 + np.abs(rng.normal(size=shape)))


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values at least 0.05 apart, so no pooling window has a tie."""
    return (rng.permutation(int(np.prod(shape))) * 0.05 - 1.0).reshape(shape) \
        + rng.uniform(0, 0.01, size=shape)


def standardised(rng: np.random.Generator, shape: tuple[int, ...], axes: tuple[int, ...]
                 ) -> np.ndarray:
    """Normal values whose mean over ``axes`` is exactly 0 and (biased) variance exactly 1."""
    z = rng.normal(size=shape)
    z -= z.mean(axis=axes, keepdims=True)
    return z / z.std(axis=axes, keepdims=True)


def _odd(rng: np.random.Generator) -> int:
    return int(rng.choice([3, 5, 7]))


def cases(kind: str, rng: np.random.Generator, for_gradients: bool = False) -> list[LayerCase]:
    """The seeded cases of ``kind`` (module docstring). ``for_gradients`` leaves out what
    only the forward check needs (BatchNorm's constant and diagnostic features)."""
    if kind == "batchnorm":
        return _batchnorm(rng, for_gradients)
    return _BUILDERS[kind](rng)


def _elementwise(kind: str, draw) -> Any:
    def build(rng: np.random.Generator) -> list[LayerCase]:
        shapes = [(1, int(rng.integers(3, 9))), (_odd(rng), int(rng.integers(3, 9)))]
        out = [LayerCase(kind, {}, {}, draw(rng, s)) for s in shapes]
        return [*out, LayerCase(kind, {}, {}, draw(rng, (2, 2, 3, 3)), optional="4-D input")]

    return build


def _affine(rng: np.random.Generator) -> list[LayerCase]:
    out = []
    for x_shape, optional in (((1, int(rng.integers(3, 8))), ""),
                              ((_odd(rng), int(rng.integers(3, 9))), ""),
                              ((3, 2, 3, 2), "4-D input")):
        m, d = int(rng.integers(2, 7)), int(np.prod(x_shape[1:]))
        out.append(LayerCase("affine", {"W": rng.normal(size=(m, d)), "b": rng.normal(size=m)},
                             {}, rng.normal(size=x_shape), optional=optional))
    return out


def _softmax(rng: np.random.Generator) -> list[LayerCase]:
    shift = np.array([[1000.0], [-1000.0], [700.0], [0.0], [5.0]])
    logits = [rng.normal(size=(1, 10)), rng.normal(size=(_odd(rng), 10)),
              rng.normal(size=(5, 10)) + shift, np.zeros((4, 10))]
    return [LayerCase("softmax_cross_entropy", {}, {}, a, labels=rng.integers(0, 10, len(a)))
            for a in logits]


def _batchnorm(rng: np.random.Generator, for_gradients: bool) -> list[LayerCase]:
    out = []
    config = {"eps": EPS, "momentum": 0.9}
    for batch in (4, int(rng.choice([5, 7]))):
        d = int(rng.integers(3, 7))
        x = rng.normal(0, 3, size=d) + rng.uniform(2, 5, size=d) * standardised(rng, (batch, d),
                                                                                 (0,))
        diagnostic: list[int] = []
        if not for_gradients:
            # A constant feature (only ε keeps x̂ finite), then two of standard deviation
            # 1e-3 and 1e-2 that name the ε convention.
            extra = [np.full(batch, 0.7)] + [0.3 + s * standardised(rng, (batch,), (0,))
                                               for s in (1e-3, 1e-2)]
            x = np.column_stack([x, *extra])
            diagnostic = [d + 1, d + 2]
        width = x.shape[1]
        out.append(LayerCase("batchnorm", {"gamma": rng.uniform(0.5, 1.5, width),
                                           "beta": rng.normal(size=width)},
                             config, x, diagnostic=diagnostic))
    shape = (4, 2, 2, 3)
    for convention, axes, width in (("", (0, 2, 3), shape[1]), ("flat", (0,), 12)):
        scale = rng.uniform(2, 5, size=shape[1:] if convention else (1, shape[1], 1, 1))
        x = 1.0 + scale * standardised(rng, shape, axes)
        out.append(LayerCase("batchnorm", {"gamma": rng.uniform(0.5, 1.5, width),
                                           "beta": rng.normal(size=width)}, config, x,
                             optional="4-D input, γ per channel" if not convention
                             else "4-D input, γ per feature of the flattened input",
                             convention=convention))
    return out


# (stride, pad, (kh, kw), batch, channels): non-square kernels, every stride/pad pairing.
CONV = ((1, 0, (3, 3), 2, 2), (2, 1, (2, 3), 1, 3), (1, 2, (3, 2), 3, 1),
        (3, 1, (1, 3), 1, 2))


def _conv(rng: np.random.Generator) -> list[LayerCase]:
    out = []
    for stride, pad, (kh, kw), batch, c in CONV:
        h = int(rng.integers(5, 8))
        w, f = h + int(rng.integers(1, 3)), int(rng.integers(2, 4))
        out.append(LayerCase("conv2d", {"W": rng.normal(size=(f, c, kh, kw)),
                                        "b": rng.normal(size=f)},
                             {"stride": stride, "pad": pad}, rng.normal(size=(batch, c, h, w))))
    return out


# (size, stride, pad, x shape)
POOL = ((2, 2, 0, (1, 3, 7, 6)), (3, 2, 0, (2, 2, 7, 8)), (2, 1, 0, (3, 1, 5, 6)),
        (2, 2, 1, (1, 2, 5, 6)))


def _pool(rng: np.random.Generator) -> list[LayerCase]:
    out = []
    for size, stride, pad, shape in POOL:
        x = distinct(rng, shape)
        config: dict[str, Any] = {"size": size, "stride": stride}
        if stride < size:
            _plant_shared_maximum(x, size, stride, rng)
        if pad:
            x += 2.0  # positive, so padding with 0 or with −∞ gives the same answer
            config["pad"] = pad
        out.append(LayerCase("maxpool2d", {}, config, x, optional="padding" if pad else "",
                             convention="pad" if pad else ""))
    return out


def _plant_shared_maximum(x: np.ndarray, size: int, stride: int,
                          rng: np.random.Generator) -> None:
    """Move each image's maximum to a pixel that several windows cover (in place)."""
    h, w = x.shape[2:]
    rows = [i for i in range(h) if _windows_covering(i, h, size, stride) > 1]
    cols = [j for j in range(w) if _windows_covering(j, w, size, stride) > 1]
    for image in x.reshape(-1, h, w):
        image[int(rng.choice(rows)), int(rng.choice(cols))] = image.max() + 0.5


def _windows_covering(i: int, n: int, size: int, stride: int) -> int:
    """How many windows along an axis of length n contain position i."""
    starts = range(0, n - size + 1, stride)
    return sum(s <= i < s + size for s in starts)


_BUILDERS = {
    "affine": _affine,
    "sigmoid": _elementwise("sigmoid", lambda rng, s: rng.normal(0, 3, size=s)),
    "relu": _elementwise("relu", away_from_zero),
    "softmax_cross_entropy": _softmax,
    "conv2d": _conv,
    "maxpool2d": _pool,
}
