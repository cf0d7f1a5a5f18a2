"""Files only their owner may read: 0600 in a 0700 folder, written whole, never half."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from proctor_server.store.private_files import private_folder, write_private


@pytest.mark.parametrize("exclusive", [False, True])
def test_a_private_file_is_the_owner_s_alone(tmp_path: Path, exclusive: bool) -> None:
    path = write_private(tmp_path / "new" / "folder" / "key", b"secret", exclusive=exclusive)
    assert path.read_bytes() == b"secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["key"]  # no temporary file left


def test_a_whole_write_replaces_and_an_exclusive_one_refuses(tmp_path: Path) -> None:
    path = write_private(tmp_path / "file", b"first")
    write_private(path, b"second")
    assert path.read_bytes() == b"second"
    with pytest.raises(FileExistsError):
        write_private(path, b"third", exclusive=True)
    assert path.read_bytes() == b"second"


def test_a_failed_write_leaves_the_old_file_as_it_was(tmp_path: Path) -> None:
    path = write_private(tmp_path / "file", b"kept")
    (tmp_path / "file.tmp").mkdir()  # the temporary name cannot be opened as a file
    with pytest.raises(IsADirectoryError):
        write_private(path, b"lost")
    assert path.read_bytes() == b"kept"


def test_every_folder_made_for_a_private_file_is_the_owner_s_alone(tmp_path: Path) -> None:
    """`Path.mkdir(parents=True)` makes the folders above with the default mode: each one made
    for a private file is 0700, and a folder that was there is left as it was."""
    tmp_path.chmod(0o755)
    made = private_folder(tmp_path / "files" / "snapshots" / "a-1")
    assert made.is_dir() and made == tmp_path / "files" / "snapshots" / "a-1"
    write_private(tmp_path / "files" / "snapshots" / "a-1" / "p.jpg", b"jpeg")
    for folder in ("files", "files/snapshots", "files/snapshots/a-1"):
        assert stat.S_IMODE((tmp_path / folder).stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
    assert private_folder(tmp_path / "files") == tmp_path / "files"  # there already


@pytest.mark.parametrize("where", ["taken", "taken/below", "taken/below/deeper"])
def test_a_file_where_a_folder_is_wanted_is_named(tmp_path: Path, where: str) -> None:
    (tmp_path / "taken").write_bytes(b"not a folder")
    with pytest.raises(NotADirectoryError) as refused:
        private_folder(tmp_path / where)
    assert refused.value.filename == str(tmp_path / "taken")
    assert (tmp_path / "taken").read_bytes() == b"not a folder"
