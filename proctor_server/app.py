"""The server process: one `websockets` server for /ws/candidate, /ws/proctor,
/ws/bandwidth and plain HTTP; the store; the live exams; analysis. Startup rebuilds every
live exam's timers from the store; shutdown runs in a fixed order."""

from __future__ import annotations

import functools
import importlib.util
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from proctor_server import http
from proctor_server.analysis import (
    ClientSignals,
    IdentityChecker,
    JpegSanityChecker,
    NoAnalysis,
    NoClientSignals,
    SnapshotAnalyzer,
)
from proctor_server.bandwidth import BandwidthTests
from proctor_server.bus import EventBus
from proctor_server.candidate import CandidateSession
from proctor_server.clock import SYSTEM_CLOCK, Clock
from proctor_server.cluster import signals as cs
from proctor_server.cluster.base import LOCAL, Cluster
from proctor_server.console.commands import Console
from proctor_server.console.first_screen import page_place, page_snapshot
from proctor_server.console.grid_cache import GridCache
from proctor_server.console.web import ConsoleWeb
from proctor_server.exams import ExamRegistry, ExamRuntime, RuntimeDeps
from proctor_server.heap import HeapKeeper
from proctor_server.media.gateway import MediaGateway, NoMedia
from proctor_server.media.probe import PROBE_EXAM, MediaProbes
from proctor_server.origin import origin_allowed
from proctor_server.proctor_feed import FeedDeps, grid_read, serve_proctor
from proctor_server.session.deps import SessionDeps
from proctor_server.store import Store, is_postgres, make_store
from proctor_server.store.sealing import sealer_from
from proctor_server.store.sql.database import MAX_GROUP, CommitPolicy
from proctor_server.tasks import TaskSet
from shared import proctor_protocol as pp
from shared import protocol as p

if TYPE_CHECKING:  # aiortc and PyAV load only with live media
    from proctor_server.media.clips import ClipRecorder
    from proctor_server.media.live_video import LiveVideo
    from proctor_server.media.remote_gateway import RemoteClips, RemoteGateway, RemoteLiveVideo

log = logging.getLogger(__name__)
_MEDIA_EVENT = '{"type":"media"'  # how a `media` event's frame starts (msgspec: the tag first)

# After an exam's start, its first minutes stay free of full garbage collections too.
QUIET_AFTER_START = timedelta(minutes=5)


# The server's commit window: 2 ms costs a lone write 2 ms and saves a fifth of the store's
# CPU per entry at the sitting's start, acks about as fast under load (docs/operations.md).
COMMIT_WINDOW_MS = 2.0


@dataclass(slots=True)
class ServerConfig:
    db: Path | str  # a SQLite file, or a postgresql:// URL
    data_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8765
    nonce_rotation_s: float = 60.0
    hello_timeout_s: float = 15.0
    ping_interval_s: float | None = 20.0
    analysis: str = "basic"  # basic: decodable-JPEG checks only; faces: the face stack
    # local: this server's own worker process; queue: analysis workers through PostgreSQL
    analysis_workers: str = "local"
    data_key_file: Path | None = None  # encrypts evidence at rest (else $PROCTOR_DATA_KEY_FILE)
    allowed_origins: tuple[str, ...] = ()  # browser pages of other sites that may connect
    media: bool = True  # live audio and video (aiortc, in this process)
    media_gateway: str = "aiortc"  # or "janus": candidates publish to a Janus video room
    janus_url: str = "ws://127.0.0.1:8188"  # Janus's WebSocket API (with media_gateway janus)
    janus_admin_key: str | None = None  # the video room plugin's admin_key, if it has one
    # aiortc and its hooks in `proctor-server media` (`serve`'s default; tests and embedders
    # keep them in this process unless they ask)
    media_process: bool = False
    speech: bool = True  # voice activity on the live audio -> `speaking` violations
    live_analysis_interval_s: float = 10.0  # a live video frame to analysis this often; 0: off
    clip_seconds: float = 10.0  # evidence clips: this long before and after a violation; 0: off
    record_sessions: bool = False  # also keep every live stream whole (docs/benchmarks.md: cost)
    media_cpus: tuple[int, ...] = ()  # the media process runs on these CPUs only (empty: any)
    media_priority: str = "nice"  # the media process: "nice" (+10) or "idle" (SCHED_IDLE)
    ice_servers: list[p.IceServer] = field(default_factory=list)  # STUN/TURN for the clients
    backlog: int = 4096  # the listen queue: connections the kernel holds until accepted
    # the store waits this long for more writes per transaction (docs/operations.md)
    commit_window_ms: float = COMMIT_WINDOW_MS
    commit_max: int = MAX_GROUP  # writes per transaction at most
    heap_reclaim_s: float = 600.0  # a full garbage collection at most this often (HeapKeeper)
    grid_reuse_s: float = 3.0  # one read of an exam's grid serves the proctors opening it this long
    grid_warm_s: float = 600.0  # an exam's grid is read ahead this long after its last proctor


