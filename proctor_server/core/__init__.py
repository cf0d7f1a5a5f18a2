"""The server's pure session core: decisions over records, messages and `now`; no I/O."""
