"""Ablation studies: declarative sweeps of one factor, trained on the reference or on a
submission's own layers and optimizers, with cached runs, a tidy CSV and a report.

- :mod:`grader.ablations.sweep` — the TOML schema, the factors and the shipped defaults
- :mod:`grader.ablations.network` — initial weights, seed streams, the training request
- :mod:`grader.ablations.data` — the data regime written as MNIST IDX files
- :mod:`grader.ablations.runs` — one run, on the reference or in the sandbox
- :mod:`grader.ablations.reference_run` — the child process that trains the reference
- :mod:`grader.ablations.store` — the on-disk cache of finished runs
- :mod:`grader.ablations.execute` — every run of the sweeps in parallel, the tidy table
- :mod:`grader.ablations.summary` — statistics over seeds and the generated findings
- :mod:`grader.ablations.plots` — the figures
- :mod:`grader.ablations.report` — the report view, Markdown and HTML
- :mod:`grader.ablations.cli` — ``python -m grader ablations``

This package imports nothing here, so that ``python -m grader.ablations.reference_run``
stays a light child process.
"""
