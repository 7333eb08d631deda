"""Run untrusted student programs: a child process with limits, inside bubblewrap when present.

Every run gets a wall-clock timeout with a kill of its whole process group, rlimits on
CPU time, address space, file size and processes, a scrubbed environment and capped
captured output. With bubblewrap (``bwrap``) the program also sees a read-only system,
no network, only its workspace writable, the handed-over data read-only, and nothing of
the grader's files, plans or hidden data.
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import reference
from grader.sandbox.cgroup import PidsCgroup
from reference.data.mnist import embedded_csv_path

# Where things appear inside the bubblewrap sandbox.
WORKSPACE_MOUNT = "/submission"
DATA_MOUNT = "/data"
LIBRARY_MOUNT = "/opt/le4nn"
TOOLS_MOUNT = "/opt/le4nn-tools"
SANDBOX_UID = 65534
# The CPU limit is soft: the kernel sends SIGXCPU, which marks the run as timed out; a
# program that ignores it is killed (SIGKILL) this many CPU seconds later.
CPU_GRACE_S = 2


@dataclass(frozen=True)
class Limits:
    """Resource limits of one program run."""

    wall_s: float = 30.0
    cpu_s: int = 60
    memory_bytes: int = 4 << 30
    file_bytes: int = 256 << 20
    # Bounds the whole process tree through a pids cgroup where one can be made (else
    # RLIMIT_NPROC, which counts every process of the user and spares root).
    processes: int = 256
    output_bytes: int = 64 << 10


@dataclass
class RunResult:
    """What a program did: its exit, its (capped) output, and whether it was killed."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float
    truncated: bool

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def stderr_tail(self, lines: int = 8) -> str:
        return "\n".join(self.stderr.rstrip().splitlines()[-lines:])

    def describe_failure(self) -> str:
        """A short English description of how the run ended, for diagnostics."""
        if self.timed_out:
            return "timeout"
        if self.returncode is not None and self.returncode < 0:
            return f"killed by {signal.Signals(-self.returncode).name}"
        return f"exit code {self.returncode}"


