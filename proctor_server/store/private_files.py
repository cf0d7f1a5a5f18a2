"""Files only their owner may read: evidence, keys, exports. One way to write them, so that
every such file is created 0600 in a folder made 0700, and written whole."""

from __future__ import annotations

import errno
import os
from pathlib import Path


def write_private(path: Path, data: bytes, *, exclusive: bool = False) -> Path:
    """Write `data` to `path` with mode 0600, creating its folder (0700) when missing.

    By default the file is written whole: to a temporary name beside it, flushed to disk,
    renamed over `path`, and the folder synced, so that a reader (or a row pointing at it)
    never meets half a file and a failed write (a full disk) leaves nothing behind. With
    `exclusive` an existing file is never replaced (FileExistsError)."""
    private_folder(path.parent)
    if exclusive:
        _write_fd(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), data)
        return path
    tmp = path.with_name(path.name + ".tmp")
    try:
        _write_fd(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return path


def private_folder(folder: Path) -> Path:
    """`folder`, made 0700 with every missing folder above it (`Path.mkdir` would make the
    ones above with the default mode): a folder of evidence is made where it is first
    needed, and none of it is ever readable by others."""
    missing: list[Path] = []
    above = folder
    while not above.is_dir() and above.parent != above:
        if above.exists():  # a file where a folder is wanted: said at once, naming it
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(above))
        missing.append(above)
        above = above.parent
    for made in reversed(missing):
        try:
            made.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile (another writer): it was made 0700 too
            pass
    return folder


def _write_fd(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
