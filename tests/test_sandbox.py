"""The sandbox contains what student programs do: time, output, files, environment."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from grader.sandbox import Limits, Sandbox
from grader.sandbox.live import LiveProcess
from grader.sandbox.runner import CPU_GRACE_S
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
def test_the_program_runs_under_the_runs_rlimits(tmp_path: Path, use_bwrap: bool) -> None:
    sb = make(tmp_path, use_bwrap)
    code = ("import resource as r\n"
            "for n in ('CPU', 'AS', 'FSIZE', 'CORE'):\n"
            "    print(*r.getrlimit(getattr(r, 'RLIMIT_' + n)))\n")
    limits = Limits(cpu_s=7, memory_bytes=3 << 30, file_bytes=5 << 20)
    (sb.workspace / "prog.py").write_text(code)
    r = sb.run(["python", "prog.py"], "", limits)
    assert r.ok, r.stderr
    cpu, memory, size, core = (tuple(map(int, line.split())) for line in r.stdout.splitlines())
    assert cpu == (7, 7 + CPU_GRACE_S) and memory == (3 << 30,) * 2
    assert size == (5 << 20,) * 2 and core == (0, 0)


@needs_bwrap
def test_a_bubblewrap_run_starts_without_code_between_fork_and_exec(tmp_path: Path) -> None:
    """So subprocess uses vfork, and no fork handler of the grader's libraries runs (OpenBLAS's
    deadlocks when another grader thread is in a BLAS call)."""
    sb = make(tmp_path, use_bwrap=True)
    launch = sb.launch(["python", "prog.py"], Limits())
    argv, preexec = launch._limited(None, 10)
    launch.channels.close_unused()
    assert preexec is None and argv[-len(launch.argv):] == launch.argv
    assert os.path.basename(argv[0]) == "prlimit" and "--nproc=10" in argv


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


# --- The student's Python, the import guard, the disk limit, reduced isolation ---------------
# (issue 15 points 2, 3, 5; issue 19 points 3, 5)

@pytest.mark.parametrize("use_bwrap", KINDS)
def test_the_student_python_has_no_answer_key_but_the_allowed_packages(
        tmp_path: Path, use_bwrap: bool) -> None:
    sb = make(tmp_path, use_bwrap)
    r = py(sb, """
import importlib
for name in ("reference", "grader", "sklearn", "mlxtend", "pandas", "scipy", "hypothesis"):
    try:
        importlib.import_module(name)
        print("IMPORTED", name)
    except ImportError:
        print("absent", name)
import numpy as np, matplotlib.pyplot as plt
from PIL import Image
plt.plot(np.arange(3)); plt.savefig("plot.png")
Image.open("plot.png").load()
print("libraries fine")
""")
    assert r.ok, r.stderr
    assert "IMPORTED" not in r.stdout and r.stdout.count("absent") == 7
    assert "libraries fine" in r.stdout and (sb.workspace / "plot.png").is_file()
    # numpy, matplotlib and Pillow ask for nothing banned: the one record is the student's.
    assert [(b["module"], b["student"]) for b in r.blocked] == [("sklearn", True)]


GUARDED = """\
import importlib, os, pickle, runpy, subprocess, sys, ctypes
import importlib.util
def attempt(how, fn):
    try:
        fn()
        print("LOADED", how)
    except Exception as e:
        print("blocked", how, type(e).__name__)
