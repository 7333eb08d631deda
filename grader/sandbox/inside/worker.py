"""The check worker: runs INSIDE the sandbox, imports student code, executes requests.

Started as ``python worker.py`` with the submission's workspace as its working folder.
It reads one JSON request per line from stdin and writes one JSON answer per line to
its protocol channel (the original stdout; the student code's own ``print`` goes to
stderr so it cannot corrupt the protocol). It judges nothing: the grader sends inputs,
this script returns what the student code computed, and the grader compares.

It imports only the standard library, numpy and its own package (``le4nn_inside``:
:mod:`.protocol` for arrays over JSON, :mod:`.discovery` to find the student's classes,
:mod:`.wrappers` for their interface), never the grader, which the sandbox does not show.

Requests (arrays travel as ``{"__array__": [dtype, shape, base64 bytes]}``):
    {"op": "layer", "kind": K, "params": {...}, "config": {...}}   → {"params": names}
    {"op": "forward", "x": X, "train": bool, "project": G | null}  → {"y": Y} or {"dot": s}
    {"op": "loss", "x": X, "labels": L}                             → {"loss": float}
    {"op": "backward", "dout": D | null}                            → {"dx": DX, "grads": {...}}
    {"op": "set_params", "params": {...}}                           → {}
    {"op": "state", "names": [...]}                                 → {"state": {...}}
    {"op": "fresh", "kind": K, "params": {...}, "config": {...}, "x": X, "train": bool,
     "project": G | null, "labels": L | null, "bumps": [[name, i, δ], ...] | null}
                                                                    → {"values": [...]}
    {"op": "optimizer", "kind": K, "hyper": {...}, "params": {...}} → {}
    {"op": "step", "grads": {...}}                        → {"params", "handed", "same"}
    {"op": "regularizer", "kind": "weight_decay", "hyper": {"lam", "lr"}} → {"found": ...}
    {"op": "decay", "params": {...}, "grads": {...}}            → {"grads": {...}}
    {"op": "penalty", "params": {...}}                          → {"penalty": float | null}
    {"op": "modules"}                                               → {"modules": [...]}
    {"op": "reset", "check": n}                                     → {"check": n}
``reset`` starts check number n on fresh objects (one worker serves every API check of a
submission; the grader sends it ahead of each check's requests and matches the echo).
Every answer is ``{"ok": true, ...}`` or ``{"ok": false, "error": "...", "where": "..."}``.

``fresh`` evaluates the layer once per bump, each time on a NEW object built from the
parameters (``params[name].flat[i] += δ``, or ``x.flat[i] += δ`` for the name ``"x"``;
no bumps: one evaluation as given): what an earlier call left in an object cannot
change the values. Each value is the loss (``labels``), ⟨y, G⟩ (``project``) or y.

``step`` answers what the network would see: ``handed``, the arrays the optimizer was
given (now updated in place, or not), ``params``, what the dict holds now, and
``same[name]``, whether the dict still holds the very array it was given.
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
import traceback
from pathlib import Path

import numpy as np

from .discovery import NotAttempted, Registry
from .protocol import decode, encode

MAX_TRACE_LINES = 6


class Worker:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._registry: Registry | None = None
        self.layer = None
        self.optimizer = None
        self.regularizer = None
        self.opt_params: dict = {}
        self.handed: dict = {}

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = Registry(self.folder)
        return self._registry

    def handle(self, req: dict) -> dict:
        op = req["op"]
        if op == "reset":
            self.layer, self.optimizer, self.opt_params, self.handed = None, None, {}, {}
            self.regularizer = None
            return {"check": req.get("check")}
        if op == "layer":
            self.layer = self.registry.layer(req["kind"], req["params"], req.get("config", {}))
            return {"found": self.registry.found.get(req["kind"])}
        if op == "forward":
            y = self.layer.forward(req["x"], req.get("train", False))
            if req.get("project") is not None:
                return {"dot": float(np.sum(np.asarray(y, dtype=np.float64) * req["project"]))}
            return {"y": y}
        if op == "loss":
            return {"loss": float(self.layer.loss(req["x"], req["labels"]))}
        if op == "backward":
            dx, grads = self.layer.backward(req.get("dout"))
            return {"dx": np.asarray(dx), "grads": {k: np.asarray(v) for k, v in grads.items()}}
        if op == "set_params":
            self.layer.set_params(req["params"])
            return {}
        if op == "state":
            return {"state": {k: np.asarray(v) for k, v in self.layer.state(req["names"]).items()}}
        if op == "fresh":
            return {"values": [self._fresh_value(req, bump) for bump in req.get("bumps")
                               or [None]]}
        if op == "optimizer":
            self.optimizer = self.registry.optimizer(req["kind"], req.get("hyper", {}))
            self.opt_params = {k: np.array(v) for k, v in req["params"].items()}
            self.handed = dict(self.opt_params)
            return {"found": self.registry.found.get(req["kind"])}
        if op == "step":
            self.optimizer.update(self.opt_params, req["grads"])
            return {"params": dict(self.opt_params), "handed": self.handed,
                    "same": {k: self.opt_params.get(k) is v for k, v in self.handed.items()}}
        if op == "regularizer":
            self.regularizer = self.registry.regularizer(req["kind"], req.get("hyper", {}))
            return {"found": self.registry.found.get(req["kind"])}
        if op == "decay":
            return {"grads": {k: np.asarray(v) for k, v in
                              self.regularizer.gradients(req["params"], req["grads"]).items()}}
        if op == "penalty":
            return {"penalty": self.regularizer.penalty(req["params"])}
        if op == "modules":
            self.registry.import_all()
            return {"modules": sorted(m.split(".")[0] for m in sys.modules)}
        raise ValueError(f"unknown op {op!r}")

    def _fresh_value(self, req: dict, bump: list | None):
        """One evaluation of ``fresh`` on a new layer object (copies: it may write into them)."""
        params = {k: np.array(v) for k, v in req["params"].items()}
        x = np.array(req["x"])
        if bump is not None:
            name, index, delta = bump
            (x if name == "x" else params[name]).flat[index] += delta
        layer = self.registry.layer(req["kind"], params, req.get("config", {}))
        if req.get("labels") is not None:
            return float(layer.loss(x, req["labels"]))
        y = layer.forward(x, req.get("train", False))
        if req.get("project") is not None:
            return float(np.sum(np.asarray(y, dtype=np.float64) * req["project"]))
        return np.asarray(y)


def _not_student_code(path: str) -> bool:
    """Frames of this package, of numpy and of the standard library are not the student's."""
    if path.startswith("<"):  # <frozen importlib._bootstrap>, <string>
        return True
    folder = Path(path).resolve()
    return any(folder.is_relative_to(root) for root in _LIBRARY_ROOTS)


