"""The grader's reads of student files: no link followed, regular files only, bounded."""

from __future__ import annotations

import os
import threading
from pathlib import Path, PurePosixPath

import pytest

from grader.safe_files import UnsafeFile, read_bytes, read_text, walk


def test_reads_a_regular_file_and_a_nested_one(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.py").write_text("print(1)\n", encoding="utf-8")
    (tmp_path / "top.txt").write_bytes(b"\xef\xbb\xbfhello")
    assert read_bytes(tmp_path, "a/x.py") == b"print(1)\n"
    assert read_text(tmp_path, "top.txt", encoding="utf-8-sig") == "hello"


def test_a_symlink_to_a_host_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("instructor solution")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "task1.ipynb").symlink_to(secret)
    with pytest.raises(UnsafeFile, match="symbolic link"):
        read_bytes(sub, "task1.ipynb")


def test_a_symlinked_folder_on_the_way_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.py").write_text("x = 1")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "lib").symlink_to(outside)
    with pytest.raises(UnsafeFile, match="symbolic link"):
        read_bytes(sub, "lib/f.py")


def test_a_fifo_neither_blocks_nor_is_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "zz_helper.py")
    result: list[BaseException] = []
    reader = threading.Thread(target=lambda: _catch(result, tmp_path, "zz_helper.py"))
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert isinstance(result[0], UnsafeFile) and "FIFO" in str(result[0])


def _catch(out: list[BaseException], root: Path, rel: str) -> None:
    try:
        read_bytes(root, rel)
    except BaseException as e:  # recorded for the assertion in the main thread
        out.append(e)


def test_devices_are_refused_even_through_a_link(tmp_path: Path) -> None:
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(UnsafeFile):
        read_bytes(tmp_path, "zero")


def test_a_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * 2000)
    with pytest.raises(UnsafeFile, match="MB"):
        read_bytes(tmp_path, "big.bin", limit=1000)
    assert len(read_bytes(tmp_path, "big.bin", limit=2000)) == 2000


def test_paths_leaving_the_root_are_refused(tmp_path: Path) -> None:
    for rel in ("../x", "/etc/passwd", ""):
        with pytest.raises(UnsafeFile):
            read_bytes(tmp_path, rel)


def test_walk_lists_regular_files_and_says_what_it_skipped(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.py").write_text("")
    (tmp_path / "b.py").write_text("")
    (tmp_path / "link.py").symlink_to("/etc/hostname")
    (tmp_path / "linkdir").symlink_to("/etc")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "c.pyc").write_bytes(b"")
    tree = walk(tmp_path, skip_dirs={"__pycache__"})
    assert tree.files == [PurePosixPath("b.py"), PurePosixPath("d/a.py")]
    skipped = dict(tree.skipped)
    assert skipped["link.py"] == skipped["linkdir"] == "a symbolic link"
    assert "FIFO" in skipped["pipe"]
    assert not tree.truncated


def test_walk_of_a_very_deep_tree_neither_recurses_nor_descends_forever(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # relative mkdir: absolute paths this deep exceed PATH_MAX
    for _ in range(1500):
        os.mkdir("d")
        os.chdir("d")
    Path("leaf.py").write_text("")
    os.chdir(tmp_path)
    try:
        tree = walk(tmp_path, max_depth=32)
        assert tree.files == []
        assert any("deeper than 32" in why for _, why in tree.skipped)
    finally:
        _remove_chain(tmp_path, 1500)


def _remove_chain(root: Path, depth: int) -> None:
    """Delete d/d/…/d without recursion (shutil.rmtree recurses past Python's limit)."""
    os.chdir(root)
    for _ in range(depth):
        os.chdir("d")
    os.remove("leaf.py")
    for _ in range(depth):
        os.chdir("..")
        os.rmdir("d")


def test_walk_stops_after_max_entries(tmp_path: Path) -> None:
    for i in range(50):
        (tmp_path / f"f{i}.py").write_text("")
    tree = walk(tmp_path, max_entries=10)
    assert tree.truncated and len(tree.files) == 10


def test_refusals_say_their_kind_and_survive_pickling(tmp_path: Path) -> None:
    import pickle

    (tmp_path / "link").symlink_to("/etc/hostname")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "big").write_bytes(b"x" * 10)
    kinds = {}
    for name, limit in (("link", 100), ("pipe", 100), ("big", 5), ("missing", 100)):
        with pytest.raises(UnsafeFile) as caught:
            read_bytes(tmp_path, name, limit)
        kinds[name] = caught.value.kind
        again = pickle.loads(pickle.dumps(caught.value))
        assert (str(again), again.kind) == (str(caught.value), caught.value.kind)
    assert kinds == {"link": "link", "pipe": "special", "big": "too_large",
                     "missing": "unreadable"}
    with pytest.raises(UnsafeFile) as caught:
        read_bytes(tmp_path, "../x")
    assert caught.value.kind == "outside"


def test_chunks_stream_a_file_and_open_regular_seeks(tmp_path: Path) -> None:
    import zipfile

    from grader.safe_files import CHUNK, chunks, open_regular

    (tmp_path / "data").write_bytes(b"a" * (CHUNK + 3))
    assert [len(c) for c in chunks(tmp_path, "data", CHUNK + 3)] == [CHUNK, 3]
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("x.py", "print(1)")
    with open_regular(tmp_path, "a.zip") as f, zipfile.ZipFile(f) as zf:
        assert zf.read("x.py") == b"print(1)"
    os.mkfifo(tmp_path / "pipe.zip")
    with pytest.raises(UnsafeFile, match="FIFO"):
        open_regular(tmp_path, "pipe.zip")


def test_lstat_follows_no_folder_link_on_the_way(tmp_path: Path) -> None:
    from grader.safe_files import lstat

    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text("abc")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert lstat(tmp_path, "real/f").st_size == 3
    with pytest.raises(UnsafeFile, match="symbolic link") as caught:
        lstat(tmp_path, "alias/f")
    assert caught.value.kind == "link"


def test_walk_records_stats_depth_and_time(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.py").write_text("12")
    (tmp_path / "top.py").write_text("1")
    tree = walk(tmp_path)
    assert tree.stats[PurePosixPath("a/b/f.py")].st_size == 2 and not tree.too_deep
    shallow = walk(tmp_path, max_depth=0)
    assert shallow.files == [PurePosixPath("top.py")] and shallow.too_deep
    assert walk(tmp_path, max_seconds=0).truncated
