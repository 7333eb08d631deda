"""Progress of a batch: one updating line with counts and an ETA on a terminal, plain
lines otherwise, and every event appended to a JSONL log that survives a crash."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, BinaryIO, TextIO


class EventLog:
    """Appends one JSON object per line, each in one unbuffered write, so a kill loses no
    finished line. A line cut short by a crash or a full disk is dropped when the log is
    opened again, so every line of the file stays valid JSON."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("ab", buffering=0)
        _drop_cut_line(self._file)

    def write(self, event: str, **fields: Any) -> None:
        record = {"time": round(time.time(), 3), "event": event, **fields}
        self._file.write((json.dumps(record, ensure_ascii=False) + "\n").encode())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _drop_cut_line(f: BinaryIO) -> None:
    size = f.seek(0, os.SEEK_END)
    if size == 0:
        return
    with open(f.name, "rb") as reader:
        reader.seek(max(0, size - (1 << 20)))
        tail = reader.read()
    if not tail.endswith(b"\n"):
        f.truncate(size - len(tail) + tail.rfind(b"\n") + 1)


class Progress:
    """Counts finished submissions and estimates the time left from the mean so far."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        self.done = 0
        self.start = time.monotonic()
        self.live = stream.isatty()

    def advance(self, student: str, status: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        line = (f"[{self.done}/{self.total}] {100 * self.done // max(1, self.total):3d}% "
                f"ETA {_clock(eta)}  {student}: {status}")
        if self.live:
            self.stream.write("\r\x1b[2K" + line)
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


    def note(self, text: str) -> None:
        """A line of its own, above the live progress line rather than through it."""
        self.stream.write(("\r\x1b[2K" if self.live else "") + text + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
