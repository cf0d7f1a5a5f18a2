"""The face stack inside a running server, over a real socket: device signals at join, the
identity photo's verdict, and a flag raised from snapshots."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from proctor_server import admin
from proctor_server.app import ServerConfig, run_server
from proctor_server.vision import FaceIdentityChecker, VisionAnalyzer
from proctor_server.vision.identity import TEXTS
from shared import proctor_protocol as pp
from shared import protocol as p
from tests.server.conftest import QUESTIONS
from tests.server.scripted import Candidate
from tests.shared.vision import frames as F


async def test_faces_in_a_running_server(tmp_path: Path) -> None:
    config = ServerConfig(db=tmp_path / "exam.db", port=0, nonce_rotation_s=3600, analysis="faces")
    async with run_server(config) as server:
        assert isinstance(server.identity, FaceIdentityChecker)
        assert isinstance(server.analyzer, VisionAnalyzer)
        exam = await admin.create_exam(
            server.store,
            title="Cloud",
            starts_at=datetime.now(UTC),
            duration=timedelta(minutes=60),
            questions=QUESTIONS,
        )
        await server.runtime_for(exam.id)
        ticket = await admin.issue_ticket(
            server.store, exam.id, name="Eileen", photo=F.jpeg(F.astronaut())
        )
        flags = server.bus.subscribe(exam.id)
        candidate = await Candidate.connect(server.ws_url)
        try:
            welcome = await candidate.hello(
                ticket.token,
                cameras=["Integrated Camera", "OBS Virtual Camera"],
                camera_in_use="OBS Virtual Camera",
                vm_signals=[{"signal": "cpu.hypervisor_flag", "value": "1"}],
            )
            assert isinstance(welcome, p.Welcome)
            refused = await candidate.identity(F.jpeg(F.other_person(3, 300)))
            assert not refused.accepted and refused.reasons == [TEXTS["mismatch"]]
            accepted = await candidate.identity(F.jpeg(F.candidate(360, (320, 260))))
            assert accepted.accepted, accepted.reasons
            for i in range(2):
                ident = await candidate.snapshot(photo=F.camera_jpeg(F.two_people(shift=5 * i), i))
                await candidate.expect_ack(ident)

            seen: list[object] = []

            async def flag(kind: str) -> None:
                while kind not in seen:
                    published = await flags.get()
                    assert published is not None
                    if isinstance(published.event, pp.Flag):
                        assert published.event.candidate == ticket.candidate_code
                        seen.append(published.event.kind)

            await asyncio.wait_for(flag("multiple_faces"), 30)
        finally:
            await candidate.close()
        attempt = await server.store.find_attempt(ticket.key, "exam")
        assert attempt is not None
        kinds = {(v.kind, v.source) for v in await server.store.violations(attempt.id)}
        assert ("virtual_camera", "server") in kinds
        assert ("multiple_faces", "server") in kinds
        assert not any(k == "virtual_machine" for k, _ in kinds)  # a weak signal alone
