"""The candidate's desktop app (PySide6). Qt is imported only inside this package.

Widgets show state and forward what the candidate did; they hold no exam rules. The runtime
(`proctor_client.runtime`) owns the session; `bridge.py` turns its state snapshots into Qt
signals; `app.py` is the one place where asyncio runs inside Qt's event loop (qasync).
A few helpers here are Qt-free on purpose (`photo_hints`, `address`, `timefmt`) so that
they are tested without a display.
"""
