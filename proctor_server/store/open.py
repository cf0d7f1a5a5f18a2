"""Which store a `--db` names: a `postgresql://` (or `postgres://`) URL is PostgreSQL, anything
else a SQLite file. Every command that takes `--db` opens its store here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from proctor_server.store.sealing import Sealer
from proctor_server.store.sql.database import CommitPolicy
from proctor_server.store.sql.tables import Tables
from shared.errors import ConfigError

SCHEMES = ("postgresql://", "postgres://")
Target = Path | str


def database_arg(text: str) -> Target:
    """argparse's type for `--db`: a PostgreSQL URL kept as text, else a file's path."""
    return text if is_postgres(text) else Path(text)


def is_postgres(db: Target) -> bool:
    return isinstance(db, str) and db.startswith(SCHEMES)


def files_beside(db: Target, suffix: str) -> Path:
    """A folder that goes with the database (photos: "-files"): beside a SQLite file, named
    after a PostgreSQL database in the working directory (give a shared one explicitly when
    several machines serve it)."""
    if is_postgres(db):
        from psycopg.conninfo import conninfo_to_dict

        name = str(conninfo_to_dict(str(db)).get("dbname") or "proctor")
        return Path.cwd() / f"{name}{suffix}"
    path = Path(db)
    return path.with_name(path.stem + suffix)


def check_target(db: Target) -> None:
    """ConfigError when a SQLite file's folder is missing (a typo would make a new one)."""
    if not is_postgres(db) and not Path(db).parent.exists():
        raise ConfigError(f"{Path(db).parent}: no such folder for the database")


def make_store(
    db: Target,
    data_dir: Path | str | None = None,
    *,
    components: Mapping[str, Sequence[str]] | None = None,
    sealer: Sealer | None = None,
    commits: CommitPolicy | None = None,
) -> Tables:
    """The store `db` names, not opened yet."""
    if is_postgres(db):
        from proctor_server.store.postgres.store import PostgresStore

        return PostgresStore(
            str(db), data_dir, components=components, sealer=sealer, commits=commits
        )
    from proctor_server.store.sqlite.store import SqliteStore

    return SqliteStore(db, data_dir, components=components, sealer=sealer, commits=commits)


async def open_store(
    db: Target,
    data_dir: Path | str | None = None,
    *,
    components: Mapping[str, Sequence[str]] | None = None,
    sealer: Sealer | None = None,
    commits: CommitPolicy | None = None,
) -> Tables:
    """The store `db` names, opened (schema migrated)."""
    store = make_store(db, data_dir, components=components, sealer=sealer, commits=commits)
    await store.open()
    return store
