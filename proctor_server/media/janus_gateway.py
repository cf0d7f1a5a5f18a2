"""The media gateway on Janus's video room (an SFU in its own process, Debian's `janus`).

The exam server stays the only client of Janus's API and keeps every decision about who may
publish and who may watch; candidates and proctors exchange nothing with Janus but ICE and
media. Each exam gets a private room, created on first use with a secret and a pin that only
this process knows (and Janus's `admin_key`, when the plugin is configured with one, so nobody
else can create rooms). A candidate's `rtc_offer` becomes a publisher handle's
`joinandconfigure` carrying the offer; Janus's answer goes back to the candidate as it is. A
proctor's `watch` becomes a subscriber handle (`join` as subscriber to the candidate's feed):
Janus's offer goes to the proctor as `rtc_offer`, the proctor's answer comes back as `start`.
A subscriber exists only while its proctor watches and the candidate's stream is up.

Recording: with `rec_dir`, every room records (Janus's own recorder, one `.mjr` file per
track) under `rec_dir/<exam>/`, named `<attempt>-<n>-video` / `-audio`; `janus-pp-rec` turns
them into WebM and Opus files (docs/operations.md). Janus sees RTP, not frames: the analysis
hooks (voice activity, live frames, clips) get nothing from this gateway, and `stats` knows an
exam stream's connection state but counts no frames; only the environment check's probes are
decoded here, by a subscriber of the server's own (janus_counter.py), to say what arrived."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import logging
import re
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proctor_server.media.gateway import (
    SHUTTING_DOWN,
    MediaError,
    MediaHook,
    StatusCallback,
    StreamKey,
    StreamStats,
    Watcher,
    check_offer,
)
from proctor_server.media.janus_api import JanusClient, JanusError, JanusHandle, Json
from proctor_server.media.janus_counter import FrameCounter
from proctor_server.media.probe import PROBE_EXAM
from proctor_server.media.stream_book import StreamBook
from proctor_server.store.open import files_beside
from shared import protocol as p
from shared.proctor_protocol import MediaStatus

if TYPE_CHECKING:
    from proctor_server.app import ServerConfig

log = logging.getLogger(__name__)

VIDEOROOM = "janus.plugin.videoroom"
MAX_PUBLISHERS = 100_000  # a room per exam: every candidate of the exam publishes in it


@dataclass(frozen=True, slots=True)
class JanusSettings:
    url: str  # Janus's WebSocket API, e.g. ws://127.0.0.1:8188
    admin_key: str | None = None  # the video room plugin's `admin_key`, when it has one
    rec_dir: Path | None = None  # record every stream under rec_dir/<exam>/ (None: no recording)
    ice_servers: list[p.IceServer] = field(default_factory=list)  # given to the clients
    # The environment check's probes: not recorded, and the server subscribes to their streams
    # itself and decodes them to count what arrives (janus_counter.py); exam streams never are.
    probe_exams: frozenset[str] = frozenset()


def folder_name(exam: str) -> str:
    """An exam id as one safe path component."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", exam).lstrip(".") or "exam"


def recordings_folder(data_dir: Path, exam: str) -> Path:
    """Where Janus records an exam's streams under the server's data folder (`purge` removes
    them with the exam's other evidence)."""
    return data_dir / "janus" / folder_name(exam)


@dataclass(frozen=True, slots=True)
class _Room:
    id: int
    secret: str
    pin: str


@dataclass(eq=False)
class _Publisher:
    key: StreamKey
    room: _Room
    on_status: StatusCallback
    handle: JanusHandle | None = None
    feed: int = 0  # the publisher's id in the room
    state: str = "new"  # new -> connected -> closed
    live: bool = False
    ended: bool = False
    counter: FrameCounter | None = None  # the server's own subscriber (probe_exams only)
    counter_handle: JanusHandle | None = None


@dataclass(eq=False)
class _Link:
    """One proctor watching one attempt: their subscriber handle while the attempt is live."""

    watcher: Watcher
    handle: JanusHandle | None = None
    answered: bool = False


