"""Errors raised by the data loaders."""


class DataError(ValueError):
    """A data file or directory is missing, malformed or inconsistent.

    The message is a single line that names the offending file or directory by its full path,
    says what was found and what was expected, and where useful what to do about it, so that it
    can be shown to a student as-is in a grading report.
    """
