"""/ws/proctor: a proctor's live feed of one exam. The proctor signs in with the token from
`proctor-server proctor-token` (query `?token=` or a first message `{"type":"hello","token":...}`),
gets the exam's attempts as they stand, then every event as it happens."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from proctor_server.vision.risk import risk_score
from shared.timeutil import to_wire
from shared.watermark import mask_name

if TYPE_CHECKING:
    from proctor_server.app import Server

log = logging.getLogger(__name__)
CLOSE_BAD_TOKEN = 4401


async def serve_proctor(server: Server, ws: ServerConnection) -> None:
    assert ws.request is not None
    token = parse_qs(urlsplit(ws.request.path).query).get("token", [""])[0]
    if not token:
        try:
            first = json.loads(await asyncio.wait_for(ws.recv(), server.config.hello_timeout_s))
            token = str(first.get("token", "")) if isinstance(first, dict) else ""
        except (TimeoutError, ValueError, TypeError):
            token = ""
    exam_id = await server.store.proctor_exam(token) if token else None
    if exam_id is None:
        await ws.send(
            json.dumps({"type": "error", "code": "bad_token", "message": "unknown proctor token"})
        )
        await ws.close(CLOSE_BAD_TOKEN, "bad token")
        return
    sub = server.bus.subscribe(exam_id)
    try:
        await ws.send(json.dumps(await exam_snapshot(server, exam_id)))
        while True:
            event = await sub.get()
            if event is None:
                await ws.close(1001, "feed closed")
                return
            await ws.send(json.dumps(event, ensure_ascii=False))
    except ConnectionClosed:
        pass
    finally:
        sub.close()


async def exam_snapshot(server: Server, exam_id: str) -> dict[str, Any]:
    runtime = await server.runtime_for(exam_id)
    assert runtime is not None
    exam = runtime.exam
    now = server.clock.now()
    ranked: list[tuple[float, dict[str, Any]]] = []
    for a, ticket, violations in await server.store.exam_overview(exam_id):
        risk = risk_score(violations, now)
        ranked.append(
            (
                risk.score,
                {
                    "attempt": a.id,
                    "candidate": ticket.candidate_code,
                    "name": mask_name(ticket.name),
                    "mode": a.mode,
                    "state": a.state.value,
                    "connected": a.id in runtime.sessions,
                    "score": a.score,
                    "max_score": a.max_score,
                    "passed": a.passed,
                    "warnings": a.warnings_used,
                    "violations": len(violations),
                    "risk": risk.score,
                    "risk_reasons": risk.reasons,
                },
            )
        )
    ranked.sort(key=lambda pair: -pair[0])  # the most suspicious first
    attempts = [entry for _, entry in ranked]
    return {
        "type": "snapshot",
        "server_time": to_wire(server.clock.now()),
        "exam": {
            "id": exam.id,
            "title": exam.title,
            "starts_at": to_wire(exam.starts_at),
            "ends_at": to_wire(exam.window.ends_at),
        },
        "attempts": attempts,
    }
