"""Code both the candidate client and the server import: the wire protocol, the exam rules,
attempt states, shuffling and scoring. Pure: no sockets, disks, clocks or Qt."""
