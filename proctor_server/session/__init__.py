"""A candidate's session on the server: entering an attempt, the attempt's live connection,
and the handlers for what the candidate sends. `proctor_server.candidate` runs the socket."""