class Server:
    """The composition root: builds the store, the clock, the bus, analysis and the exams,
    and hands each part only what it uses."""

    def __init__(self, config: ServerConfig, clock: Clock = SYSTEM_CLOCK):
        self.config = config
        self.clock = clock
        self._sealer = sealer_from(config.data_key_file)
        self.store: Store = make_store(
            config.db,
            config.data_dir,
            sealer=self._sealer,
            commits=CommitPolicy(config.commit_window_ms, config.commit_max),
        )
        self.heap = HeapKeeper(self._sitting_busy, reclaim_s=config.heap_reclaim_s)
        self._tasks = TaskSet("server")
        self._speed_tests = BandwidthTests(clock)
        self.cluster = _cluster(config)
        self.grids = GridCache(
            clock.now,
            grid_read(self.store),
            timedelta(seconds=config.grid_reuse_s),
            timedelta(seconds=config.grid_warm_s),
        )
        self.bus = EventBus(self.cluster, journal=self.grids)
        self.grids.followed = self.bus.followed
        self._ws: WsServer | None = None
        self._ready = False
        self._closed = False
        self.identity: IdentityChecker = JpegSanityChecker()
        self.analyzer: SnapshotAnalyzer = NoAnalysis()
        self.signals: ClientSignals = _device_signals()
        self.media: MediaGateway = _media_gateway(config)
        self.remote_media = self._remote_media()
        self._probes = MediaProbes(self.media)
        self.clips = self._record_clips()
        self._assemble()
        self._listen_for_speech()
        self.live_video = self._analyse_live_video()

    def _assemble(self) -> None:
        """Hand each part what it uses (again once face analysis is loaded at start)."""
        self.exams = ExamRegistry(self._runtime_deps())
        self._session_deps = self._build_session_deps()
        self._feed_deps = self._build_feed_deps()
        self._first_grid = functools.partial(page_snapshot, self._feed_deps)  # the page's rows
        self._start_grid = functools.partial(page_place, self._feed_deps)  # at its sign-in

    def _runtime_deps(self) -> RuntimeDeps:
        return RuntimeDeps(
            store=self.store,
            clock=self.clock,
            bus=self.bus,
            analyzer=self.analyzer,
            identity=self.identity,
            nonce_rotation_s=self.config.nonce_rotation_s,
            media=self.media,
            observers=(self.clips.on_event,) if self.clips is not None else (),
            cluster=self.cluster,
        )

    def _build_feed_deps(self) -> FeedDeps:
        return FeedDeps(
            store=self.store,
            bus=self.bus,
            clock=self.clock,
            exams=self.exams,
            hello_timeout_s=self.config.hello_timeout_s,
            console=Console(self.store, self.clock, self.exams),
            grids=self.grids,
            media=self.media,
        )

    def _build_session_deps(self) -> SessionDeps:
        return SessionDeps(
            store=self.store,
            clock=self.clock,
            exams=self.exams,
            signals=self.signals,
            hello_timeout_s=self.config.hello_timeout_s,
            media=self.media,
        )

    # ------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        assert self._ws is not None
        sock = next(iter(self._ws.sockets))
        return int(sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.config.host}:{self.port}"

    # ------------------------------------------------------------ lifecycle

    def _remote_media(self) -> RemoteGateway | None:
        """aiortc and the hooks below in a process of their own (remote_gateway.py)."""
        config = self.config
        if not (self.media.enabled and config.media_process and config.media_gateway == "aiortc"):
            return None  # Janus runs apart already
        from proctor_server.media.remote_gateway import RemoteGateway
        from proctor_server.media.remote_messages import Configure

        settings = Configure(
            ice_servers=[
                {"urls": list(s.urls), "username": s.username, "credential": s.credential}
                for s in config.ice_servers
            ],
            speech=config.speech,
            live_interval_s=config.live_analysis_interval_s,
            clip_before_s=config.clip_seconds,
            clip_after_s=config.clip_seconds,
            record_sessions=config.record_sessions,
            blobs_root=str(getattr(self.store.blobs, "root", ".")),
            skip_exams=[PROBE_EXAM],
            cpus=list(config.media_cpus),
            idle=config.media_priority == "idle",
        )
        remote = RemoteGateway(settings, self.store, self.clock, lambda: self.exams)
        self.media = remote
        return remote

    def _listen_for_speech(self) -> None:
        """Voice activity on every exam's live audio becomes `speaking` violations."""
        if self.remote_media is not None:
            return  # in the media process
        if not (self.media.enabled and self.config.speech):
            return
        if importlib.util.find_spec("proctor_server.vision") is None:
            return
        from proctor_server.media.speech import LiveSpeech

        speech = LiveSpeech(
            self.store, self.clock, lambda: self.exams, skip_exams=frozenset({PROBE_EXAM})
        )
        self.media.add_hook(speech)

    def _record_clips(self) -> ClipRecorder | RemoteClips | None:
        """The seconds of live media around each violation, kept as evidence."""
        config = self.config
        if self.remote_media is not None:
            on = config.clip_seconds > 0 or config.record_sessions
            return self.remote_media.clips if on else None
        if not (self.media.enabled and (config.clip_seconds > 0 or config.record_sessions)):
            return None
        from proctor_server.media.clips import ClipRecorder, ClipSettings

        settings = ClipSettings(
            before_s=config.clip_seconds,
            after_s=config.clip_seconds,
            record_sessions=config.record_sessions,
        )
        clips = ClipRecorder(self.store, self.clock, settings, skip_exams=frozenset({PROBE_EXAM}))
        self.media.add_hook(clips)
        return clips

    def _analyse_live_video(self) -> LiveVideo | RemoteLiveVideo | None:
        """Frames of every exam's live video go to its analysis queue, like snapshots."""
        if self.remote_media is not None:
            on = self.config.live_analysis_interval_s > 0
            return self.remote_media.live_video if on else None
        if not (self.media.enabled and self.config.live_analysis_interval_s > 0):
            return None
        from proctor_server.media.live_video import LiveVideo

        live = LiveVideo(
            self.clock,
            lambda: self.exams,
            interval_s=self.config.live_analysis_interval_s,
            skip_exams=frozenset({PROBE_EXAM}),
        )
        self.media.add_hook(live)
        return live

    async def start(self) -> None:
        await self.store.open()
        if self._sealer is None:
            log.warning("no data key: photos, snapshots and personal fields are stored unencrypted")
        if self.config.analysis == "faces":
            self._load_face_analysis()
            self._assemble()
        await self.cluster.start(self)
        if self.remote_media is not None:
            await self.remote_media.start()
        for exam in await self.store.list_live_exams(self.clock.now()):
            await self.exams.load(exam.id)
        self._ws = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._process_request,
            compression=None,  # no per-message deflate: memory per socket and bomb surface
            max_size=p.MAX_FRAME,
            ping_interval=self.config.ping_interval_s,
            ping_timeout=self.config.ping_interval_s,
            server_header="proctor",
            backlog=self.config.backlog,  # passed on to loop.create_server
        )
        self.heap.start()
        self._ready = True
        log.debug("listening on %s", self.url)

    def _load_face_analysis(self) -> None:
        if importlib.util.find_spec("proctor_server.vision") is None:
            log.warning("face analysis is not installed; using the basic identity check")
            return
        from proctor_server.vision import build_analysis

        pool = None
        if self.config.analysis_workers == "queue":  # analysis workers take the jobs
            from proctor_server.vision.queue_pool import QueuePool

            pool = QueuePool(str(self.config.db))
        self.identity, self.analyzer, self.signals = build_analysis(self.store, pool=pool)

    async def close(self) -> None:
        """Stop accepting, close sessions, close live media, stop timers and analysis, flush
        and close the store."""
        if self._closed:
            return
        self._closed = True
        self._ready = False
        if self._ws is not None:
            self._ws.close(close_connections=True)
            await self._ws.wait_closed()
        await self.media.close()
        if self.live_video is not None:
            await self.live_video.close()
        if self.clips is not None:
            await self.clips.close()  # the clips of the streams just ended are written
        await self.heap.close()
        await self.exams.close()
        await self.cluster.close()  # after the exams: their timers' leads are given up first
        await self._tasks.close()
        await self.analyzer.close()
        self.grids.close()
        self.bus.close()
        await self.store.close()

    # ------------------------------------------------------------ from the other processes

    def on_event(self, exam: str, frame: str) -> None:
        if frame.startswith(_MEDIA_EVENT):
            self._media_elsewhere(exam, frame)
        self.bus.deliver(exam, frame)

    def _media_elsewhere(self, exam: str, frame: str) -> None:
        """A candidate's live media through another process (a loaded exam's: nobody here
        follows the others): the grid's first view here shows it too, and a stream that went
        live there is offered to those watching it here, where the gateway reaches it
        (Janus)."""
        runtime = self.exams.loaded(exam)
        if runtime is None:
            return
        event = pp.decode_feed(frame)
        if not isinstance(event, pp.Media):
            return
        runtime.quality.observe(event)
        if event.status is pp.MediaStatus.LIVE:
            self.media.live_elsewhere(event.exam, event.attempt)

    async def on_signal(self, signal: cs.AttemptSignal) -> bool:
        runtime = self.exams.loaded(signal.exam)
        return runtime is not None and await runtime.signalled(signal)

    def present(self) -> list[str]:
        return [attempt for runtime in self.exams for attempt in runtime.sessions]

    async def runtime_for(self, exam_id: str) -> ExamRuntime | None:
        """The runtime of an exam, loading it on first use (None: no such exam)."""
        return await self.exams.load(exam_id)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run background work owned by the server (cancelled at shutdown)."""
        self._tasks.spawn(coro, name)

    def _sitting_busy(self) -> bool:
        """From an exam's entry opening to its first minutes: no full garbage collection."""
        now = self.clock.now()
        return any(
            rt.exam.window.entry_opens_at <= now <= rt.exam.starts_at + QUIET_AFTER_START
            for rt in self.exams
        )

    @property
    def runtimes(self) -> dict[str, ExamRuntime]:
        return {runtime.exam.id: runtime for runtime in self.exams}

    # ------------------------------------------------------------ connections

    def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Coroutine[Any, Any, Response | None] | Response | None:
        """The answer to a plain HTTP request, or None to go on with a socket's handshake. A
        socket's handshake (every candidate's entry) is let through here at once; the
        console's pages, which read the store, are answered by a coroutine."""
        path = request.path.split("?", 1)[0]
        if path.startswith("/ws/") or path == "/bandwidth":
            origin = request.headers.get("Origin")
            if not origin_allowed(origin, request.headers.get("Host"), self.config.allowed_origins):
                log.info("refused %s from a page of another site: %s", path, origin)
                return http.json_response(403, {"error": "this page may not open that socket"})
            if path in http.WS_PATHS:
                return None
        console = ConsoleWeb(self.store, self.clock, self._first_grid, self._start_grid)
        if console.handles(path):
            return self._console_page(console, request)
        return http.route(request, self._ready, self.clock.now())

    async def _console_page(self, console: ConsoleWeb, request: Request) -> Response | None:
        return await console.route(request) or http.route(request, self._ready, self.clock.now())

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        path = ws.request.path.split("?", 1)[0]
        if path == "/ws/candidate":
            await CandidateSession(self._session_deps, ws).run()
        elif path == "/ws/proctor":
            await serve_proctor(self._feed_deps, ws)
        elif path == "/ws/bandwidth":
            await self._bandwidth(ws)
        elif path == "/ws/media-probe":
            await self._probes.serve(ws)

    async def _bandwidth(self, ws: ServerConnection) -> None:
        await self._speed_tests.serve(ws)


