"""Install the in-sandbox package (:mod:`grader.sandbox.inside`) into a tools folder."""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

from grader.sandbox import inside
from grader.sandbox.student_env import StudentEnv

# The package's name inside the sandbox; a name no student module is likely to have.
PACKAGE = "le4nn_inside"
SITE = "site"
_site_lock = threading.Lock()


def install_tools(tools_dir: Path) -> None:
    """Copy :mod:`grader.sandbox.inside` to ``tools_dir/le4nn_inside`` (read-only inside)."""
    target = tools_dir / PACKAGE
    if target.exists():
        shutil.rmtree(target)
    tools_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(Path(inside.__file__).parent, target,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


@lru_cache(maxsize=1)
def default_tools() -> Path:
    """A tools folder for sandboxes made without one (this process's, removed at exit)."""
    folder = Path(tempfile.mkdtemp(prefix="le4nn-tools-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    install_tools(folder)
    return folder


def guard_file(tools_dir: Path) -> Path:
    """The import guard's source, also installed as the student site's ``sitecustomize``."""
    return tools_dir / PACKAGE / "guard.py"


def student_site(tools_dir: Path, env: StudentEnv) -> Path:
    """``tools_dir/site-<key>``: links to the allowed packages and the guard as ``sitecustomize``.

    The student's ``PYTHONPATH`` without bubblewrap (with it, bind mounts do this job).
    Built once per tools folder (the runs of one grading share it).
    """
    key = hashlib.sha256(repr(env.entries).encode()).hexdigest()[:12]
    site = tools_dir / f"{SITE}-{key}"
    with _site_lock:
        if (site / ".complete").exists():
            return site
        shutil.rmtree(site, ignore_errors=True)  # half built by a run that crashed
        staging = Path(tempfile.mkdtemp(prefix=".site-", dir=tools_dir))
        for name, source in env.entries:
            os.symlink(source, staging / name)
        shutil.copyfile(guard_file(tools_dir), staging / "sitecustomize.py")
        (staging / ".complete").touch()
        staging.rename(site)
    return site
