"""Blobs on disk (identity photos, snapshots, reference photos), written so that a row in
the store never points at a missing or half-written file: write to a temporary name, fsync,
rename, fsync the folder; only then is the row committed.

Folders are created 0700 and files 0600: evidence is personal data. With a `Sealer` (a data
key is configured: `sealing.py`) every file is encrypted at rest and opened on read."""

from __future__ import annotations

from pathlib import Path

from proctor_server.store.private_files import write_private
from proctor_server.store.sealing import SealBroken, Sealer, is_sealed


class BlobDir:
    def __init__(self, root: Path, sealer: Sealer | None = None):
        self.root = root
        self.sealer = sealer

    def prepare(self) -> None:
        """At the store's opening: the temporary files a crash left between a write and its
        rename removed. The folder itself is made (0700) with its first file, so a staff
        command that stores none leaves no empty folder behind."""
        for stale in self.root.rglob("*.tmp"):  # nothing when the folder is not there yet
            stale.unlink(missing_ok=True)

    def write(self, relative: str, data: bytes) -> Path:
        if self.sealer is not None:
            data = self.sealer.seal(data, relative)
        return write_private(self.root / relative, data)

    def read(self, relative: str) -> bytes | None:
        """The file's bytes as written (opened when sealed); None when it is missing."""
        try:
            data = (self.root / relative).read_bytes()
        except FileNotFoundError:
            return None
        if is_sealed(data):
            if self.sealer is None:
                raise SealBroken(f"{relative}: the file is sealed and no data key is configured")
            return self.sealer.open(data, relative)
        return data

    def files(self) -> list[str]:
        """Every file's relative path (for resealing and checks)."""
        return sorted(
            str(p.relative_to(self.root))
            for p in self.root.rglob("*")
            if p.is_file() and p.suffix != ".tmp"
        )

    def reseal(self, relative: str) -> bool:
        """Seal this file again under the current key; False when it already is."""
        assert self.sealer is not None
        path = self.root / relative
        raw = path.read_bytes()
        if self.sealer.sealed_with_current(raw):
            return False
        plain = self.read(relative)
        assert plain is not None
        self.write(relative, plain)
        return True

    def remove(self, relative: str) -> None:
        (self.root / relative).unlink(missing_ok=True)
