"""The candidate's runtime: asyncio shell around the pure exam flow (no Qt here)."""
