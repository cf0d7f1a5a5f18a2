"""What both media gateways that hold streams keep (aiortc's and Janus's): each attempt's
stream and the proctors who watch it, and the ways a stream or a watch ends. A gateway says
how its own streams and watches close (`_close_stream`, `_close_link`)."""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from proctor_server.media.gateway import ATTEMPT_OVER, StreamKey, Watcher


class _Keyed(Protocol):
    @property
    def key(self) -> StreamKey: ...


S = TypeVar("S", bound=_Keyed)
L = TypeVar("L")


class StreamBook(Generic[S, L]):
    def __init__(self) -> None:
        self._streams: dict[str, S] = {}  # attempt -> its stream
        self._links: dict[str, dict[str, L]] = {}  # attempt -> watcher id -> link

    async def _close_stream(self, stream: S, reason: str | None) -> None:
        """Close a stream and its watchers' links; report why (None: silently, a newer
        stream of the same attempt takes over)."""
        raise NotImplementedError

    async def _close_link(self, link: L) -> None:
        raise NotImplementedError

    def _new_link(self, watcher: Watcher) -> L:
        raise NotImplementedError

    async def _fresh_link(self, watcher: Watcher, attempt: str) -> L:
        """The watcher's link to the attempt: a new one, or theirs closed for a fresh offer (a
        second `watch`)."""
        links = self._links.setdefault(attempt, {})
        link = links.get(watcher.id)
        if link is None:
            link = links[watcher.id] = self._new_link(watcher)
        else:
            await self._close_link(link)
        return link

    def streaming(self, attempt: str) -> bool:
        return attempt in self._streams

    def live_elsewhere(self, exam: str, attempt: str) -> None:
        """A stream published through another server: out of reach, unless the gateway
        overrides this (Janus)."""
        return None

    async def end(self, attempt: str, reason: str) -> None:
        stream = self._streams.get(attempt)
        if stream is not None:
            await self._end_stream(stream, reason)

    async def finish(self, attempt: str) -> None:
        await self.end(attempt, ATTEMPT_OVER)
        for link in self._links.pop(attempt, {}).values():
            await self._close_link(link)

    async def _end_stream(self, stream: S, reason: str | None) -> None:
        if self._streams.get(stream.key.attempt) is stream:
            del self._streams[stream.key.attempt]
        await self._close_stream(stream, reason)

    async def unwatch(self, watcher_id: str, attempt: str) -> None:
        links = self._links.get(attempt, {})
        link = links.pop(watcher_id, None)
        if not links:
            self._links.pop(attempt, None)
        if link is not None:
            await self._close_link(link)

    async def unwatch_all(self, watcher_id: str) -> None:
        for attempt in [a for a, links in self._links.items() if watcher_id in links]:
            await self.unwatch(watcher_id, attempt)
