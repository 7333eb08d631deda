"""Grading a whole class: discover submissions, grade them in parallel, resume, report.

- :mod:`grader.batch.discover` — one entry per student (folder, zip or single notebook)
- :mod:`grader.batch.executors` — a local process pool or a Dask cluster, one interface
- :mod:`grader.batch.remote` — on Dask: what travels to a worker and back (no shared folder)
- :mod:`grader.batch.progress` — a terminal progress line with an ETA, and a JSONL event log
- :mod:`grader.batch.run` — the loop: skip what is graded already, publish atomically
"""

from grader.batch.errors import BatchAborted
from grader.batch.run import BatchSummary, run_batch

__all__ = ["BatchAborted", "BatchSummary", "run_batch"]
