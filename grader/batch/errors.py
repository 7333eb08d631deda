"""What stops a batch: a full disk is the grader's problem, never a student's result."""

from __future__ import annotations

import errno

NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


class BatchAborted(RuntimeError):
    """The batch cannot go on here (the disk is full); what finished is kept."""


def out_of_space(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in NO_SPACE