@lru_cache(maxsize=1)
def bwrap_status() -> tuple[bool, str]:
    """Whether bubblewrap can start a sandbox here, and why not when it cannot."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bwrap not installed"
    probe = subprocess.run(
        [exe, *_bwrap_base_args(), "true"], capture_output=True, text=True, timeout=30
    )
    if probe.returncode != 0:
        return False, f"bwrap cannot create a sandbox: {probe.stderr.strip()[:200]}"
    return True, "bwrap"


def _bwrap_base_args() -> list[str]:
    # The fresh /tmp comes first: mounts are applied in order, and the Python install
    # (a virtual environment, say) may itself live under /tmp.
    args = ["--unshare-all", "--die-with-parent", "--new-session",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for top in ("usr", "bin", "sbin", "lib", "lib64", "lib32", "etc"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.exists():
            args += ["--ro-bind", str(path), str(path)]
    for prefix in sorted({sys.base_prefix, sys.prefix}):
        args += ["--ro-bind", prefix, prefix]
    # The embedded MNIST test labels sit inside the Python install; a program that could
    # read them would look up the answers to the hidden test images.
    labelled = embedded_csv_path().parent
    if labelled.is_dir():
        args += ["--tmpfs", str(labelled.resolve())]
    return args


def _library_root() -> Path | None:
    """The folder that holds the ``reference`` package, when it is not installed in the prefix.

    Submissions may use the course library; in a development checkout it lives outside
    the Python prefix and has to be exposed explicitly.
    """
    pkg = Path(reference.__file__).resolve().parent
    for prefix in {sys.prefix, sys.base_prefix}:
        if pkg.is_relative_to(Path(prefix).resolve()):
            return None
    return pkg


class Sandbox:
    """Runs programs in ``workspace`` with ``data_dir`` handed over read-only.

    Parameters
    ----------
    workspace : the submission's scratch copy; the only place a program may write.
    data_dir : folder of data files the program may read (exposed as ``$MNIST_DIR``).
    use_bwrap : ``None`` uses bubblewrap when it works here; ``False`` never does.
    tools_dir : folder of the grader's own helper scripts (the check worker), read-only.
    """

    def __init__(self, workspace: Path, data_dir: Path | None, use_bwrap: bool | None = None,
                 tools_dir: Path | None = None):
        self.workspace = workspace.resolve()
        self.data_dir = data_dir.resolve() if data_dir is not None else None
        self.tools_dir = tools_dir.resolve() if tools_dir is not None else None
        works, why = bwrap_status()
        self.isolated = works if use_bwrap is None else (use_bwrap and works)
        self.reason = why if not self.isolated else "bwrap"
        if use_bwrap is False:
            self.reason = "disabled"

    @property
    def kind(self) -> str:
        return "bwrap" if self.isolated else "process"

    def run(self, argv: list[str], stdin: str = "", limits: Limits | None = None) -> RunResult:
        """Run ``argv`` (``"python"`` means this interpreter) and return what happened."""
        argv, env = self.command(argv)
        return _run_limited(argv, stdin, env, self.workspace, limits or Limits())

    def command(self, argv: list[str]) -> tuple[list[str], dict[str, str]]:
        """The full argv (inside bubblewrap when isolated) and environment for ``argv``.

        Shared by one-off runs and long-lived processes (:mod:`grader.sandbox.live`).
        """
        argv = [sys.executable if a == "python" else a for a in argv]
        if self.isolated:
            argv = ["bwrap", *self._bwrap_args(), *argv]
        return argv, self._environment()

    def inside(self, module: str) -> list[str]:
        """The argv that runs ``le4nn_inside.<module>.main()`` from the tools folder.

        The tools folder goes first on ``sys.path`` (a student module of the same name
        cannot take its place); the working folder, the workspace, stays on it as for
        ``python taskN.py``.
        """
        if self.tools_dir is None:
            raise ValueError("this sandbox has no tools folder")
        tools = TOOLS_MOUNT if self.isolated else str(self.tools_dir)
        boot = (f"import sys; sys.path.insert(0, {tools!r}); "
                f"from le4nn_inside.{module} import main; main()")
        return ["python", "-c", boot]

    def _environment(self) -> dict[str, str]:
        inside = self.isolated
        home = "/tmp" if inside else str(self.workspace)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONIOENCODING": "utf-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": f"{home}/.matplotlib",
            # One thread each: parallel runs must not oversubscribe the cores.
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            # Set on some CPUs because older OpenBLAS builds compute wrong results there.
            if var in os.environ:
                env[var] = os.environ[var]
        if self.data_dir is not None:
            env["MNIST_DIR"] = DATA_MOUNT if inside else str(self.data_dir)
        lib = _library_root()
        if lib is not None:
            env["PYTHONPATH"] = LIBRARY_MOUNT if inside else str(lib.parent)
        return env

    def _bwrap_args(self) -> list[str]:
        args = _bwrap_base_args()
        lib = _library_root()
        if lib is not None:
            args += ["--ro-bind", str(lib), f"{LIBRARY_MOUNT}/{lib.name}"]
        if self.data_dir is not None:
            args += ["--ro-bind", str(self.data_dir), DATA_MOUNT]
        if self.tools_dir is not None:
            args += ["--ro-bind", str(self.tools_dir), TOOLS_MOUNT]
        return [*args, "--bind", str(self.workspace), WORKSPACE_MOUNT,
                "--chdir", WORKSPACE_MOUNT]


def _set_limits(limits: Limits, group: PidsCgroup | None) -> None:
    """Runs in the child between fork and exec: only async-signal-safe calls."""
    if group is not None:
        group.join_self()
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + CPU_GRACE_S))
    for which, value in (
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(which, (value, value))


def hit_cpu_limit(returncode: int | None) -> bool:
    """Whether a run ended by the SIGXCPU of its CPU limit (bubblewrap exits 128 + signal).

    A CPU limit is a time limit that machine load cannot trip: a busy program reaches it
    after the same CPU seconds whether the machine is idle or loaded.
    """
    return returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU)


class _CappedReader(threading.Thread):
    """Drains a pipe to the end, keeping only the first ``cap`` bytes."""

    def __init__(self, stream, cap: int) -> None:
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.data = bytearray()
        self.truncated = False

    def run(self) -> None:
        while chunk := self.stream.read(65536):
            room = self.cap - len(self.data)
            if room > 0:
                self.data += chunk[:room]
            if len(chunk) > room:
                self.truncated = True

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def _run_limited(argv: list[str], stdin: str, env: dict[str, str], cwd: Path,
                 limits: Limits) -> RunResult:
    group = PidsCgroup.create(limits.processes)
    try:
        return _run_in(argv, stdin, env, cwd, limits, group)
    finally:
        if group is not None:
            group.close()


def _run_in(argv: list[str], stdin: str, env: dict[str, str], cwd: Path, limits: Limits,
            group: PidsCgroup | None) -> RunResult:
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True,
        # The cgroup's fd is inherited across the fork and closed (close_fds) before exec.
        preexec_fn=lambda: _set_limits(limits, group),
    )
    readers = [_CappedReader(proc.stdout, limits.output_bytes),
               _CappedReader(proc.stderr, limits.output_bytes)]
    for r in readers:
        r.start()
    _feed(proc, stdin.encode())
    timed_out = not _wait(proc, limits.wall_s)
    _kill_group(proc.pid)
    proc.wait()
    for r in readers:
        # Grandchildren that escaped the group could hold the pipe open: do not wait forever.
        r.join(timeout=5)
    out, err = readers
    timed_out = timed_out or hit_cpu_limit(proc.returncode)
    return RunResult(
        returncode=None if timed_out else proc.returncode,
        stdout=out.text(), stderr=err.text(), timed_out=timed_out,
        seconds=time.perf_counter() - start, truncated=out.truncated or err.truncated,
    )


def _wait(proc: subprocess.Popen, wall_s: float) -> bool:
    """Wait up to ``wall_s`` for ``proc`` to exit; whether it did.

    A pidfd wakes the grader the moment the program exits; ``Popen.wait(timeout)`` polls
    with sleeps of up to 50 ms, which a grading of hundreds of short runs pays each time.
    """
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # no pidfd here: the polling wait
        try:
            proc.wait(timeout=wall_s)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        exited = bool(select.select([fd], [], [], wall_s)[0])
    finally:
        os.close(fd)
    if exited:
        proc.wait()
    return exited


def _feed(proc: subprocess.Popen, data: bytes) -> None:
    try:
        proc.stdin.write(data)
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        # The program exited or closed stdin without reading it: not our failure.
        pass


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
