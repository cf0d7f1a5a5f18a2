"""What the table modules ask of a database connection, and the few places where SQLite's SQL
and PostgreSQL's differ.

The table modules write one SQL: `?` placeholders, `INSERT ... ON CONFLICT`, `RETURNING`,
`ORDER BY rowid` (a PostgreSQL table gets a `rowid` identity column for it), integers for
booleans. A `Connection` runs it: `sqlite3.Connection` as it is (no wrapper on SQLite's hot
path), `postgres.adapter.PgConnection` translating placeholders. Rows are read by column name
or by position. `Dialect` holds what cannot be written once: locking an attempt's row before
a read-then-write, the exam grid's JSON aggregation, the catalogue of tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol


class IntegrityError(Exception):
    """A constraint refused a write (PostgreSQL's adapter raises this; SQLite raises
    `sqlite3.IntegrityError`): catch `INTEGRITY_ERRORS` for both."""


INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, IntegrityError)


class Row(Protocol):
    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Any: ...


class Connection(Protocol):
    """The part of `sqlite3.Connection` the table modules use, and the engine's `Dialect`
    (`sqlite.database.SqliteConnection`, `postgres.adapter.PgConnection`)."""

    @property
    def dialect(self) -> Dialect: ...

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...


class Dialect:
    """SQLite's ways (the base); `postgres.dialect.PostgresDialect` overrides them."""

    name = "sqlite"
    begin = "BEGIN IMMEDIATE"  # SQLite: take the write lock at once (one writer)
    # appended to a SELECT that reads a row the transaction then changes: SQLite's writer is
    # alone (BEGIN IMMEDIATE), PostgreSQL's are not
    for_update = ""
    release_savepoints = True  # RELEASE each write's savepoint (SQLite: cheap, in-process)
    max_group: int | None = None  # a cap on writes per transaction, whatever the operator's

    def lock(self, c: Any, key: str) -> None:
        """Serialise the transactions that take `key` until they end (an audit chain's head:
        SQLite's one writer already does)."""

    def prepare_migrations(self, c: Any, functions: dict[str, Callable[[str], str]]) -> None:
        """Make the Python functions the migration steps call (tickets' keys) callable."""
        for name, function in functions.items():
            c.create_function(name, 1, function, deterministic=True)

    def translate(self, step: str) -> str:
        """A migration step (SQLite's SQL) in this engine's SQL."""
        return step

    def retryable(self, exc: BaseException) -> bool:
        """Whether a write failed only because another transaction won a lock (it may run
        again): never on SQLite, whose writer is alone."""
        return False

    def tables(self, c: Any) -> set[str]:
        return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def tuples(self, c: Any) -> Any:
        """Something with `execute` whose rows are plain tuples (the grid reads thousands)."""
        cursor = c.cursor()
        cursor.row_factory = None
        return cursor

    def grid_sql(self, inner: str) -> str:
        """The exam grid's columns as JSON arrays over `inner` (its rows in order); `?` 1: the
        exam, 2: the attempts' risks as a JSON object."""
        return f"""
WITH ranks(attempt, risk) AS MATERIALIZED (SELECT key, value FROM json_each(?2))
SELECT json_group_array(code), json_group_array(name), json_group_array(state),
       json_group_array(attempt), json_group_array(mode), json_group_array(ends_at),
       json_group_array(warnings), {_booleans("admitted")}, json_group_array(verdict),
       json_group_array(score), json_group_array(max_score), {_booleans("passed")},
       coalesce(max(sealed), 0)
FROM ({inner.replace("{exam}", "?1")})
"""

    def grid_params(self, exam_id: str, ranks: bytes) -> tuple[Any, ...]:
        return (exam_id, ranks)


def _booleans(column: str) -> str:
    """A JSON array of a 0/1/NULL column as true/false/null (a subquery's column loses the
    JSON subtype `json('true')` would have)."""
    words = f"CASE {column} WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE 'null' END"
    return f"'[' || coalesce(group_concat({words}, ','), '') || ']'"


SQLITE = Dialect()