class JanusGateway(StreamBook["_Publisher", "_Link"]):
    """Implements :class:`proctor_server.media.gateway.MediaGateway` on Janus's video room."""

    enabled = True
    across_servers = True  # rooms shared by the admin key (`_feed_elsewhere`)

    def __init__(self, settings: JanusSettings) -> None:
        self.settings = settings
        self._client: JanusClient | None = None
        self._connecting = asyncio.Lock()
        self._creating = asyncio.Lock()  # one room per exam, even for offers that come together
        self._rooms: dict[str, _Room] = {}
        super().__init__()
        self._tasks: set[asyncio.Task[None]] = set()
        self._serial = itertools.count(1)
        self._closed = False
        self._warned_hooks = False

    @property
    def ice_servers(self) -> list[p.IceServer]:
        return list(self.settings.ice_servers)

    def add_hook(self, hook: MediaHook) -> None:
        """Janus forwards RTP and never decodes it here: hooks get no frames."""
        if not self._warned_hooks:
            self._warned_hooks = True
            log.info("live media on Janus: analysis of live frames and clips are not fed")

    # ------------------------------------------------------------ Janus session and rooms

    async def _janus(self) -> JanusClient:
        async with self._connecting:
            if self._client is None or self._client.closed:
                client = JanusClient(self.settings.url, on_lost=self._lost)
                await client.open()
                self._client = client
                self._rooms.clear()  # the rooms of a lost session are not ours to trust
            return self._client

    def _lost(self) -> None:
        self._rooms.clear()

    async def _room(self, client: JanusClient, exam: str) -> _Room:
        room = self._rooms.get(exam)
        if room is not None:
            return room
        async with self._creating:
            return self._rooms.get(exam) or await self._create_room(client, exam)

    async def _create_room(self, client: JanusClient, exam: str) -> _Room:
        shared = shared_room(self.settings.admin_key, exam)
        secret, pin = (
            (shared.secret, shared.pin)
            if shared is not None
            else (secrets.token_urlsafe(24), secrets.token_urlsafe(12))
        )
        body: Json = {
            "request": "create",
            "description": f"exam {exam}",
            "is_private": True,
            "secret": secret,
            "pin": pin,
            "publishers": MAX_PUBLISHERS,
            "audiocodec": "opus",
            "videocodec": "vp8",
            "lock_record": True,
        }
        if self.settings.admin_key:
            body["admin_key"] = self.settings.admin_key
        if self.settings.rec_dir is not None and exam not in self.settings.probe_exams:
            body["record"] = True
            body["rec_dir"] = str(self.settings.rec_dir / folder_name(exam))
        if shared is not None:
            body["room"] = shared.id
        handle = await client.attach(VIDEOROOM, _ignore_event)
        try:
            data, _ = await handle.message(body)
        except JanusError as exc:
            if shared is None or exc.code != ROOM_EXISTS:
                raise
            data = {"room": shared.id}  # another exam server of the deployment made it
        finally:
            await handle.detach()
        room = self._rooms[exam] = _Room(int(data["room"]), secret, pin)
        log.info("exam %s: Janus room %s", exam, room.id)
        return room

    async def _feed_elsewhere(self, exam: str, attempt: str) -> _Publisher | None:
        """An attempt publishing through another exam server of the deployment (rooms shared
        by their admin key): its feed, found among the room's publishers by its display name."""
        if shared_room(self.settings.admin_key, exam) is None:
            return None
        try:
            client = await self._janus()
            room = await self._room(client, exam)
            handle = await client.attach(VIDEOROOM, _ignore_event)
            try:
                data, _ = await handle.message(
                    {"request": "listparticipants", "room": room.id, "secret": room.secret}
                )
            finally:
                await handle.detach()
        except JanusError as exc:
            log.info("attempt %s: its feed could not be looked up: %s", attempt, exc.reason)
            return None
        feeds = [
            int(person["id"])
            for person in data.get("participants", [])
            if person.get("display") == attempt and person.get("publisher")
        ]
        if not feeds:
            return None
        # one feed per attempt: a newer one pushes an older out (`_push_out_older`)
        remote = _Publisher(StreamKey(exam, attempt), room, _no_status, feed=feeds[-1])
        remote.state = "connected"
        return remote

    async def _push_out_older(self, client: JanusClient, room: _Room, attempt: str) -> None:
        """Before an attempt publishes: its feeds still in the shared room (published through a
        server that died, whose Janus session has not timed out yet) are kicked, so that a
        proctor on any server finds the one feed that is live."""
        handle = await client.attach(VIDEOROOM, _ignore_event)
        try:
            data, _ = await handle.message(
                {"request": "listparticipants", "room": room.id, "secret": room.secret}
            )
            for person in data.get("participants", []):
                if person.get("display") == attempt:
                    with contextlib.suppress(JanusError):
                        await handle.message(
                            {"request": "kick", "room": room.id, "secret": room.secret}
                            | {"id": person["id"]}
                        )
        finally:
            await handle.detach()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ candidates

    async def publish(self, key: StreamKey, offer_sdp: str, on_status: StatusCallback) -> str:
        if self._closed:
            raise MediaError(SHUTTING_DOWN)
        check_offer(offer_sdp)
        old = self._streams.pop(key.attempt, None)
        if old is not None:
            await self._close_stream(old, None)
        try:
            client = await self._janus()
            room = await self._room(client, key.exam)
            if shared_room(self.settings.admin_key, key.exam) is not None:
                await self._push_out_older(client, room, key.attempt)
        except JanusError as exc:
            log.warning("live media: %s", exc.reason)
            raise MediaError(f"the media server is unavailable: {exc.reason}") from None
        stream = _Publisher(key, room, on_status)
        self._streams[key.attempt] = stream
        body: Json = {
            "request": "joinandconfigure",
            "ptype": "publisher",
            "room": room.id,
            "pin": room.pin,
            "display": key.attempt,
            "audio": True,
            "video": True,
        }
        if self.settings.rec_dir is not None and key.exam not in self.settings.probe_exams:
            body["filename"] = f"{folder_name(key.attempt)}-{next(self._serial)}"
        try:
            stream.handle = await client.attach(
                VIDEOROOM, lambda event: self._publisher_event(stream, event)
            )
            data, jsep = await stream.handle.message(body, {"type": "offer", "sdp": offer_sdp})
        except JanusError as exc:
            await self._end_stream(stream, None)
            raise MediaError(f"the offer cannot be used: {exc.reason}") from None
        if jsep is None or jsep.get("type") != "answer":
            await self._end_stream(stream, None)
            raise MediaError("the media server gave no answer to the offer")
        stream.feed = int(data.get("id", 0))
        return str(jsep["sdp"])

    def _publisher_event(self, stream: _Publisher, event: Json) -> None:
        kind = event.get("janus")
        if stream.ended:
            return
        if kind == "webrtcup":
            stream.state = "connected"
            self._spawn(self._offer_all(stream), f"janus-offers-{stream.key.attempt}")
            if stream.key.exam in self.settings.probe_exams:
                self._spawn(self._count(stream), f"janus-count-{stream.key.attempt}")
        elif kind == "media" and event.get("receiving") and not stream.live:
            stream.live = True
            stream.on_status(MediaStatus.LIVE, None)
        elif kind in ("hangup", "detached"):
            reason = str(event.get("reason") or "closed")
            if reason in ("ICE failed", "DTLS alert"):
                reason = f"the connection failed ({reason})"
            self._spawn(self._end_stream(stream, reason), f"janus-end-{stream.key.attempt}")

    async def _count(self, stream: _Publisher) -> None:
        """Subscribe the server's own decoding peer to the stream (see janus_counter.py)."""
        client = self._client
        if client is None or client.closed or stream.ended:
            return
        counter = stream.counter = FrameCounter()
        try:
            handle = stream.counter_handle = await client.attach(VIDEOROOM, _ignore_event)
            _, jsep = await handle.message(self._subscribe_body(stream))
            if jsep is None or stream.ended:
                return
            answer = await counter.answer(str(jsep["sdp"]))
            await handle.message(
                {"request": "start", "room": stream.room.id}, {"type": "answer", "sdp": answer}
            )
        except (JanusError, ValueError) as exc:
            log.info("attempt %s: cannot count its frames: %s", stream.key.attempt, exc)

    @staticmethod
    def _subscribe_body(stream: _Publisher) -> Json:
        return {
            "request": "join",
            "ptype": "subscriber",
            "room": stream.room.id,
            "pin": stream.room.pin,
            "streams": [{"feed": stream.feed}],
        }

    async def add_ice(
        self, attempt: str, candidate: str | None, sdp_mid: str | None, index: int | None
    ) -> None:
        stream = self._streams.get(attempt)
        if stream is not None and stream.handle is not None:
            try:
                await stream.handle.trickle(candidate, sdp_mid, index)
            except JanusError as exc:
                raise MediaError(f"unusable ICE candidate: {exc.reason}") from None

    async def _close_link(self, link: _Link) -> None:
        await _close_link(link)

    def _new_link(self, watcher: Watcher) -> _Link:
        return _Link(watcher)

    async def _close_stream(self, stream: _Publisher, reason: str | None) -> None:
        """Detach the publisher (Janus hangs up, stops its recording, drops its feed) and the
        watchers' subscribers; report why (None: silently, a newer stream takes over)."""
        if stream.ended:
            return
        stream.ended = True
        stream.state = "closed"
        for link in self._links.get(stream.key.attempt, {}).values():
            await _close_link(link)
        if stream.counter_handle is not None:
            await stream.counter_handle.detach()
        if stream.counter is not None:
            await stream.counter.close()
        if stream.handle is not None:
            await stream.handle.detach()
        if reason is not None:
            stream.on_status(MediaStatus.NO_LIVE_VIDEO, reason)

    # ------------------------------------------------------------ proctors

    async def watch(self, watcher: Watcher, attempt: str) -> None:
        link = await self._fresh_link(watcher, attempt)
        stream = self._streams.get(attempt)
        if stream is None:  # perhaps connected to another exam server of the deployment
            stream = await self._feed_elsewhere(watcher.exam, attempt)
        if stream is not None and stream.state == "connected":
            await self._offer(link, stream)

    def live_elsewhere(self, exam: str, attempt: str) -> None:
        """The attempt went live through another server (the candidate reconnected there):
        its watchers here get its new feed, as they would a stream published here. (Their
        subscription to the old feed ended with it; without this they would keep a dead
        picture while the grid says live.)"""
        if self._closed or attempt in self._streams or not self._links.get(attempt):
            return
        self._spawn(self._follow(exam, attempt), f"janus-follow-{attempt}")

    async def _follow(self, exam: str, attempt: str) -> None:
        stream = await self._feed_elsewhere(exam, attempt)
        if stream is None or attempt in self._streams:  # gone again, or publishing here now
            return
        for link in list(self._links.get(attempt, {}).values()):
            await self._offer(link, stream)

    async def _offer_all(self, stream: _Publisher) -> None:
        for link in list(self._links.get(stream.key.attempt, {}).values()):
            await self._offer(link, stream)

    async def _offer(self, link: _Link, stream: _Publisher) -> None:
        await _close_link(link)
        client = self._client
        if client is None or client.closed or stream.ended:
            return
        try:
            handle = await client.attach(
                VIDEOROOM, lambda event: self._subscriber_event(link, event)
            )
            link.handle, link.answered = handle, False
            _, jsep = await handle.message(self._subscribe_body(stream))
        except JanusError as exc:
            log.info("attempt %s: no subscription: %s", stream.key.attempt, exc.reason)
            await _close_link(link)
            return
        if jsep is None or jsep.get("type") != "offer":
            await _close_link(link)
            return
        if not await link.watcher.send_offer(stream.key.attempt, str(jsep["sdp"])):
            await self.unwatch_all(link.watcher.id)

    def _subscriber_event(self, link: _Link, event: Json) -> None:
        if event.get("janus") in ("hangup", "detached") and link.handle is not None:
            if event.get("sender") in (None, link.handle.id):
                self._spawn(_close_link(link), "janus-unsubscribe")

    def _link(self, watcher_id: str, attempt: str) -> _Link:
        link = self._links.get(attempt, {}).get(watcher_id)
        if link is None or link.handle is None:
            raise MediaError(f"no live video offered for attempt {attempt}")
        return link

    async def watcher_answer(self, watcher_id: str, attempt: str, sdp: str) -> None:
        link = self._link(watcher_id, attempt)
        assert link.handle is not None
        if link.answered:
            raise MediaError("this offer was answered already")
        stream = self._streams.get(attempt)
        body: Json = {"request": "start"}
        if stream is not None:
            body["room"] = stream.room.id
        try:
            await link.handle.message(body, {"type": "answer", "sdp": sdp})
        except JanusError as exc:
            raise MediaError(f"the answer cannot be used: {exc.reason}") from None
        link.answered = True

    async def watcher_ice(
        self,
        watcher_id: str,
        attempt: str,
        candidate: str | None,
        sdp_mid: str | None,
        index: int | None,
    ) -> None:
        link = self._link(watcher_id, attempt)
        assert link.handle is not None
        try:
            await link.handle.trickle(candidate, sdp_mid, index)
        except JanusError as exc:
            raise MediaError(f"unusable ICE candidate: {exc.reason}") from None

    # ------------------------------------------------------------ figures and shutdown

    def stats(self, attempt: str) -> StreamStats | None:
        """The connection's state and the watchers; the frames and the size only for streams
        the server decodes itself (`probe_exams`), 0 for the others."""
        stream = self._streams.get(attempt)
        if stream is None:
            return None
        links = self._links.get(attempt, {}).values()
        counter = stream.counter
        return StreamStats(
            video_frames=counter.video_frames if counter else 0,
            audio_frames=counter.audio_frames if counter else 0,
            width=counter.width if counter else 0,
            height=counter.height if counter else 0,
            state=stream.state,
            watchers=sum(1 for link in links if link.handle is not None),
        )

    def room_of(self, exam: str) -> int | None:
        """The Janus room of an exam, once it has one (for operators and tests)."""
        room = self._rooms.get(exam)
        return room.id if room is not None else None

    @property
    def streams(self) -> int:
        return len(self._streams)

    async def close(self) -> None:
        """Watchers first, then publishers (their recordings close), then the rooms and the
        Janus session."""
        self._closed = True
        for links in list(self._links.values()):
            for link in list(links.values()):
                await _close_link(link)
        self._links.clear()
        for stream in list(self._streams.values()):
            await self._end_stream(stream, SHUTTING_DOWN)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        client = self._client
        shared = self.settings.admin_key is not None  # other exam servers may use the rooms
        if client is not None and not client.closed and self._rooms and not shared:
            with contextlib.suppress(JanusError):
                handle = await client.attach(VIDEOROOM, _ignore_event)
                for room in self._rooms.values():
                    with contextlib.suppress(JanusError):
                        await handle.message(
                            {"request": "destroy", "room": room.id, "secret": room.secret}
                        )
                await handle.detach()
        self._rooms.clear()
        if client is not None:
            await client.close()


