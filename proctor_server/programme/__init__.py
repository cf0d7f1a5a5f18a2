"""The candidate's path from registration to certificate (R1–R8, R18–R21), staff side.

- `schema`: the component's tables (a migration component named "programme").
- `ports`: what the programme needs from the store (`ProgrammeStore`), which the store
  implements; the programme holds no SQL and opens no connection.
- `service`: register, pay, refund, defer, retake, tickets, results, certificates.
- `notify` and `channels`: the outbox of notices and the four channels they go out on.
"""
