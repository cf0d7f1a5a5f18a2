"""A small asyncio client of Janus's API over its WebSocket transport (subprotocol
`janus-protocol`): one session, plugin handles on it, requests matched to replies by
transaction, and the events Janus sends on its own (`webrtcup`, `media`, `hangup`, a plugin's
`event` without a transaction) handed to the handle they concern.

Only the exam server talks to this API; candidates and proctors never do. Janus closes a
session that hears nothing for `session_timeout` (60 s by default): a keepalive goes every
`keepalive_s` seconds."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections.abc import Callable
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

log = logging.getLogger(__name__)

Json = dict[str, Any]
EventHandler = Callable[[Json], None]

REQUEST_TIMEOUT_S = 10.0
_DECODER = msgspec.json.Decoder(dict[str, Any])


class JanusError(Exception):
    """Janus refused a request (`code`, its reason), or cannot be reached (code 0)."""

    def __init__(self, reason: str, code: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class JanusClient:
    """One connection and one Janus session. `open` then `attach`; `close` destroys the
    session (Janus then detaches its handles and hangs up their peer connections)."""

    def __init__(
        self,
        url: str,
        *,
        keepalive_s: float = 20.0,
        timeout_s: float = REQUEST_TIMEOUT_S,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self.url = url
        self.keepalive_s = keepalive_s
        self.timeout_s = timeout_s
        self.session_id: int | None = None
        self._on_lost = on_lost
        self._ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future[Json]] = {}
        self._settle_on_ack: set[str] = set()  # transactions whose `ack` is the reply
        self._handles: dict[int, JanusHandle] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._numbers = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self.closed = False

    async def open(self) -> None:
        try:
            self._ws = await asyncio.wait_for(
                connect(
                    self.url,
                    subprotocols=[Subprotocol("janus-protocol")],
                    compression=None,
                    max_size=2**22,
                ),
                self.timeout_s,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise JanusError(f"Janus is unreachable at {self.url}: {exc}") from None
        self._tasks.append(asyncio.create_task(self._read(), name="janus-reader"))
        try:
            reply = await self._request({"janus": "create"})
        except JanusError:
            await self.close()
            raise
        self.session_id = int(reply["data"]["id"])
        self._tasks.append(asyncio.create_task(self._keepalive(), name="janus-keepalive"))

    async def attach(self, plugin: str, on_event: EventHandler) -> JanusHandle:
        reply = await self._request({"janus": "attach", "plugin": plugin})
        handle = JanusHandle(self, int(reply["data"]["id"]), on_event)
        self._handles[handle.id] = handle
        return handle

    # ------------------------------------------------------------ requests

    async def _request(self, payload: Json, *, settle_on_ack: bool = False) -> Json:
        """Send a request; return Janus's `success` or `event` reply (its `ack` too when
        `settle_on_ack`: trickle and keepalive get nothing else)."""
        if self.closed or self._ws is None:
            raise JanusError("the connection to Janus is closed")
        transaction = f"{self._prefix}-{next(self._numbers)}"
        message = {**payload, "transaction": transaction}
        if self.session_id is not None and "session_id" not in message:
            message["session_id"] = self.session_id
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = future
        if settle_on_ack:
            self._settle_on_ack.add(transaction)
        try:
            await self._ws.send(msgspec.json.encode(message).decode())
            async with asyncio.timeout(self.timeout_s):
                reply = await future
        except ConnectionClosed:
            raise JanusError("the connection to Janus closed") from None
        except TimeoutError:
            raise JanusError(f"Janus did not answer {payload.get('janus')!r} in time") from None
        finally:
            self._pending.pop(transaction, None)
            self._settle_on_ack.discard(transaction)
        if reply.get("janus") == "error":
            error = reply.get("error", {})
            raise JanusError(str(error.get("reason", "error")), int(error.get("code", 0)))
        return reply

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                try:
                    message = _DECODER.decode(raw)
                except msgspec.DecodeError:
                    log.warning("Janus sent something that is not JSON: %.200r", raw)
                    continue
                self._dispatch(message)
        except ConnectionClosed:
            pass
        finally:
            lost = not self.closed
            self.closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(JanusError("the connection to Janus was lost"))
            if lost:
                log.warning("the connection to Janus at %s was lost", self.url)
                for handle in list(self._handles.values()):
                    handle.deliver({"janus": "hangup", "reason": "the media server went away"})
                if self._on_lost is not None:
                    self._on_lost()

    def _dispatch(self, message: Json) -> None:
        kind = message.get("janus")
        transaction = str(message.get("transaction", ""))
        future = self._pending.get(transaction)
        if future is not None and not future.done():
            if kind != "ack" or transaction in self._settle_on_ack:
                future.set_result(message)
            return  # an `ack` before the event that answers
        if kind == "timeout" and self._ws is not None:  # Janus dropped the session: start over
            self._tasks.append(asyncio.create_task(self._ws.close(), name="janus-timeout"))
            return
        sender = message.get("sender")
        handle = self._handles.get(sender) if isinstance(sender, int) else None
        if handle is not None:
            if kind == "detached":
                self._handles.pop(handle.id, None)
            handle.deliver(message)
        elif kind != "ack":
            log.debug("Janus event for no handle: %s", kind)

    async def _keepalive(self) -> None:
        with contextlib.suppress(JanusError):
            while not self.closed:
                await asyncio.sleep(self.keepalive_s)
                await self._request({"janus": "keepalive"}, settle_on_ack=True)

    def forget(self, handle_id: int) -> None:
        self._handles.pop(handle_id, None)

    async def close(self) -> None:
        if self._ws is None:
            return
        if not self.closed and self.session_id is not None:
            with contextlib.suppress(JanusError):
                await self._request({"janus": "destroy"})
        self.closed = True
        await self._ws.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


class JanusHandle:
    """One plugin handle: its requests, its trickled candidates, and the events Janus sends
    about it (to `on_event`, on the event loop: be quick)."""

    def __init__(self, client: JanusClient, handle_id: int, on_event: EventHandler) -> None:
        self.client = client
        self.id = handle_id
        self.on_event = on_event
        self.detached = False

    def deliver(self, message: Json) -> None:
        try:
            self.on_event(message)
        except Exception:
            log.exception("a Janus event handler failed")

    async def message(self, body: Json, jsep: Json | None = None) -> tuple[Json, Json | None]:
        """A plugin request; its reply's plugin data and JSEP. JanusError when Janus or the
        plugin refuses it."""
        payload: Json = {"janus": "message", "handle_id": self.id, "body": body}
        if jsep is not None:
            payload["jsep"] = jsep
        reply = await self.client._request(payload)
        data = reply.get("plugindata", {}).get("data", {})
        if "error_code" in data or "error" in data:
            raise JanusError(str(data.get("error", "error")), int(data.get("error_code", 0)))
        return data, reply.get("jsep")

    async def trickle(self, candidate: str | None, sdp_mid: str | None, index: int | None) -> None:
        if candidate:
            trickled: Json = {"candidate": candidate}
            if sdp_mid is not None:
                trickled["sdpMid"] = sdp_mid
            if index is not None:
                trickled["sdpMLineIndex"] = index
        else:
            trickled = {"completed": True}
        await self.client._request(
            {"janus": "trickle", "handle_id": self.id, "candidate": trickled}, settle_on_ack=True
        )

    async def detach(self) -> None:
        if self.detached:
            return
        self.detached = True
        self.client.forget(self.id)
        if not self.client.closed:
            with contextlib.suppress(JanusError):
                await self.client._request({"janus": "detach", "handle_id": self.id})
