"""The course's task programs (§4: tasks 1–4) as ``python -m reference.tasks.taskN``."""
