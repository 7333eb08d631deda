"""The framework worker: runs INSIDE the sandbox, builds a submitted PyTorch model from its
module and state dict, and runs it on the inputs the grader sends.

Started by :func:`grader.api_client.ask` with ``module="framework_worker"``; it reuses the
JSON-lines protocol, array encoding and error records of the check worker (:mod:`.worker`,
in the same package). It imports only the standard library, numpy, torch and that module —
never the grader, which the sandbox does not show. It judges nothing.

Requests:
    {"op": "build", "module": M, "factory": F, "weights": W} → {"parameters": n, "class": C}
    {"op": "run", "x": X}                                     → {"y": Y}

``build`` imports the submission's module ``M``, calls ``M.F()``, loads the state dict
``W`` with ``torch.load(W, map_location="cpu", weights_only=True)`` (a pickled module or
any other object that could run code is refused by torch), loads it strictly and puts
the model in eval mode. ``run`` feeds X (float32) to the model under ``torch.no_grad()``
in chunks and returns its output as float32.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from . import worker

CHUNK = 250  # images per forward call: bounded memory whatever the sample size


class FrameworkWorker:
    """Answers ``build`` and ``run``; made like the check worker's ``Worker(folder)``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.model = None

    def handle(self, req: dict) -> dict:
        if req["op"] == "build":
            return self.build(req["module"], req["factory"], req["weights"])
        if req["op"] == "run":
            return {"y": self.run(req["x"])}
        raise ValueError(f"unknown op {req['op']!r}")

    def build(self, module: str, factory: str, weights: str) -> dict:
        import torch

        model = getattr(importlib.import_module(module), factory)()
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"{module}.{factory}() returned a {type(model).__name__}, "
                            "expected a torch.nn.Module")
        state = torch.load(self.folder / weights, map_location="cpu", weights_only=True)
        if not isinstance(state, Mapping):
            raise TypeError(f"{weights} holds a {type(state).__name__}, not a state dict: "
                            f"save it with torch.save(model.state_dict(), {weights!r})")
        model.load_state_dict(state)
        self.model = model.eval()
        return {"parameters": sum(p.numel() for p in model.parameters()),
                "class": type(model).__name__}

    def run(self, x: np.ndarray) -> np.ndarray:
        import torch

        if self.model is None:
            raise RuntimeError("no model: it could not be built and loaded")
        outputs = []
        with torch.no_grad():
            for start in range(0, len(x), CHUNK):
                y = self.model(torch.from_numpy(np.ascontiguousarray(x[start : start + CHUNK],
                                                                     dtype=np.float32)))
                if not isinstance(y, torch.Tensor):
                    raise TypeError(f"the model returned a {type(y).__name__}, expected one "
                                    "tensor")
                outputs.append(y.detach().cpu().float().numpy())
        return np.concatenate(outputs)


def main() -> None:
    # The check worker's main, serving this worker: the same protocol channel, the same
    # redirection of the student's prints and reads, the submission folder on sys.path.
    worker.Worker = FrameworkWorker
    worker.main()


if __name__ == "__main__":
    main()
