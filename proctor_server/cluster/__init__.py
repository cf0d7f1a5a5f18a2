"""What lets several exam-server processes share one database and its exams: events for the
proctors travel to every process, signals reach the process that holds a candidate's connection,
and each exam's timers are led by one process at a time (`Cluster`). One process alone
(`LocalCluster`, the SQLite default) needs none of it; `PostgresCluster` carries it on the
database's own LISTEN/NOTIFY and advisory locks, so there is no other server to run."""
