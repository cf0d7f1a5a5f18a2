"""`PostgresStore`: the shared table modules (`sql.tables`) on PostgreSQL, through the same
group-commit machinery as SQLite (`sql.database`: one connection on one thread, writes that
arrive together in one transaction, a savepoint each, acknowledged after COMMIT).

Several exam-server processes may share the database: each has its own connection and
groups; what reads then writes locks first (`Dialect.for_update`, `Dialect.lock`), so they
serialise where SQLite's single writer did. Photos and clips stay files under the data
folder (`--data-dir`; several machines need a shared one); without one, a folder named after
the database in the working directory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from proctor_server.store.migrations import STORE_COMPONENTS, migrate
from proctor_server.store.postgres.dialect import POSTGRES
from proctor_server.store.sealing import Sealer
from proctor_server.store.sql.database import CommitPolicy, Database
from proctor_server.store.sql.tables import Tables
from shared.errors import ConfigError


class PostgresDatabase(Database):
    dialect = POSTGRES

    def __init__(
        self,
        dsn: str,
        data_dir: Path | str | None = None,
        *,
        components: Mapping[str, Sequence[str]] | None = None,
        sealer: Sealer | None = None,
        commits: CommitPolicy | None = None,
    ):
        self.dsn = dsn
        super().__init__(dsn, data_dir, components=components, sealer=sealer, commits=commits)

    def _default_blob_root(self) -> Path:
        from proctor_server.store.open import files_beside

        return files_beside(self.dsn, "-files")

    def _open_connection(self) -> object:
        import psycopg

        from proctor_server.store.postgres.adapter import PgConnection

        try:
            conn = PgConnection.connect(self.dsn)
        except psycopg.Error as exc:
            raise ConfigError(f"cannot open the PostgreSQL database: {exc}") from None
        try:
            migrate(conn, {**STORE_COMPONENTS, **self._components}, POSTGRES)
        except BaseException:
            conn.close()
            raise
        return conn


class PostgresStore(PostgresDatabase, Tables):
    """`Store` (and `CalibrationStore`, and the programme's `ProgrammeStore`) on PostgreSQL.
    Open with `await store.open()`; `close()` is idempotent."""
