"""le4nn-grader: grades submissions of the le4nn course in a sandbox and reports on them.

This package never imports student code: student programs run in :mod:`grader.sandbox`.
"""

__version__ = "0.1.0"
