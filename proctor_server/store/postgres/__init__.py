"""The PostgreSQL engine under the shared table modules (`store.sql`): `adapter` (the
connection the table modules see: `?` placeholders, rows by name), `dialect` (row locks,
advisory locks, the exam grid's JSON, the migration steps translated) and `store` (the
assembled `PostgresStore` on the shared group-commit machinery). psycopg is imported only
when a `postgresql://` store is opened."""
