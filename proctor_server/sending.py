"""One text frame out on a `websockets` connection, without the library's send context when
nothing has to be waited for.

`Connection.send` enters an async context manager for every message: an async generator,
registered with the event loop's generator hooks, that checks the state before the write and
flushes and drains after it. For the server's small frames (an answer's ack, a proctor's
event) that machinery costs more than the frame itself. When the connection is open and its
transport is not asking us to stop writing, the frame can go out at once, as the context would
have sent it: `protocol.send_text`, then the connection's own `send_data`. In every other case
(closing, closed, the peer not reading) the library's `send` runs and waits as it always does.

The server never sends a message in fragments, so no fragmented send is ever in progress on
its connections. The connection's attributes used here (`protocol`, `paused`, `send_data`) are
those of the asyncio implementation since `websockets` 14; `tests/server/test_sending.py` checks
on the installed version that they still behave so.
"""

from __future__ import annotations

from websockets.asyncio.connection import Connection
from websockets.protocol import State


async def send_text(ws: Connection, data: bytes) -> None:
    """Send `data`, UTF-8 JSON, as one text frame; ConnectionClosed when the connection is
    closed, as `ws.send` raises it."""
    if ws.protocol.state is State.OPEN and not ws.paused:
        ws.protocol.send_text(data)
        try:
            ws.send_data()
        except Exception:  # the transport failed under us: end it as the library would
            ws.transport.abort()
            await ws.wait_closed()
        else:
            return
    await ws.send(data, text=True)  # waits for the peer to read, or raises ConnectionClosed