_LIBRARY_ROOTS = tuple({Path(__file__).resolve().parent, Path(np.__file__).resolve().parent,
                        Path(sysconfig.get_paths()["stdlib"]).resolve()})


def _error(e: BaseException) -> dict:
    frames = traceback.extract_tb(e.__traceback__)
    student = [f for f in frames if not _not_student_code(f.filename)]
    where = f"{Path(student[-1].filename).name}:{student[-1].lineno}" if student else ""
    return {"ok": False, "error": f"{type(e).__name__}: {e}"[:500], "where": where,
            "not_attempted": isinstance(e, NotAttempted), "reason": getattr(e, "reason", None),
            "trace": "".join(traceback.format_exception(e)[-MAX_TRACE_LINES:])}


def main() -> None:
    # The protocol keeps the real stdout; the student's prints and reads are redirected
    # so they can neither corrupt answers nor swallow requests.
    with open(os.dup(1), "w", encoding="utf-8") as channel, \
            open(os.dup(0), encoding="utf-8") as requests:
        os.dup2(2, 1)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        sys.stdout = sys.stderr
        folder = Path.cwd()
        sys.path.insert(0, str(folder))
        serve(Worker(folder), requests, channel)


def serve(worker: Worker, requests, channel) -> None:
    """Answer each request line on ``channel``; one failing request never ends the loop."""
    for line in requests:
        if not line.strip():
            continue
        try:
            answer = {"ok": True, **encode(worker.handle(decode(json.loads(line))))}
        except (Exception, SystemExit) as e:  # student code may raise anything, even exit
            answer = _error(e)
        channel.write(json.dumps(answer) + "\n")
        channel.flush()

if __name__ == "__main__":
    main()