ROOM_EXISTS = 427  # Janus's video room: "room already exists"


def shared_room(admin_key: str | None, exam: str) -> _Room | None:
    """With an admin key (every exam server of a deployment holds the same), an exam's room,
    secret and pin are derived from it, so that every server finds the same room: a proctor on
    one server watches a candidate publishing through another. Without one, None (each room
    is this server's own, with random secrets)."""
    if not admin_key:
        return None
    digest = hmac.new(admin_key.encode(), f"proctor-room:{exam}".encode(), hashlib.sha256).digest()
    room = int.from_bytes(digest[:6], "big") or 1  # under 2**53: exact in JSON
    secret = base64.urlsafe_b64encode(digest[6:24]).decode()
    pin = base64.urlsafe_b64encode(digest[24:32]).decode().rstrip("=")
    return _Room(room, secret, pin)


def _no_status(status: MediaStatus, reason: str | None) -> None:
    """A feed published through another server: that server reports its status."""


async def _close_link(link: _Link) -> None:
    handle, link.handle = link.handle, None
    link.answered = False
    if handle is not None:
        await handle.detach()


def _ignore_event(event: Json) -> None:
    return None


def janus_gateway(config: ServerConfig) -> JanusGateway:
    """The gateway `serve --media janus` uses. Janus records whenever the server keeps media
    evidence (clips, on by default, or --record-sessions): it cannot cut clips, so it keeps the
    whole streams, under <data dir>/janus/<exam>/."""
    record = config.record_sessions or config.clip_seconds > 0
    data = Path(config.data_dir) if config.data_dir else files_beside(config.db, "-files")
    return JanusGateway(
        JanusSettings(
            url=config.janus_url,
            admin_key=config.janus_admin_key,
            rec_dir=(data / "janus").resolve() if record else None,
            ice_servers=list(config.ice_servers),
            probe_exams=frozenset({PROBE_EXAM}),
        )
    )