def _cluster(config: ServerConfig) -> Cluster:
    """The other processes on the same database: PostgreSQL's; none with SQLite."""
    if not is_postgres(config.db):
        return LOCAL
    from proctor_server.cluster.postgres import PostgresCluster

    return PostgresCluster(str(config.db))


def _media_gateway(config: ServerConfig) -> MediaGateway:
    """aiortc in this process when live media is on and installed, or Janus when chosen;
    otherwise none."""
    if config.media and config.media_gateway == "janus":
        from proctor_server.media.janus_gateway import janus_gateway

        return janus_gateway(config)
    if not config.media or importlib.util.find_spec("aiortc") is None:
        return NoMedia()
    from proctor_server.media.aiortc_gateway import AiortcGateway

    return AiortcGateway(config.ice_servers)


def _device_signals() -> ClientSignals:
    """Judging reported device figures is cheap and needs no face models: always on when
    the detection package is installed."""
    if importlib.util.find_spec("proctor_server.vision") is None:
        return NoClientSignals()
    from proctor_server.vision.signals import DeviceSignals

    return DeviceSignals()


@asynccontextmanager
async def run_server(config: ServerConfig, clock: Clock = SYSTEM_CLOCK) -> AsyncIterator[Server]:
    server = Server(config, clock)
    try:
        await server.start()
        yield server
    finally:
        await server.close()
