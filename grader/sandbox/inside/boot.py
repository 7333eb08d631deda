"""The boot: how every student process starts, INSIDE the sandbox (standard library only).

:meth:`grader.sandbox.Sandbox.run` starts ``python -S -c <line> MODE TARGET ARGS…``,
where the line puts the tools folder on ``sys.path`` and calls :func:`main`:

1. with bubblewrap, the workspace is a fresh size-limited tmpfs (``/tmp`` is on it too):
   the handed-over workspace (``$LE4NN_SYNC_FROM``, read-only) is copied in, the program
   runs in a child process, and once it has ended every other process of the sandbox
   is killed and what changed in the workspace is streamed to the grader over
   ``$LE4NN_SYNC_FD`` (:mod:`grader.sandbox.sync` writes it back, regular files only) —
   the program itself never holds that descriptor. A long-lived process (the check
   worker) is started without ``$LE4NN_SYNC_FD``: copied in, nothing written back;
2. the import guard (:mod:`.guard`) is armed, before any student code runs;
3. ``exit``/``quit`` are defined (``-S`` skips the ``site`` module that defines them);
4. the program runs as ``python TARGET ARGS…`` would run it (``MODE`` = ``program``:
   ``sys.argv``, ``sys.path[0]`` = its folder, ``__name__ == "__main__"``), or a module
   of the tools package runs as ``python -m`` would (``MODE`` = ``module``).

Stream format, one JSON header line per entry: ``{"dir": rel}``, ``{"file": rel, "size":
n}`` followed by exactly n bytes, ``{"delete": rel}``, and last ``{"end": true, "used":
bytes, "free": bytes}`` (the tmpfs's use, so the grader can say the limit was hit).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import sys

from . import guard

SYNC_FD_ENV = "LE4NN_SYNC_FD"
SYNC_FROM_ENV = "LE4NN_SYNC_FROM"
MAX_DEPTH = 32
MAX_ENTRIES = 20_000
CHUNK = 1 << 20


def main() -> None:
    tools = sys.path.pop(0)  # put first by the launching line; not the student's path
    mode, target, *args = sys.argv[1:]
    sync = _take_sync()
    if sync is not None:
        _supervise(*sync)  # returns in the child only
    # Armed here, in the process that runs student code only: the supervisor copies
    # whatever the workspace holds, a folder named like a banned package included.
    guard.install_from_env()
    import site

    site.setquit()
    if mode == "module":
        _run_module(target, tools)
    else:
        _run_program(target, args)


def _take_sync() -> tuple[int | None, str] | None:
    fd, source = os.environ.pop(SYNC_FD_ENV, ""), os.environ.pop(SYNC_FROM_ENV, "")
    return (int(fd) if fd.isdigit() else None, source) if source else None


def _run_program(target: str, args: list[str]) -> None:
    import runpy

    path = os.path.abspath(target)
    sys.argv = [target, *args]
    sys.path[0] = os.path.dirname(path)
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit:
        raise
    except BaseException as e:  # shown as `python TARGET` shows it, without our frames
        import traceback

        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != path:
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb or e.__traceback__)
        raise SystemExit(1) from None


def _run_module(name: str, tools: str) -> None:
    import runpy

    # The tools folder first (a student module cannot take a worker's place), then the
    # working folder, as for ``python -m``.
    sys.path[0:1] = [tools, os.getcwd()]
    runpy.run_module(name, run_name="__main__", alter_sys=True)


# -- the copy-in / copy-out supervisor (bubblewrap only) ---------------------------------

def _supervise(fd: int | None, source: str) -> None:
    """Copy in, fork; the parent waits, stops everyone, streams the changes (given ``fd``)
    and exits."""
    copy_tree(source, ".")
    before = snapshot(".") if fd is not None else {}
    pid = os.fork()
    if pid == 0:
        if fd is not None:
            os.close(fd)
        return
    # As the namespace's init this process gets no signal it does not handle: drop
    # Python's SIGINT handler, so no program can interrupt it either.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    status = _reap_until(pid)
    _stop_everyone()
    if fd is not None:
        with os.fdopen(fd, "wb") as out:
            send_changes(out, before, snapshot("."))
    # As a shell reports it (an init cannot kill itself with the same signal).
    os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status)
             else os.waitstatus_to_exitcode(status))


def _reap_until(pid: int) -> int:
    """Reap every child (orphans come to init) until ``pid`` ends; its wait status."""
    while True:
        child, status = os.waitpid(-1, 0)
        if child == pid:
            return status


def _stop_everyone() -> None:
    """Kill and reap every other process of the sandbox.

    Only ever run as the init of bubblewrap's pid namespace (the grader sets SYNC only
    there): -1 then means every other process of the sandbox, and each of them is a
    child of init by the time it is reaped.
    """
    for _ in range(3):  # a fork racing the first kill is caught by the next
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            return
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break


def snapshot(root: str) -> dict[str, tuple]:
    """``rel → ("d",)`` or ``("f", size, mtime_ns)``; links and special files left out."""
    found: dict[str, tuple] = {}
    stack = [("", 0)]
    while stack:
        rel, depth = stack.pop()
        try:
            entries = os.scandir(os.path.join(root, rel) if rel else root)
        except OSError:
            continue
        with entries:
            for entry in entries:
                if len(found) >= MAX_ENTRIES:
                    return found
                path = f"{rel}/{entry.name}" if rel else entry.name
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    found[path] = ("d",)
                    if depth < MAX_DEPTH:
                        stack.append((path, depth + 1))
                elif stat.S_ISREG(st.st_mode):
                    found[path] = ("f", st.st_size, st.st_mtime_ns)
    return found


def copy_tree(source: str, target: str) -> None:
    """Copy the folders and regular files of ``source`` into ``target`` (times kept)."""
    for rel, info in sorted(snapshot(source).items()):
        if info[0] == "d":
            os.makedirs(os.path.join(target, rel), exist_ok=True)
            continue
        src = os.path.join(source, rel)
        st = os.stat(src, follow_symlinks=False)
        dst = os.path.join(target, rel)
        fd_in = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
        fd_out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                         stat.S_IMODE(st.st_mode) | 0o600)
        try:
            while chunk := os.read(fd_in, CHUNK):
                os.write(fd_out, chunk)
        finally:
            os.close(fd_in)
            os.close(fd_out)
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))


def send_changes(out, before: dict[str, tuple], after: dict[str, tuple]) -> None:
    """Stream to ``out`` what differs between two snapshots of the working folder."""
    for rel, info in sorted(after.items()):
        if before.get(rel) == info:
            continue
        if info[0] == "d":
            _header(out, {"dir": rel})
        else:
            _send_file(out, rel)
    for rel in sorted(set(before) - set(after), reverse=True):
        _header(out, {"delete": rel})
    fs = os.statvfs(".")
    _header(out, {"end": True, "used": (fs.f_blocks - fs.f_bfree) * fs.f_frsize,
                  "free": fs.f_bavail * fs.f_frsize})


def _send_file(out, rel: str) -> None:
    try:
        fd = os.open(rel, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(fd).st_size
        _header(out, {"file": rel, "size": size})
        left = size
        while left:
            chunk = f.read(min(CHUNK, left)) or b"\0" * min(CHUNK, left)
            out.write(chunk)
            left -= len(chunk)


def _header(out, record: dict) -> None:
    out.write(json.dumps(record).encode() + b"\n")
