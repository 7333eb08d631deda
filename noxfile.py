"""Developer and user entry points: ``nox -s grade``, ``nox -s tests``, ``nox -s lint`` …"""

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

# An unpinned torch pulls several GB of CUDA packages; this pin takes the CPU build.
TORCH = "torch==2.13.0"


@nox.session
def grade(session: nox.Session) -> None:
    """Grade a submission (default: the reference) with the public plan.

    The reference submission uses the reference library, which student code cannot import
    in the sandbox: it is first built to hand in the modules it uses (build/reference).
    """
    session.install(".")
    args = session.posargs
    if not args:
        session.run("python", "-m", "reference.tasks.bundle", "submissions/reference",
                    "build/reference")
        args = ["build/reference"]
    session.run("python", "-m", "grader", "grade", *args)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite; fast tests by default, ``nox -s tests -- -m slow`` for the slow ones."""
    session.install(".[test,dask]")
    session.run("python", "-m", "pytest", *(session.posargs or ["-m", "not slow", "-q"]))


@nox.session
def batch(session: nox.Session) -> None:
    """Grade a class: ``nox -s batch -- SUBMISSIONS_DIR --out DIR [--plan P] [--jobs N]``."""
    session.install(".[dask]")
    if not session.posargs:
        session.error("give the folder of submissions: nox -s batch -- SUBMISSIONS_DIR …")
    session.run("python", "-m", "grader", "batch", *session.posargs)


@nox.session
def ablations(session: nox.Session) -> None:
    """Dropout, weight-decay and optimizer sweeps: ``nox -s ablations -- [SUBMISSION]``."""
    session.install(".")
    session.run("python", "-m", "grader", "ablations", *session.posargs)


@nox.session
def framework(session: nox.Session) -> None:
    """B1 (MNIST CNN, over-fitting and best) and B2 (generated smile/non-smile faces)."""
    session.install(".", TORCH)
    out = "framework-output"
    session.run("python", "-m", "reference.torch_adapter.b1", "--out", f"{out}/b1")
    session.run("python", "-m", "reference.torch_adapter.faces", "--out", f"{out}/faces")
    session.run("python", "-m", "reference.torch_adapter.b2", "--data", f"{out}/faces",
                "--out", f"{out}/b2")


@nox.session
def gan(session: nox.Session) -> None:
    """B3: DCGAN on the embedded MNIST, sample grids, quality scores and a report."""
    session.install(".", TORCH)
    session.run("python", "-m", "reference.torch_adapter.b3", "--out", "framework-output/b3",
                *session.posargs)


@nox.session(name="torch")
def torch_side(session: nox.Session) -> None:
    """The framework side with the pinned CPU torch: the B1–B3 smoke tests (every torch test
    but the slow ones), then the framework reference graded with the framework plan on
    weights from a tiny training run (``.ci/framework_check.py``)."""
    session.install(".[test,dask]", TORCH)  # test modules import dask at collection
    session.run("python", "-m", "pytest", "-m", "torch and not slow", "-q",
                *session.posargs)
    session.run("python", ".ci/framework_check.py", session.create_tmp())


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the whole tree."""
    session.install("ruff")
    session.run("ruff", "check", ".")


@nox.session
def bench(session: nox.Session) -> None:
    """Grading time per check family against one task-3 run; runs of the sequential accuracy
    test; training speed of the numpy reference against PyTorch on the CPU; batch speed-up
    (local pool and Dask cluster); sandbox start-up; what the memorisation defences cost."""
    session.install(".[dask]", TORCH)
    session.run("python", "benchmarks/bench_grading.py")
    session.run("python", "benchmarks/bench_sequential.py")
    session.run("python", "benchmarks/bench_reference.py", *session.posargs)
    session.run("python", "benchmarks/bench_batch.py")
    session.run("python", "benchmarks/bench_sandbox.py")
    session.run("python", "benchmarks/bench_memorisation.py")