attempt("import_module", lambda: importlib.import_module("sk" + "learn.linear_model"))
attempt("__import__", lambda: __import__("ten" + "sorflow"))
attempt("exec", lambda: exec("import jax"))
attempt("runpy", lambda: runpy.run_module("keras"))
attempt("pickle", lambda: pickle.loads(b"csklearn.linear_model\\nLinearRegression\\n."))
def by_path():
    spec = importlib.util.spec_from_file_location("x", "fake/site-packages/torch/__init__.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
attempt("by_path", by_path)
import warnings; warnings.simplefilter("ignore")
import imp
attempt("imp", lambda: imp.load_source("y", "fake/site-packages/torch/__init__.py"))
attempt("ctypes", lambda: ctypes.CDLL("fake/site-packages/torch/lib/libtorch_cpu.so"))
attempt("find_spec", lambda: importlib.util.find_spec("mxnet"))
sys.meta_path[:] = [f for f in sys.meta_path if "Finder" not in type(f).__name__
                    and getattr(f, "__name__", "") != "_Finder"]
sys.path.insert(0, "fake/site-packages")
attempt("meta_path_removed", lambda: importlib.import_module("torch"))
attempt("meta_path_removed_import", lambda: __import__("chainer"))
child = subprocess.run([sys.executable, "-c", "import theano"], capture_output=True, text=True)
print("child", "le4nn-grader" in child.stderr)
"""


@pytest.mark.parametrize("use_bwrap", KINDS)
def test_the_import_guard_blocks_every_route_and_names_the_line(
        tmp_path: Path, use_bwrap: bool) -> None:
    sb = make(tmp_path, use_bwrap)
    fake = sb.workspace / "fake" / "site-packages" / "torch"  # a copy of a banned package
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("X = 1\n")
    r = py(sb, GUARDED)
    assert r.ok, r.stderr
    assert "LOADED" not in r.stdout, r.stdout
    assert r.stdout.count("blocked") == 11 and "child True" in r.stdout
    lines = {i + 1: text for i, text in enumerate(GUARDED.splitlines())}
    got = {(b["module"], b["how"]) for b in r.blocked}
    assert got >= {("sklearn", "import"), ("tensorflow", "import"), ("jax", "import"),
                   ("keras", "import"), ("sklearn", "pickle"), ("torch", "open"),
                   ("torch", "ctypes"), ("chainer", "import"), ("mxnet", "import")}
    for b in r.blocked:
        assert b["file"] == "prog.py" and b["student"], b
        assert "attempt(" in lines[b["line"]] or "import" in lines[b["line"]], b
    # Every record of the sandbox is kept for code.banned_imports.
    assert sb.blocked_imports() == r.blocked


def test_guard_attribution_tells_the_student_from_a_library(tmp_path: Path) -> None:
    """A library probing an optional dependency is blocked but not the student's doing."""
    from grader.sandbox.inside.guard import Guard

    r, w = os.pipe()
    g = Guard(frozenset({"torch"}), w, "/tmp/submission")
    ask = "def ask():\n    g.find_spec('torch')\n"
    for filename in ("/opt/le4nn-site/matplotlib/probe.py", "/tmp/submission/task1.py"):
        scope = {"g": g}
        exec(compile(ask, filename, "exec"), scope)
        with pytest.raises(ModuleNotFoundError, match="torch"):
            scope["ask"]()
    os.close(w)
    records = [json.loads(line) for line in os.fdopen(r).read().splitlines()]
    assert [(x["file"], x["line"], x["student"]) for x in records] == [
        ("probe.py", 2, False), ("task1.py", 2, True)]
    assert g.path_is_banned("/x/site-packages/torch/lib/libtorch.so")
    assert g.path_is_banned(b"/x/dist-packages/torch-2.13.0.dist-info/RECORD")
    assert not g.path_is_banned("/tmp/submission/torch_notes.txt")
    assert not g.path_is_banned("/x/site-packages/numpy/torch.py")


def test_the_guard_list_is_the_plans_less_what_the_plan_installs(tmp_path: Path) -> None:
    from grader.sandbox.policy import Policy

    ws = tmp_path / "ws"
    ws.mkdir()
    sb = Sandbox(ws, None, policy=Policy(packages=("numpy",), banned=("numpy", "sklearn")))
    assert sb.guarded == ("sklearn",)
    assert "numpy" in sb.describe()["student_python"]["importable"]


@needs_bwrap
def test_workspace_and_tmp_share_one_disk_limit(tmp_path: Path) -> None:
    """Issue 19: /tmp was RAM without bound; now it and the workspace share disk_mb."""
    sb = make(tmp_path, True)
    r = py(sb, """
import os
open("keep.bin", "wb").write(b"1" * 600_000)
try:
    with open("/tmp/fill.bin", "wb") as f:
        for _ in range(100):
            f.write(b"0" * 100_000)
            f.flush()
except OSError as e:
    print("stopped", e.errno, os.path.getsize("/tmp/fill.bin") // 1000)
""", disk_bytes=2 << 20)
    assert r.ok, r.stderr
    stopped_at = int(r.stdout.split()[-1])
    assert r.stdout.startswith("stopped 28") and stopped_at < 2 << 10  # ENOSPC below 2 MB
    assert r.disk_full and "disk limit reached (2 MB" in r.describe_failure()
    assert (sb.workspace / "keep.bin").stat().st_size == 600_000
    quick = py(sb, "print('room again')")
    assert quick.ok and not quick.disk_full, "each run starts with the whole limit"


@needs_bwrap
def test_only_folders_and_regular_files_come_back_from_a_run(tmp_path: Path) -> None:
    sb = make(tmp_path, True)
    (sb.workspace / "old.txt").write_text("old")
    (sb.workspace / "same.txt").write_text("same")
    r = py(sb, """
import os
os.makedirs("out/deep", exist_ok=True)
open("out/deep/result.txt", "w").write("written")
os.symlink("/etc/passwd", "zz_helper.py")
os.symlink("/etc/shadow", "out/report.md")
os.mkfifo("fifo")
os.remove("old.txt")
""")
    assert r.ok, r.stderr
    assert (sb.workspace / "out" / "deep" / "result.txt").read_text() == "written"
    names = {p.name for p in sb.workspace.rglob("*")}
    assert {"zz_helper.py", "report.md", "fifo", "old.txt"}.isdisjoint(names)
    assert (sb.workspace / "same.txt").read_text() == "same"
    assert not any(p.is_symlink() for p in sb.workspace.rglob("*"))


def test_the_write_back_stream_cannot_leave_the_workspace(tmp_path: Path) -> None:
    """The stream comes from inside the sandbox: paths out, lies about sizes, a cut end."""
    from grader.sandbox.sync import apply_stream

    ws = tmp_path / "ws"
    ws.mkdir()
    (tmp_path / "outside").mkdir()

    def feed(*parts: bytes) -> object:
        return apply_stream(io.BytesIO(b"".join(parts)), ws, limit=1 << 20)

    for rel in ("../outside/x", "/etc/evil", "a/../../outside/y", ""):
        report = feed(json.dumps({"file": rel, "size": 1}).encode() + b"\nX")
        assert report.files == 0 and not report.complete
    assert not any((tmp_path / "outside").iterdir())
    (ws / "link").symlink_to(tmp_path / "outside")
    assert feed(b'{"file": "link/z", "size": 1}\nZ').files == 0
    assert not any((tmp_path / "outside").iterdir())
    cut = feed(b'{"file": "whole", "size": 2}\nok{"file": "half", "size": 10}\nabc')
    assert cut.files == 1 and (ws / "whole").read_bytes() == b"ok" and not (ws / "half").exists()
    big = feed(json.dumps({"file": "big", "size": 64 << 20}).encode() + b"\n")
    assert big.files == 0 and not (ws / "big").exists()
    done = feed(b'{"dir": "d"}\n{"file": "d/f", "size": 1}\n1{"end": true, "used": 5, '
                b'"free": 7}\n')
    assert done.complete and done.free == 7 and (ws / "d" / "f").read_bytes() == b"1"


# Reduced isolation: the attacks of issue 15 (cgroup escape) and issue 19 (/proc of the grader).
ESCAPE = """
import os, sys, time
roots = [r for r in ("/sys/fs/cgroup/pids/cgroup.procs", "/sys/fs/cgroup/cgroup.procs",
                     "/sys/fs/cgroup/unified/cgroup.procs") if os.path.exists(r)]
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for root in roots:
            try:
                open(root, "w").write(str(os.getpid()))
                print("ESCAPED", root, flush=True)
            except OSError:
                pass
        open("daemon.pid", "w").write(str(os.getpid()))
        time.sleep(60)
    os._exit(0)
time.sleep(1)
"""


def reduced_sandbox(tmp_path: Path) -> Sandbox:
    from grader.sandbox import reduced

    if reduced.refusal() is not None:
        pytest.skip(f"reduced isolation is refused here: {reduced.refusal()}")
    return make(tmp_path, False)


def test_reduced_isolation_a_daemon_cannot_leave_the_kill_scope(tmp_path: Path) -> None:
    import time

    sb = reduced_sandbox(tmp_path)
    r = py(sb, ESCAPE, wall_s=10)
    assert "ESCAPED" not in r.stdout, r.stdout
    pid = int((sb.workspace / "daemon.pid").read_text())
    time.sleep(0.3)
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        state = "gone"
    assert state in ("gone", "Z"), "the daemon outlived the run"


def test_reduced_isolation_hides_the_graders_proc(tmp_path: Path) -> None:
    sb = reduced_sandbox(tmp_path)
    r = py(sb, """
import os
parent = os.getppid()
for name in ("cwd", "environ", "fd", "root"):
    try:
        seen = os.listdir(f"/proc/{parent}/{name}") if name in ("cwd", "fd", "root") \\
            else open(f"/proc/{parent}/{name}", "rb").read()
        print("READ", name, str(seen)[:80])
    except OSError:
        print("hidden", name)
""")
    assert r.ok, r.stderr
    assert "READ" not in r.stdout and r.stdout.count("hidden") == 4
    assert str(ROOT) not in r.stdout


def test_batch_refuses_reduced_isolation_unless_allowed(tmp_path: Path) -> None:
    (tmp_path / "class").mkdir()
    cmd = [sys.executable, "-m", "grader", "batch", str(tmp_path / "class"), "--out",
           str(tmp_path / "out"), "--no-bwrap", "--lang", "en"]
    refused = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert refused.returncode == 2 and not refused.stdout
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "apt-get install bubblewrap" in refused.stderr and "--allow-reduced-isolation" in \
        refused.stderr and "Traceback" not in refused.stderr
    allowed = subprocess.run([*cmd, "--allow-reduced-isolation"], capture_output=True,
                             text=True, cwd=ROOT, timeout=300)
    assert allowed.returncode == 0, allowed.stderr


# --- The kept check worker: started like a run ---------------------------------------------

LIVE_ECHO = """
import importlib, sys
import helper
for line in sys.stdin:
    try:
        importlib.import_module(line.strip())
        print("loaded", flush=True)
    except ImportError:
        print("blocked", helper.NAME, flush=True)
    open("written.txt", "w").write("x")
"""


@pytest.mark.parametrize("use_bwrap", KINDS)
def test_a_live_process_sees_the_workspace_and_its_blocked_imports_are_recorded(
        tmp_path: Path, use_bwrap: bool) -> None:
    sb = make(tmp_path, use_bwrap)
    (sb.workspace / "helper.py").write_text("NAME = 'from-workspace'\n")
    (sb.workspace / "live.py").write_text(LIVE_ECHO)
    process = LiveProcess(sb, ["python", "live.py"], Limits())
    got = process.exchange(b"json\nsklearn\n", 2, wall_s=120, cpu_s=60, byte_cap=1 << 20)
    assert got.lines == [b"loaded", b"blocked from-workspace"] and process.alive
    assert sb.blocked_imports() == [], "records are handed over when the process ends"
    process.close()
    process.close()  # closing twice is harmless
    assert [(b["module"], b["student"]) for b in sb.blocked_imports()] == [("sklearn", True)]
    # With bubblewrap it works on a copy: nothing it wrote reaches the workspace.
    assert (sb.workspace / "written.txt").exists() is not use_bwrap
