"""The candidate's path from registration to certificate (R1–R8, R18–R21), staff side.

- `schema`: the component's tables (a migration component named "programme").
- `db`: a small repository for those tables, on a connection the store opens.
- `service`: register, pay, refund, defer, retake, tickets, results, certificates.
- `notify` and `channels`: the outbox of notices and the four channels they go out on.
"""
