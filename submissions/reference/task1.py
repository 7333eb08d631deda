"""Task 1 of the course, solved by the reference library (a student-shaped submission)."""

from reference.tasks.common import run_cli
from reference.tasks.task1 import main

run_cli(main)
