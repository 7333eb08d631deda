"""le4nn-grader: grades submissions of the le4nn course in a sandbox and reports on them.

This package never imports student code: student programs run in :mod:`grader.sandbox`.
"""

import os

# Before numpy is loaded (the command line imports this package first): OpenBLAS then starts
# no thread pool at all, so its fork handler has nothing to wait for.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from threadpoolctl import threadpool_limits

__version__ = "0.1.0"

# The grader's own numpy runs single-threaded: the student processes have the cores, and
# OpenBLAS's fork handler deadlocks when a sandbox is started (fork) while another thread
# is inside a multithreaded BLAS call (the consistency check's network, for instance).
threadpool_limits(limits=1, user_api="blas")
