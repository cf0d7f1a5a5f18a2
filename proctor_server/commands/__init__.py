"""Command groups of `proctor-server`; each module has `register(subparsers)` and sets
`run` on its parsers to a function of the parsed arguments returning the exit status."""
