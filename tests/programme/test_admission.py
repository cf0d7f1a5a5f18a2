"""The exam server admits exactly the candidates whose tickets this flow issued (R8), and no
longer admits one whose registration was refunded (R5).

The server owns its clock (it cannot be pinned), so the sitting is placed in 2099 and the
candidate enters the trial exam (R12), which is open at any time before the exam starts.
"""

from __future__ import annotations

from pathlib import Path

from proctor_server.app import ServerConfig, run_server
from proctor_server.programme.service import Programme
from shared import protocol as p
from shared.calendar import sitting_date
from shared.vocabulary import Mode
from tests.programme.conftest import at, enrol, make_exam
from tests.programme.test_exams import tickets
from tests.server.scripted import Candidate


async def test_the_server_admits_issued_tickets_only(prog: Programme, db_path: Path) -> None:
    day = sitting_date(2099, 7)
    kept = await enrol(prog, 0, sitting="2099-07", now="2099-07-14T12:00:00+08:00")
    refunded = await enrol(prog, 1, sitting="2099-07", now="2099-07-14T12:00:00+08:00")
    exam_id = await make_exam(db_path, f"{day.isoformat()}T14:00:00+08:00")
    report = await tickets(prog, db_path, exam_id, "2099-07-15T08:00:00+08:00", month="2099-07")
    issued = dict(report.issued)
    await prog.refund(refunded, at("2099-07-16T00:00:00+08:00"))

    async with run_server(ServerConfig(db=db_path, port=0, nonce_rotation_s=3600)) as server:
        for token, admitted in (
            (issued[kept], True),
            (issued[refunded], False),
            ("made-up", False),
        ):
            c = await Candidate.connect(server.ws_url)
            try:
                reply = await c.hello(token, mode=Mode.TRIAL)
            finally:
                await c.close()
            if admitted:
                assert isinstance(reply, p.Welcome), reply
                assert reply.exam.id == exam_id
            else:
                assert isinstance(reply, p.Error) and reply.code == "bad_ticket", reply
