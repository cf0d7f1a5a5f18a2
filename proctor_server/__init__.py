"""The exam server: WebSocket/HTTP app, session core, store, analysis, command line."""
