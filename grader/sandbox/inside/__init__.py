"""Code that runs INSIDE the sandbox, beside the student's code.

The grader copies this package into the sandbox's tools folder as ``le4nn_inside``
(:func:`grader.sandbox.tools.install_tools`) and starts a module of it with
:meth:`grader.sandbox.Sandbox.inside`. Modules here import only the standard library,
numpy (and torch for the framework worker) and each other, relatively — never the grader,
which is not visible in the sandbox.

- :mod:`.worker` — the check worker: JSON-lines requests, the student's layers and optimizers;
- :mod:`.ablation_worker` — trains a network of the student's layers for the ablations;
- :mod:`.framework_worker` — builds and runs the student's torch models (B1–B3).
"""
