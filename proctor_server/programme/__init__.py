"""The candidate's path from registration to certificate (R1–R8, R18–R21), staff side.

- `schema`: the component's tables (a migration component named "programme").
- `db`: a small repository on its own sqlite3 connection to the server's database.
- `service`: register, pay, refund, defer, retake, tickets, results, certificates.
- `notify` and `channels`: the outbox of notices and the four channels they go out on.

Kept free of imports so that the migrations module can import the schema cheaply.
"""
