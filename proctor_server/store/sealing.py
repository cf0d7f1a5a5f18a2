"""Evidence encrypted at rest: photos, snapshots and reference photos are sealed with AES-256-GCM
under a key kept outside the database (a key file), so a copied data folder or backup shows
nothing without it.

A sealed file is `PSE1` + the key's id (8 bytes) + a 12-byte nonce + the ciphertext and tag.
The file's path inside the data folder is bound in as associated data: a sealed file moved to
another attempt's place does not open. Files written before a key was configured stay readable
as they are.

The key file holds one key a line, `ID:BASE64` (32 random bytes), the current key first; older
keys below it still open what they sealed. Rotation: put a new key on top, run
`proctor-server reseal` (every file and every personal field is opened and sealed again under
the new key), then remove the old lines. `proctor-server key new` writes a fresh key file with
mode 0600.

Personal fields in the database (`Fields`) are sealed the same way and kept as text:
`pse1:` + base64 of the key's id, the nonce, the ciphertext and tag. The associated data names
the table, the column and the row's own key (`place`), so a value copied into another row or
column does not open. Empty values and NULL stay as they are (nothing personal in them); a
value written before a key was configured stays readable until `reseal` seals it.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from proctor_server.store.private_files import write_private
from shared.errors import ConfigError

MAGIC = b"PSE1"
FIELD_MAGIC = "pse1:"
KEY_ID_BYTES = 8
NONCE_BYTES = 12
KEY_ENV = "PROCTOR_DATA_KEY_FILE"


class SealBroken(ConfigError):
    """A sealed file that no configured key opens (a wrong or missing key, or tampering)."""


@dataclass(frozen=True, slots=True)
class Key:
    id: bytes
    secret: bytes

    @classmethod
    def new(cls) -> Key:
        return cls(secrets.token_bytes(KEY_ID_BYTES), AESGCM.generate_key(bit_length=256))

    def line(self) -> str:
        return f"{self.id.hex()}:{base64.b64encode(self.secret).decode()}"


class Sealer:
    """Seals with the current key, opens with any key of the ring."""

    def __init__(self, keys: list[Key]):
        if not keys:
            raise ConfigError("the key file holds no key")
        self.current = keys[0]
        self.keys = list(keys)
        self._ring = {k.id: AESGCM(k.secret) for k in keys}

    def seal(self, data: bytes, place: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ring[self.current.id].encrypt(nonce, data, place.encode())
        return MAGIC + self.current.id + nonce + sealed

    def open(self, data: bytes, place: str) -> bytes:
        if not is_sealed(data):
            return data  # written before a key was configured
        head = len(MAGIC)
        key_id = data[head : head + KEY_ID_BYTES]
        nonce = data[head + KEY_ID_BYTES : head + KEY_ID_BYTES + NONCE_BYTES]
        aead = self._ring.get(key_id)
        if aead is None:
            raise SealBroken(
                f"{place}: sealed with key {key_id.hex()}, which is not in the key file"
            )
        try:
            return aead.decrypt(nonce, data[head + KEY_ID_BYTES + NONCE_BYTES :], place.encode())
        except InvalidTag:
            raise SealBroken(f"{place}: the sealed file does not open (altered or moved)") from None

    def cipher(self, key_id: bytes) -> AESGCM | None:
        """The cipher of a key of the ring by its id (None: not in the key file)."""
        return self._ring.get(key_id)

    def sealed_with_current(self, data: bytes) -> bool:
        return is_sealed(data) and data[len(MAGIC) : len(MAGIC) + KEY_ID_BYTES] == self.current.id


def is_sealed(data: bytes) -> bool:
    return data.startswith(MAGIC)


def read_key_file(path: Path) -> Sealer:
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such key file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the key file ({exc})") from None
    if path.stat().st_mode & 0o077:
        raise ConfigError(f"{path}: the key file must be readable by its owner only (chmod 600)")
    keys: list[Key] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            ident, secret = line.split(":", 1)
            key = Key(bytes.fromhex(ident), base64.b64decode(secret, validate=True))
        except (ValueError, binascii.Error):
            raise ConfigError(f"{path}:{number}: expected ID:BASE64") from None
        if len(key.id) != KEY_ID_BYTES or len(key.secret) != 32:
            raise ConfigError(f"{path}:{number}: a key is an 8-byte id and 32 bytes")
        keys.append(key)
    return Sealer(keys)


def sealer_from(path: Path | None) -> Sealer | None:
    """The configured key: `path`, else the file named by $PROCTOR_DATA_KEY_FILE, else none."""
    if path is None and os.environ.get(KEY_ENV):
        path = Path(os.environ[KEY_ENV])
    return None if path is None else read_key_file(path)


def write_key_file(path: Path, keys: list[Key]) -> None:
    """A key file with mode 0600, written whole (a new file, or the old one replaced)."""
    text = "# proctor data key: the first line seals, every line opens. Keep a copy apart.\n"
    text += "".join(k.line() + "\n" for k in keys)
    write_private(path, text.encode("ascii"))


def field_place(table: str, column: str, row: tuple[object, ...]) -> str:
    """The associated data of a sealed field: its table, column and row key, each part
    prefixed by its length so that no two rows give the same text."""
    text = f"{len(table)}:{table}{len(column)}:{column}"
    for v in row:
        part = str(v)
        text += f"{len(part)}:{part}"
    return text


class Fields:
    """Personal fields of the database, sealed under the data key when one is configured.

    Without a `Sealer` values are stored and read as they are (today's behaviour), except that
    a sealed value then refuses to open with `SealBroken` rather than showing its ciphertext."""

    def __init__(self, sealer: Sealer | None):
        self.sealer = sealer

    def seal(
        self, value: str | None, table: str, column: str, row: tuple[object, ...]
    ) -> str | None:
        if value is None or value == "" or self.sealer is None:
            return value
        sealed = self.sealer.seal(value.encode(), field_place(table, column, row))
        return FIELD_MAGIC + base64.b64encode(sealed[len(MAGIC) :]).decode("ascii")

    def open(
        self, value: str | None, table: str, column: str, row: tuple[object, ...]
    ) -> str | None:
        if value is None or not value.startswith(FIELD_MAGIC):
            return value  # empty, or written before a key was configured
        if self.sealer is None:
            raise SealBroken(
                _where(table, column, row, "the field is sealed and no data key is configured")
            )
        try:
            raw = base64.b64decode(value[len(FIELD_MAGIC) :], validate=True)
        except (ValueError, binascii.Error):
            raise SealBroken(_where(table, column, row, "the sealed field is damaged")) from None
        aead = self.sealer.cipher(raw[:KEY_ID_BYTES])
        if aead is None:
            reason = f"sealed with key {raw[:KEY_ID_BYTES].hex()}, which is not in the key file"
            raise SealBroken(_where(table, column, row, reason))
        nonce = raw[KEY_ID_BYTES : KEY_ID_BYTES + NONCE_BYTES]
        try:
            plain = aead.decrypt(
                nonce, raw[KEY_ID_BYTES + NONCE_BYTES :], field_place(table, column, row).encode()
            )
        except InvalidTag:
            reason = "the sealed field does not open (altered, or copied from another row)"
            raise SealBroken(_where(table, column, row, reason)) from None
        return plain.decode()

    def text(self, value: str, table: str, column: str, row: tuple[object, ...]) -> str:
        """`open` for a NOT NULL column."""
        opened = self.open(value, table, column, row)
        assert opened is not None
        return opened

    def current(self, value: str | None) -> bool:
        """Nothing to reseal: empty, or sealed under the current key."""
        if value is None or value == "":
            return True
        if not is_sealed_field(value) or self.sealer is None:
            return self.sealer is None
        try:
            head = base64.b64decode(value[len(FIELD_MAGIC) :][:16])
        except (ValueError, binascii.Error):
            return False
        return head[:KEY_ID_BYTES] == self.sealer.current.id


def _where(table: str, column: str, row: tuple[object, ...], reason: str) -> str:
    return f"{table}.{column} of row {list(row)}: {reason}"


def is_sealed_field(value: str) -> bool:
    return value.startswith(FIELD_MAGIC)
