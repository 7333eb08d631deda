"""Task 4 of the course, solved by the reference library (a student-shaped submission)."""

from reference.tasks.common import run_cli
from reference.tasks.task4 import main

run_cli(main)
