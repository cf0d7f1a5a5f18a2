"""The store's table modules, written once for both engines, by concept: `connection` (what
they ask of a connection, and the `Dialect` for the few differences), `database` (connection
thread, grouped commits, savepoints), `rows` (column lists and row mapping), `exams` (exams,
tickets), `attempts` (entry, transitions), `writes` (answers, events, profiles, photos),
`records` (violations, nonces, the exam grid), `audit`, `proctors`, `calibrations` (face
analysis's port), `clips`, `personal`, `retention`, `programme`, `programme_rows` and
`programme_outbox` (the certification programme's port), and `tables` (them assembled)."""
