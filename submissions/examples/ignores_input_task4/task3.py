"""Task 3, done right (the mistake of this example is in task 4)."""

from reference.tasks.common import run_cli
from reference.tasks.task3 import main

run_cli(main, ["--epochs", "10"])
