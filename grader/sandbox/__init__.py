"""Everything that runs student code, and the code that runs inside the sandbox.

- :mod:`grader.sandbox.runner` — one program run: bubblewrap, rlimits, timeouts, output caps;
- :mod:`grader.sandbox.cgroup` — a pids cgroup per run (fork bombs);
- :mod:`grader.sandbox.tools` — installs :mod:`grader.sandbox.inside` where the sandbox sees it;
- :mod:`grader.sandbox.inside` — the workers that run INSIDE the sandbox (standard library and
  numpy only: they import student code, so they never import the grader).
"""

from grader.sandbox.runner import Limits, RunResult, Sandbox, bwrap_status

__all__ = ["Limits", "RunResult", "Sandbox", "bwrap_status"]
