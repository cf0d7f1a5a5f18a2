"""The personal fields the database holds, sealed under the data key (`sealing.Fields`), and
`reseal_fields`: every one of them opened and sealed again under the key file's first key.

Each entry names a table, the columns sealed in it and the columns naming its row (the row
key bound into each value as associated data; never a ticket token, which is hashed, and
never a rowid, which VACUUM may change). The table modules seal on write and open on read
with the same names; this list is what `reseal` walks and what docs/security.md lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from proctor_server.store.sealing import Fields
from proctor_server.store.sql.connection import Connection
from proctor_server.store.sql.database import Database


@dataclass(frozen=True, slots=True)
class PersonalColumns:
    table: str
    columns: tuple[str, ...]
    row_key: tuple[str, ...]
    blank: str = ""  # what an empty or purged value is: nothing personal, never sealed


PERSONAL: tuple[PersonalColumns, ...] = (
    # the candidate's name and contacts on the admission ticket
    PersonalColumns("tickets", ("name", "email", "phone"), ("exam_id", "candidate_code")),
    # the postal address typed by the candidate before the paper (R14)
    PersonalColumns("profiles", ("mail_to",), ("attempt_id", "client_id"), blank="{}"),
    # a face's embedding: biometric
    PersonalColumns("vision_calibrations", ("embedding",), ("attempt_id",)),
    # the programme's register: name, phone and e-mail (the identity number stays the key)
    PersonalColumns("programme_candidates", ("name", "phone", "email"), ("id_number",)),
    # notices greet the candidate by name; deliveries hold their phone or e-mail
    PersonalColumns("programme_notices", ("subject", "body"), ("key",)),
    PersonalColumns("programme_deliveries", ("address",), ("notice_id", "channel")),
    PersonalColumns("programme_site_messages", ("subject", "body"), ("notice_id",)),
)


def reseal_table(c: Connection, fields: Fields, spec: PersonalColumns, tables: set[str]) -> int:
    """Seal again under the current key every value of `spec` that is not (clear values
    written before a key was configured included); returns how many values changed."""
    if spec.table not in tables:  # a feature whose tables this database does not hold
        return 0
    names = ", ".join((*spec.row_key, *spec.columns))
    where = " AND ".join(f"{k} = ?" for k in spec.row_key)
    changed = 0
    for r in c.execute(f"SELECT {names} FROM {spec.table}").fetchall():
        key = tuple(r[k] for k in spec.row_key)
        for column in spec.columns:
            value = r[column]
            if value == spec.blank or fields.current(value):
                continue
            plain = fields.open(value, spec.table, column, key)
            c.execute(
                f"UPDATE {spec.table} SET {column} = ? WHERE {where}",
                (fields.seal(plain, spec.table, column, key), *key),
            )
            changed += 1
    return changed


class PersonalTables(Database):
    async def reseal_fields(self) -> int:
        """Every personal field sealed under the key file's first key, one transaction per
        table; returns how many values were sealed again."""
        if self.fields.sealer is None:
            return 0
        total = 0
        tables = await self._read(self.dialect.tables)
        for spec in PERSONAL:
            total += await self._write(
                lambda c, spec=spec: reseal_table(c, self.fields, spec, tables)  # type: ignore[misc]
            )
        return total
