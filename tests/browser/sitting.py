"""A sitting for the console's browser tests, screenshots and benchmarks: an exam on a real
server, tickets, scripted candidates in the states a proctor meets, and a proctor's token."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import cv2
import numpy as np

from proctor_server import admin
from proctor_server.app import Server
from proctor_server.console import staff
from proctor_server.store import ExamRecord
from shared import protocol as p
from shared.questions import Question
from shared.vocabulary import EventKind
from tests.server.scripted import Candidate, new_id

QUESTIONS = [
    Question(id=f"q{n}", text=f"Question {n}", options=["a", "b", "c"], answer=[n % 3], points=5)
    for n in range(1, 11)
]

SKIN = [(140, 170, 220), (110, 150, 200), (90, 120, 170), (150, 185, 230), (70, 100, 140)]
HAIR = [(30, 30, 30), (40, 60, 90), (20, 20, 60), (80, 80, 80), (10, 30, 60)]
WALL = [(200, 210, 220), (180, 200, 190), (210, 200, 180), (170, 180, 200), (220, 220, 210)]


def portrait(seed: int, width: int = 320, height: int = 240, people: int = 1) -> bytes:
    """A synthetic webcam picture: a wall, and a head and shoulders per person."""
    wall = np.full((height, width, 3), WALL[seed % len(WALL)], dtype=np.uint8)
    rng = np.random.default_rng(seed)
    image = cv2.add(wall, rng.integers(0, 12, wall.shape, dtype=np.uint8))
    for k in range(people):
        cx = width // 2 + (k - (people - 1) / 2) * width // 3 + int(rng.integers(-15, 15))
        cx = int(cx)
        cy = height // 2 - 10
        skin = SKIN[(seed + k) % len(SKIN)]
        cv2.ellipse(image, (cx, height + 20), (85, 70), 0, 180, 360, (90, 60, 40), -1)
        cv2.ellipse(image, (cx, cy), (42, 54), 0, 0, 360, skin, -1)
        cv2.ellipse(image, (cx, cy - 30), (46, 30), 0, 180, 360, HAIR[(seed + k) % len(HAIR)], -1)
        for dx in (-16, 16):
            cv2.circle(image, (cx + dx, cy - 6), 5, (40, 40, 40), -1)
        cv2.ellipse(image, (cx, cy + 22), (14, 6), 0, 0, 180, (60, 60, 150), 2)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return bytes(data)


NAMES = [
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "杨磊",
    "赵敏",
    "黄强",
    "周婷",
    "吴昊",
    "Ada Lovelace",
    "Alan Turing",
    "Grace Hopper",
    "Linus Pauling",
    "Marie Curie",
    "徐明",
    "孙丽",
    "马超",
    "朱琳",
    "胡斌",
    "郭涛",
    "何雪",
    "高峰",
    "林晓",
    "罗军",
    "Emmy Noether",
    "Niels Bohr",
    "Rosalind Franklin",
    "Claude Shannon",
    "Edsger Dijkstra",
]


@dataclass
class Sitting:
    server: Server
    exam: ExamRecord
    token: str  # the proctor's sign-in token
    tickets: dict[str, str] = field(default_factory=dict)  # candidate code -> ticket token
    seated: dict[str, tuple[Candidate, p.Welcome]] = field(default_factory=dict)  # by code

    async def ticket(self, name: str, photo: bytes | None = None) -> str:
        """A new ticket; returns its candidate code."""
        t = await admin.issue_ticket(self.server.store, self.exam.id, name=name, photo=photo)
        self.tickets[t.candidate_code] = t.token
        return t.candidate_code

    async def seat(self, code: str, seed: int = 0) -> tuple[Candidate, p.Welcome]:
        """The candidate of `code` in the exam, paper open, a first snapshot sent."""
        candidate = await Candidate.connect(self.server.ws_url)
        welcome = await candidate.hello(self.tickets[code])
        assert isinstance(welcome, p.Welcome), welcome
        result = await candidate.identity(portrait(seed))
        assert result.accepted, result.reasons
        await candidate.expect(p.Paper)
        snap = await candidate.snapshot(photo=portrait(seed + 100))
        await candidate.expect_ack(snap)
        self.seated[code] = (candidate, welcome)
        return candidate, welcome

    async def close(self) -> None:
        for candidate, _ in self.seated.values():
            await candidate.close()


async def open_sitting(
    server: Server, starts_in: timedelta = timedelta(minutes=-5), **exam: object
) -> Sitting:
    record = await admin.create_exam(
        server.store,
        title="云计算从业者认证 · Cloud Practitioner",
        starts_at=server.clock.now() + starts_in,
        duration=timedelta(minutes=90),
        questions=QUESTIONS,
        **exam,  # type: ignore[arg-type]
    )
    await server.runtime_for(record.id)
    _, token = await staff.add_proctor(server.store, name="Wang Li", exam_id=record.id)
    return Sitting(server, record, token)


async def mixed(sitting: Sitting, size: int = 30) -> None:
    """A sitting of `size` tickets in the states of a real one: most in the exam (some with
    violations, warnings, answers and an address), some offline, one identity refused, one
    submitted, one terminated, a few not entered."""
    for n in range(size):
        await sitting.ticket(NAMES[n % len(NAMES)], photo=portrait(n) if n % 3 == 0 else None)
    codes = list(sitting.tickets)
    absent = set(codes[-3:])
    for n, code in enumerate(codes):
        if code in absent:
            continue
        if n == 5:  # identity refused: a picture too small
            candidate = await Candidate.connect(sitting.server.ws_url)
            welcome = await candidate.hello(sitting.tickets[code])
            assert isinstance(welcome, p.Welcome)
            await candidate.identity(portrait(n, 100, 80))
            sitting.seated[code] = (candidate, welcome)
            continue
        candidate, welcome = await sitting.seat(code, seed=n)
        if n % 2 == 0:
            ident = new_id()
            await candidate.send(
                p.Profile(
                    id=ident,
                    mail_to=p.MailTo(
                        name=NAMES[n % len(NAMES)],
                        phone="13800138000",
                        address=f"北京市海淀区中关村大街 {n + 1} 号",
                        postcode="100080",
                    ),
                )
            )
            await candidate.expect_ack(ident)
        if n % 4 == 1:
            for kind in (EventKind.FOCUS_LOST, EventKind.FOCUS_BACK) * (1 + n % 3):
                ident = new_id()
                await candidate.send(p.Event(id=ident, kind=kind))
                await candidate.expect_ack(ident)
        if n == 7:
            ident = new_id()
            await candidate.send(p.Submit(id=ident))
            await candidate.expect(p.Result)
        if n in (3, 11):  # offline: the network went away
            candidate.vanish()
    await asyncio.sleep(0)
