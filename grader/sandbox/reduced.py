"""Reduced isolation (no bubblewrap): what still fences a student process in, or a refusal.

Without bubblewrap a student process shares the host's file system, processes and
(unless the grader is root) user with the grader. What holds here regardless:

- the kill scope: the run's pids cgroup, its process group and its session are all
  killed when it ends (:func:`kill_scope`), so forking and ``setsid`` do not outlive it;
- the cgroup root: a process that writes its pid into a hierarchy root's
  ``cgroup.procs`` leaves the run's cgroup. A grader running as root confines its
  student processes (:func:`confine`): a private mount namespace in which ``/sys`` (and
  so every cgroup file system) is read-only and ``/proc`` is a fresh mount with
  ``hidepid=invisible``, then no capabilities at all (bounding set emptied, no new
  privileges), so the mounts cannot be undone. Where a cgroup root stays writable to the
  student the grader refuses to run (:func:`refusal`);
- the grader's ``/proc``: a capability-less root process cannot read the grader's
  ``/proc/<pid>/cwd``, ``environ``, ``fd`` or memory (it does not hold the grader's
  capabilities), and with the private ``/proc`` it does not see the grader at all. A
  grader not running as root marks itself non-dumpable (``PR_SET_DUMPABLE`` 0) so
  processes of the same user cannot read those files either; ``/proc/<pid>/cmdline``
  (paths only) stays readable there.

What does not hold, and is said on stderr and in the report: every file the grader's
user can read (plans, other submissions, the reference library, full data with labels)
is readable by student code, and a process can signal others of the same user.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 24, 38
# Per-mount /proc options (hidepid on our own instance only) exist since Linux 5.8.
PROC_OPTIONS_SINCE = (5, 8)
PROC_GID = 65534  # nogroup: not a group of the (root) student processes
INSTALL_HINT = "install bubblewrap (apt-get install bubblewrap)"


class SandboxRefused(RuntimeError):
    """The grader will not run student code here; the message says why and what to do."""


@dataclass(frozen=True)
class Fence:
    """How reduced-isolation runs are fenced in on this machine.

    root : the grader runs as root (its student processes do too, without capabilities).
    namespace : a private mount namespace can be made (``/sys`` read-only, own ``/proc``).
    sys_mounts : mount points under ``/sys``, remounted read-only in that namespace.
    last_cap : the highest capability number, for emptying the bounding set.
    """

    root: bool
    namespace: bool
    sys_mounts: tuple[str, ...]
    last_cap: int

    def describe(self) -> dict[str, str]:
        """For results.json: what the grader's /proc and the cgroup root look like inside."""
        if self.root and self.namespace:
            proc, cgroup = "hidden", "read-only"
        else:
            proc, cgroup = "cwd, environ, fd hidden; cmdline visible", "not writable"
        return {"grader_proc": proc, "cgroup_root": cgroup}


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_char_p]
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                           ctypes.c_ulong]
    return libc


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, file-system type, mount options) of every mount, from mountinfo."""
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields = left.split()
            point = fields[4].encode().decode("unicode_escape")  # \040 for a space
            fstype = right.split()[0] if right else ""
            found.append((point, fstype, fields[5]))
    return found


def _kernel() -> tuple[int, int]:
    with contextlib.suppress(ValueError, IndexError):
        major, minor = os.uname().release.split(".")[:2]
        return int(major), int("".join(c for c in minor if c.isdigit()) or 0)
    return (0, 0)


@lru_cache(maxsize=1)
def fence() -> Fence:
    """This machine's fence (probed once: a process is started in the namespace)."""
    root = os.geteuid() == 0
    sys_mounts = tuple(p for p, _, _ in _mounts() if p == "/sys" or p.startswith("/sys/"))
    try:
        with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as f:
            last_cap = int(f.read())
    except (OSError, ValueError):
        last_cap = 63
    candidate = Fence(root, root and _kernel() >= PROC_OPTIONS_SINCE, sys_mounts, last_cap)
    if candidate.namespace:
        try:
            subprocess.run([sys.executable, "-S", "-c", "pass"], check=True, timeout=30,
                           capture_output=True, preexec_fn=lambda: confine(candidate))
        except (subprocess.SubprocessError, OSError):
            candidate = Fence(root, False, sys_mounts, last_cap)
    return candidate


def confine(f: Fence) -> None:
    """In the child, between fork and exec: the namespace (if any), then no capabilities."""
    libc = _libc()
    if f.namespace:
        _check(libc.unshare(CLONE_NEWNS), "unshare")
        _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
        for point in f.sys_mounts:
            _check(libc.mount(None, point.encode(), None,
                              MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
                              | MS_NOEXEC, None), f"remount {point} read-only")
        # gid= names the group that sees everything; the default, 0, is root's own.
        _check(libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          b"hidepid=invisible,gid=%d" % PROC_GID), "mount /proc")
    if f.root:
        for cap in range(f.last_cap + 1):
            _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "drop capability")
        _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no new privileges")


def writable_cgroup_roots() -> list[str]:
    """The ``cgroup.procs`` of hierarchy roots this process could write (and so escape to)."""
    found = []
    for point, fstype, options in _mounts():
        procs = os.path.join(point, "cgroup.procs")
        if (fstype in ("cgroup", "cgroup2") and "ro" not in options.split(",")
                and os.access(procs, os.W_OK)):
            found.append(procs)
    return found


def refusal() -> str | None:
    """Why student code must not run here without bubblewrap, or None when it may."""
    f = fence()
    if f.root and f.namespace:
        return None
    writable = writable_cgroup_roots()
    if writable:
        return (f"without bubblewrap, student processes could leave the grader's kill scope "
                f"by writing to {writable[0]} (writable here, and the grader cannot make it "
                f"read-only for them); {INSTALL_HINT}")
    return None


def protect_grader() -> None:
    """Hide this process's ``/proc`` files from processes of the same user (non-root)."""
    if os.geteuid() != 0:
        _libc().prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def kill_scope(leader: int) -> None:
    """SIGKILL every process in the process group or session ``leader`` started.

    Call it while ``leader`` is still unreaped (a zombie holds its pid, so neither id
    can have been reused by an unrelated process).
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader, signal.SIGKILL)
    for _ in range(10):
        found = [pid for pid in _in_scope(leader) if pid != leader]
        if not found:
            return
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def _in_scope(leader: int) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                text = f.read()
        except OSError:
            continue
        # The command name (in parentheses) is the program's to choose: parse after it.
        fields = text[text.rfind(b")") + 2:].split()
        with contextlib.suppress(IndexError, ValueError):
            if fields[0] != b"Z" and leader in (int(fields[2]), int(fields[3])):
                pids.append(int(name))
    return pids
