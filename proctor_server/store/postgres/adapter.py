"""A psycopg connection as the table modules expect one (`sql.connection.Connection`): SQLite's
`?` placeholders become psycopg's `%s` (a literal `%` doubled), Python booleans go as the
integers the columns hold, rows read by position or by column name, and a constraint's refusal
raises the store's `IntegrityError`."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from proctor_server.store.postgres.dialect import POSTGRES
from proctor_server.store.sql.connection import IntegrityError


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """`?` to `%s` and `%` to `%%`, outside quoted literals for `?` (`%` is doubled
    everywhere: psycopg reads it inside literals too)."""
    out: list[str] = []
    quote = ""
    for ch in sql:
        if ch == "%":
            out.append("%%")
        elif quote:
            out.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        else:
            out.append(ch)
    return "".join(out)


@functools.lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[tuple[Any, ...]]:
    index = {name: i for i, name in enumerate(names)}

    class PgRow(tuple):  # type: ignore[type-arg]
        """A row: a tuple that also answers to its columns' names (as `sqlite3.Row`)."""

        __slots__ = ()

        def __getitem__(self, key: Any) -> Any:
            if isinstance(key, str):
                key = index[key]
            return tuple.__getitem__(self, key)

        def keys(self) -> list[str]:
            return list(names)

    return PgRow


def _rows(cursor: Any) -> Any:
    description = cursor.description
    if description is None:
        return tuple
    return _row_class(tuple(d.name for d in description))


def _params(params: Sequence[Any]) -> Sequence[Any]:
    if any(p is True or p is False for p in params):
        return [int(p) if p is True or p is False else p for p in params]
    return params


class PgConnection:
    """One psycopg connection in autocommit mode: transactions are explicit (`BEGIN`,
    `SAVEPOINT`, `COMMIT` run as statements, as on SQLite)."""

    dialect = POSTGRES

    def __init__(self, conn: psycopg.Connection[Any]):
        self._conn = conn

    @classmethod
    def connect(cls, dsn: str) -> PgConnection:
        return cls(psycopg.connect(dsn, autocommit=True, row_factory=_rows))

    @property
    def broken(self) -> bool:
        """The server dropped the connection (the store opens another)."""
        return self._conn.broken or self._conn.closed

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any:
        try:
            return self._conn.execute(translate(sql), _params(parameters))
        except psycopg.errors.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any:
        cursor = self._conn.cursor()
        try:
            cursor.executemany(translate(sql), [_params(p) for p in parameters])
        except psycopg.errors.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        return cursor

    def close(self) -> None:
        self._conn.close()
