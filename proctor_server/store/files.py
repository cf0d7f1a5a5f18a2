"""Blobs on disk (identity photos, snapshots, reference photos), written so that a row in
the store never points at a missing or half-written file: write to a temporary name, fsync,
rename, fsync the folder; only then is the row committed."""

from __future__ import annotations

import os
from pathlib import Path


class BlobDir:
    def __init__(self, root: Path):
        self.root = root

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.rglob("*.tmp"):  # left by a crash between write and rename
            stale.unlink(missing_ok=True)

    def write(self, relative: str, data: bytes) -> Path:
        final = self.root / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(final.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return final

    def read(self, relative: str) -> bytes | None:
        try:
            return (self.root / relative).read_bytes()
        except FileNotFoundError:
            return None

    def remove(self, relative: str) -> None:
        (self.root / relative).unlink(missing_ok=True)
