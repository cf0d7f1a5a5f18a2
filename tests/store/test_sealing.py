"""Evidence at rest: sealed under the data key, opened only with it, bound to its place, and
rotated without losing a file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from proctor_server.store.files import BlobDir
from proctor_server.store.sealing import (
    Fields,
    Key,
    SealBroken,
    Sealer,
    field_place,
    read_key_file,
    sealer_from,
    write_key_file,
)
from shared.errors import ConfigError

JPEG = b"\xff\xd8\xff\xe0" + b"face" * 100


def test_a_sealed_file_opens_only_with_its_key_and_in_its_place() -> None:
    key = Key.new()
    sealer = Sealer([key])
    sealed = sealer.seal(JPEG, "snapshots/e/a/1.jpg")
    assert b"face" not in sealed and sealed.startswith(b"PSE1")
    assert sealer.open(sealed, "snapshots/e/a/1.jpg") == JPEG
    with pytest.raises(SealBroken, match="altered or moved"):
        sealer.open(sealed, "snapshots/e/OTHER/1.jpg")  # moved to another attempt's place
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealBroken, match="altered or moved"):
        sealer.open(tampered, "snapshots/e/a/1.jpg")
    with pytest.raises(SealBroken, match="not in the key file"):
        Sealer([Key.new()]).open(sealed, "snapshots/e/a/1.jpg")
    assert sealer.open(JPEG, "old/plain.jpg") == JPEG  # written before a key was configured


def test_blobs_are_sealed_on_disk_and_private(tmp_path: Path) -> None:
    blobs = BlobDir(tmp_path / "files", Sealer([Key.new()]))
    blobs.prepare()
    path = blobs.write("identity/e/a/p.jpg", JPEG)
    assert b"face" not in path.read_bytes()
    assert blobs.read("identity/e/a/p.jpg") == JPEG
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "files").stat().st_mode) == 0o700
    # without the key the file is refused, not handed out as if it were an image
    with pytest.raises(SealBroken, match="no data key"):
        BlobDir(tmp_path / "files").read("identity/e/a/p.jpg")


def test_rotation_keeps_every_file_readable(tmp_path: Path) -> None:
    key_file = tmp_path / "data.key"
    old = Key.new()
    write_key_file(key_file, [old])
    blobs = BlobDir(tmp_path / "files", read_key_file(key_file))
    blobs.prepare()
    blobs.write("a.jpg", JPEG)
    new = Key.new()
    write_key_file(key_file, [new, old])  # the new key first; the old one still opens
    rotated = BlobDir(tmp_path / "files", read_key_file(key_file))
    assert rotated.read("a.jpg") == JPEG
    assert rotated.files() == ["a.jpg"]
    assert rotated.reseal("a.jpg") is True and rotated.reseal("a.jpg") is False
    write_key_file(key_file, [new])  # the old key retired
    assert BlobDir(tmp_path / "files", read_key_file(key_file)).read("a.jpg") == JPEG


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [
        ("", 0o600, "holds no key"),
        ("nonsense\n", 0o600, ":1: expected ID:BASE64"),
        ("0011:AAAA\n", 0o600, ":1: a key is an 8-byte id and 32 bytes"),
        (Key.new().line() + "\n", 0o644, "readable by its owner only"),
    ],
)
def test_a_bad_key_file_is_one_clear_error(
    tmp_path: Path, content: str, mode: int, message: str
) -> None:
    path = tmp_path / "k"
    path.write_text(content)
    os.chmod(path, mode)
    with pytest.raises(ConfigError, match=message):
        read_key_file(path)


def test_the_key_file_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROCTOR_DATA_KEY_FILE", raising=False)
    assert sealer_from(None) is None
    path = tmp_path / "k"
    write_key_file(path, [Key.new()])
    monkeypatch.setenv("PROCTOR_DATA_KEY_FILE", str(path))
    sealer = sealer_from(None)
    assert sealer is not None and sealer.current == read_key_file(path).current
    with pytest.raises(ConfigError, match="no such key file"):
        sealer_from(tmp_path / "missing")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("tickets", "name", ("e1", "C2")), ("tickets", "name", ("e1C", "2"))),
        (("tickets", "name", ("e", "C1")), ("tickets", "email", ("e", "C1"))),
        (("profiles", "mail_to", ("a", "m")), ("tickets", "mail_to", ("a", "m"))),
        (("t", "c", (1, "x")), ("t", "c", ("1x",))),
        (("t", "c", ("1:a",)), ("t", "c", ("1", "a"))),
    ],
)
def test_no_two_places_of_personal_fields_are_the_same(
    first: tuple[str, str, tuple[object, ...]], second: tuple[str, str, tuple[object, ...]]
) -> None:
    assert field_place(*first) != field_place(*second)
    fields = Fields(Sealer([Key.new()]))
    sealed = fields.seal("Ada", *first)
    assert fields.open(sealed, *first) == "Ada"
    with pytest.raises(SealBroken, match="does not open"):
        fields.open(sealed, *second)


@pytest.mark.parametrize(
    ("value", "keyed", "opened", "error"),
    [
        (None, True, None, None),
        ("", True, "", None),
        ("Ada", False, "Ada", None),  # no key: stored as it is
        ("Ada", True, "Ada", None),
        ("pse1:!!notbase64", True, None, "damaged"),
    ],
)
def test_fields_seal_and_open(
    value: str | None, keyed: bool, opened: str | None, error: str | None
) -> None:
    fields = Fields(Sealer([Key.new()]) if keyed else None)
    place = ("tickets", "name", ("e", "C1"))
    if error is not None:
        with pytest.raises(SealBroken, match=error):
            fields.open(value, *place)
        return
    stored = fields.seal(value, *place)
    if keyed and value:
        assert stored is not None and stored.startswith("pse1:") and value not in stored
    else:
        assert stored == value
    assert fields.open(stored, *place) == opened
    assert fields.current(stored)


def test_a_sealed_field_without_the_key_is_a_clear_error() -> None:
    sealed = Fields(Sealer([Key.new()])).seal("Ada", "tickets", "name", ("e", "C1"))
    with pytest.raises(SealBroken, match=r"tickets\.name of row \['e', 'C1'\]: .*no data key"):
        Fields(None).open(sealed, "tickets", "name", ("e", "C1"))
