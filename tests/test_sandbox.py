"""The sandbox contains what student programs do: time, output, files, environment."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from grader.sandbox import Limits, Sandbox
from tests.conftest import ROOT, needs_bwrap

KINDS = [False, pytest.param(True, marks=needs_bwrap)]


def make(tmp_path: Path, use_bwrap: bool) -> Sandbox:
    ws, data = tmp_path / "ws", tmp_path / "data"
    ws.mkdir()
    data.mkdir()
    (data / "visible.txt").write_text("handed over")
    sandbox = Sandbox(ws, data, use_bwrap=use_bwrap)
    assert sandbox.isolated is use_bwrap
    return sandbox


def py(sandbox: Sandbox, code: str, stdin: str = "", **limits: float) -> object:
    (sandbox.workspace / "prog.py").write_text(code)
    return sandbox.run(["python", "prog.py"], stdin, Limits(**limits))


@pytest.mark.parametrize("use_bwrap", KINDS)
def test_stdin_stdout_and_exit_code(tmp_path: Path, use_bwrap: bool) -> None:
    sb = make(tmp_path, use_bwrap)
    r = py(sb, "import sys; n = int(input()); print(n * 2); sys.exit(3)", "21\n")
    assert r.stdout == "42\n" and r.returncode == 3 and not r.timed_out and not r.ok


@pytest.mark.parametrize("use_bwrap", KINDS)
def test_timeout_kills_the_whole_process_group(tmp_path: Path, use_bwrap: bool) -> None:
    """The program starts a child, then spins: its CPU budget ends it (after the child
    surely started, however loaded the machine), and the child goes with it."""
    sb = make(tmp_path, use_bwrap)
    tag = f"le4nn-child-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {tag!r}])\n"
        "while True: pass\n"
    )
    r = py(sb, code, cpu_s=1, wall_s=300)
    assert r.timed_out and r.returncode is None and r.describe_failure() == "timeout"
    assert _gone(tag), "the child outlived the timeout"


def _gone(tag: str, patience_s: float = 60) -> bool:
    """No process has ``tag`` on its command line (waiting a while for the kill to land)."""
    deadline = time.monotonic() + patience_s
    while time.monotonic() < deadline:
        alive = False
        for entry in Path("/proc").iterdir():
            try:
                alive = alive or tag.encode() in (entry / "cmdline").read_bytes()
            except OSError:
                continue
        if not alive:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("use_bwrap", KINDS)
def test_a_program_that_waits_is_stopped_by_the_wall_clock(tmp_path: Path,
                                                          use_bwrap: bool) -> None:
    r = py(make(tmp_path, use_bwrap), "import time\ntime.sleep(3600)\n", wall_s=1.0)
    assert r.timed_out and r.returncode is None


@pytest.mark.parametrize("use_bwrap", KINDS)
def test_output_is_capped_but_drained(tmp_path: Path, use_bwrap: bool) -> None:
    sb = make(tmp_path, use_bwrap)
    r = py(sb, "import sys\nfor _ in range(2000): sys.stdout.write('x' * 1000)\nprint('end')",
           output_bytes=10_000)
    assert r.ok and r.truncated and len(r.stdout) == 10_000


@pytest.mark.parametrize("use_bwrap", KINDS)
def test_file_size_limit(tmp_path: Path, use_bwrap: bool) -> None:
    sb = make(tmp_path, use_bwrap)
    r = py(sb, "open('big', 'wb').write(b'0' * 5_000_000)", file_bytes=1_000_000)
    assert not r.ok and r.returncode != 0
    assert (sb.workspace / "big").stat().st_size <= 1_000_000


@pytest.mark.parametrize("use_bwrap", KINDS)
def test_memory_limit(tmp_path: Path, use_bwrap: bool) -> None:
    sb = make(tmp_path, use_bwrap)
    r = py(sb, "x = bytearray(800 * 2**20)\nprint('allocated')", memory_bytes=400 << 20)
    assert not r.ok and "allocated" not in r.stdout and "MemoryError" in r.stderr


@pytest.mark.parametrize("use_bwrap", KINDS)
def test_environment_is_scrubbed(tmp_path: Path, use_bwrap: bool, monkeypatch) -> None:
    monkeypatch.setenv("LE4NN_SECRET", "do-not-leak")
    sb = make(tmp_path, use_bwrap)
    r = py(sb, "import os; print(sorted(os.environ))\nprint(open(os.environ['MNIST_DIR'] + "
               "'/visible.txt').read())")
    assert r.ok, r.stderr
    assert "LE4NN_SECRET" not in r.stdout and "handed over" in r.stdout
    assert "'OPENBLAS_NUM_THREADS'" in r.stdout


@pytest.mark.parametrize("use_bwrap", KINDS)
def test_undecodable_output_is_replaced_not_fatal(tmp_path: Path, use_bwrap: bool) -> None:
    sb = make(tmp_path, use_bwrap)
    r = py(sb, "import sys; sys.stdout.buffer.write(b'\\xff\\xfe7\\n')")
    assert r.ok and r.stdout.endswith("7\n") and "\ufffd" in r.stdout


@needs_bwrap
def test_bwrap_hides_grader_files_and_blocks_writes_and_network(tmp_path: Path) -> None:
    sb = make(tmp_path, True)
    probe = f"""
import os, socket
print("grader_visible", os.path.exists({str(ROOT / 'grader' / 'plans')!r}))
print("tmp_path_visible", os.path.exists({str(tmp_path)!r}))
for target in ("/usr/evil", {str(sb.data_dir / 'evil')!r}, "/data/evil"):
    try:
        open(target, "w").write("x")
        print("wrote", target)
    except OSError:
        pass
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2)
    print("network open")
except OSError:
    print("network closed")
open("mine.txt", "w").write("ok")
"""
    r = py(sb, probe)
    assert r.ok, r.stderr
    assert "grader_visible False" in r.stdout and "tmp_path_visible False" in r.stdout
    assert "wrote" not in r.stdout and "network closed" in r.stdout
    assert (sb.workspace / "mine.txt").read_text() == "ok"
    assert not (sb.data_dir / "evil").exists() and not Path("/usr/evil").exists()


def test_without_bwrap_the_reason_is_recorded(tmp_path: Path) -> None:
    sb = make(tmp_path, False)
    assert sb.kind == "process" and sb.reason == "disabled"
    assert os.path.isdir(sb.workspace)


@pytest.mark.parametrize("use_bwrap", KINDS)
def test_fork_bomb_is_bounded_and_cleaned_up(tmp_path: Path, use_bwrap: bool) -> None:
    from grader.sandbox.cgroup import PidsCgroup

    probe = PidsCgroup.create(8)
    if probe is None:
        pytest.skip("no writable pids cgroup here: the fork bomb is bounded by the timeout only")
    probe.close()
    sb = make(tmp_path, use_bwrap)
    code = ("import os, time\n"
            "n = 0\n"
            "for _ in range(500):\n"
            "    try:\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(30)\n"
            "            os._exit(0)\n"
            "        n += 1\n"
            "    except OSError:\n"
            "        break\n"
            "print(n, flush=True)\n")
    r = py(sb, code, wall_s=300, processes=40)
    # It exits at once; its sleeping children go with the run's process group.
    assert r.ok, r.stderr
    assert int(r.stdout.split()[0]) < 40, "the process tree was not bounded"
    quick = py(sb, "print('still fine')")
    assert quick.ok and quick.stdout == "still fine\n"
