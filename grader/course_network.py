"""The network of tasks 3–4 (§4.2.1, eq. 1–6), rebuilt from the arrays a student saved.

The grader does not know how a student named, shaped or ordered the parameters, so it
tries every reading of the arrays that fits the course network and keeps the one whose
predictions agree best with the answers task 4 gave:

- W⁽¹⁾ is any 2-D array with a side of D = 784 (D×M, or M×D as in the course's
  column-vector notation), W⁽²⁾ any M×10 or 10×M array, b⁽¹⁾ and b⁽²⁾ arrays of M and 10
  values shaped (n,), (n, 1) or (1, n) (zeros when none fits);
- the hidden layer is the course's sigmoid (eq. 2) or a ReLU (advanced task A1);
- the input is x/255 (the course) or the raw pixels.

Eq. 3–6: the output layer is affine, the softmax is monotonic, so the predicted class is
the argmax of the output layer's input. Readings are tried arrays from one file first,
then across files (one ``.npy`` per array), at most ``MAX_LAYOUTS`` of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from grader.params_reader import NamedArray

N_CLASSES = 10
MAX_LAYOUTS = 256
ACTIVATIONS = ("sigmoid", "ReLU")
SCALINGS = ("x/255", "x")
# Of the outputs' spread. float32 rounding moves an output by ~1e-6 of it; dividing by 256
# instead of 255, or by 2 % more, flips none of the reference network's mistakes above this.
MIN_MARGIN = 0.02


@dataclass(frozen=True)
class Oriented:
    """A weight array, and whether it is stored as (out, in) and must be transposed."""

    array: NamedArray
    transposed: bool

    def matrix(self) -> np.ndarray:
        """The weights as (in, out), float64."""
        a = np.asarray(self.array.array, dtype=np.float64)
        return a.T if self.transposed else a

    def describe(self) -> str:
        """``file:key (784×100)``, with ᵀ when the array is used transposed."""
        return f"{self.array.name}{'ᵀ' if self.transposed else ''} ({_shape(self.array)})"


@dataclass(frozen=True)
class Layout:
    """Which arrays play W⁽¹⁾, b⁽¹⁾, W⁽²⁾, b⁽²⁾ (a missing bias is zero)."""

    w1: Oriented
    b1: NamedArray | None
    w2: Oriented
    b2: NamedArray | None

    def describe(self) -> str:
        def bias(b: NamedArray | None) -> str:
            return f"{b.name} ({_shape(b)})" if b is not None else "0"

        return (f"W1 = {self.w1.describe()}, b1 = {bias(self.b1)}, "
                f"W2 = {self.w2.describe()}, b2 = {bias(self.b2)}")


@dataclass(frozen=True)
class Match:
    """The best-agreeing reading: layout, activation, input scaling, and its predictions."""

    layout: Layout
    activation: str
    scaling: str
    predictions: np.ndarray
    agreement: int

    def describe(self) -> str:
        """Language-neutral (it goes into ja and en messages alike): names, shapes, math."""
        return f"{self.layout.describe()}; {self.activation}(·); {self.scaling}"


def _shape(a: NamedArray) -> str:
    return "×".join(map(str, a.shape))


def _orientations(a: NamedArray, n_in: int, n_out: int | None) -> list[Oriented]:
    """How ``a`` can be an (n_in, n_out) weight matrix (any n_out when None)."""
    if a.array.ndim != 2:
        return []
    rows, cols = a.shape
    found = []
    if rows == n_in and (n_out is None or cols == n_out):
        found.append(Oriented(a, False))
    if cols == n_in and (n_out is None or rows == n_out):
        found.append(Oriented(a, True))
    return found


def _biases(arrays: list[NamedArray], n: int, taken: set[int]) -> list[NamedArray | None]:
    """Arrays of ``n`` values shaped (n,), (n, 1) or (1, n); [None] when there are none."""
    fits = [a for a in arrays if id(a) not in taken and a.shape in {(n,), (n, 1), (1, n)}]
    return fits or [None]


def _layouts_in(arrays: list[NamedArray], n_in: int) -> Iterator[Layout]:
    for a1 in arrays:
        for w1 in _orientations(a1, n_in, None):
            hidden = w1.matrix().shape[1]
            for a2 in arrays:
                if a2 is a1:
                    continue
                for w2 in _orientations(a2, hidden, N_CLASSES):
                    taken = {id(a1), id(a2)}
                    for b1 in _biases(arrays, hidden, taken):
                        used = taken | ({id(b1)} if b1 is not None else set())
                        for b2 in _biases(arrays, N_CLASSES, used):
                            yield Layout(w1, b1, w2, b2)


def _file_of(a: NamedArray) -> str:
    return a.name.split(":", 1)[0]


def layouts(arrays: list[NamedArray], n_in: int) -> list[Layout]:
    """Every reading of ``arrays`` as the course network: one file at a time, then all."""
    by_file = [list(g) for _, g in itertools.groupby(arrays, key=_file_of)]
    groups = [*by_file, arrays] if len(by_file) > 1 else by_file
    seen: set[tuple[int, ...]] = set()
    found: list[Layout] = []
    for layout in itertools.chain.from_iterable(_layouts_in(g, n_in) for g in groups):
        key = (id(layout.w1.array), layout.w1.transposed, id(layout.b1),
               id(layout.w2.array), layout.w2.transposed, id(layout.b2))
        if key not in seen:
            seen.add(key)
            found.append(layout)
            if len(found) == MAX_LAYOUTS:
                break
    return found


def _bias(b: NamedArray | None) -> np.ndarray | float:
    return 0.0 if b is None else np.asarray(b.array, dtype=np.float64).reshape(-1)


def logits(layout: Layout, activation: str, scaling: str, images: np.ndarray) -> np.ndarray:
    """The output layer's input for each image (eq. 1–4); −inf where it is not a number.

    images : ndarray, shape (N, H, W), uint8  →  ndarray, shape (N, 10), float64
    """
    x = images.reshape(len(images), -1).astype(np.float64)
    if scaling == "x/255":
        x = x / 255.0
    with np.errstate(all="ignore"):
        a = x @ layout.w1.matrix() + _bias(layout.b1)  # eq. 1
        # eq. 2, written with tanh so that no input overflows exp
        hidden = 0.5 * (1.0 + np.tanh(0.5 * a)) if activation == "sigmoid" else np.maximum(a, 0)
        out = hidden @ layout.w2.matrix() + _bias(layout.b2)  # eq. 4
    return np.nan_to_num(out, nan=-np.inf)


def predict(layout: Layout, activation: str, scaling: str, images: np.ndarray) -> np.ndarray:
    """The class the network gives each image (eq. 5–6: the softmax keeps the order).

    images : ndarray, shape (N, H, W), uint8  →  ndarray, shape (N,), int
    """
    return logits(layout, activation, scaling, images).argmax(axis=1)


def clear_mistakes(match: Match, images: np.ndarray, labels: np.ndarray, count: int,
                   skip: set[int], rng: np.random.Generator) -> list[int]:
    """``count`` images, drawn at random, that the matched network gets clearly wrong.

    There a program that classifies with the network agrees with it, and anything else (a
    lookup of the true labels, another network) mostly does not. "Clearly": the best output
    leads the second by more than ``MIN_MARGIN`` of the outputs' spread, so neither float32
    rounding nor a slightly other input scaling flips an honest answer. Drawn, not the
    widest mistakes: those are the ambiguous or mislabelled digits that every network gets
    wrong the same way.

    images : ndarray, shape (N, H, W), uint8; labels : ndarray, shape (N,), int
    Returns up to ``count`` indices into ``images``, none of them in ``skip``.
    """
    out = logits(match.layout, match.activation, match.scaling, images)
    ordered = np.sort(out, axis=1)
    with np.errstate(invalid="ignore"):
        margin = ordered[:, -1] - ordered[:, -2]
        clear = margin > MIN_MARGIN * (ordered[:, -1] - ordered[:, 0])
    wrong = (out.argmax(axis=1) != labels) & clear
    wrong[list(skip)] = False
    candidates = np.flatnonzero(wrong)
    return rng.permutation(candidates)[:count].tolist()


def best_match(arrays: list[NamedArray], images: np.ndarray,
               answers: np.ndarray) -> Match | None:
    """The reading of ``arrays`` that agrees with ``answers`` most; None if none fits.

    images : ndarray, shape (N, H, W), uint8
    answers : ndarray, shape (N,), int — the digits task 4 printed, −1 where it gave none
    """
    best: Match | None = None
    n_in = int(np.prod(images.shape[1:]))
    for layout in layouts(arrays, n_in):
        for activation, scaling in itertools.product(ACTIVATIONS, SCALINGS):
            predictions = predict(layout, activation, scaling, images)
            agreement = int(np.sum(predictions == answers))
            if best is None or agreement > best.agreement:
                best = Match(layout, activation, scaling, predictions, agreement)
                if agreement == len(answers):
                    return best
    return best
