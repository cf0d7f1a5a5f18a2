"""The real-photograph evaluation set (`bench/vision_real_set.toml`): loading and scoring.

Detection is scored by counts per image: a detector that reports n counted faces on an image
labelled with f faces (and o optional ones: profiles, a blurred crowd) has min(n, f) true
positives, max(0, f − n) misses and max(0, n − f − o) false detections. Identity is scored on
every pair of labelled images: same person (`person` equal) should match, different people not.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
LABELS = HERE / "vision_real_set.toml"
DATA = HERE / "data" / "vision"


@dataclass(frozen=True, slots=True)
class Labelled:
    name: str
    image: np.ndarray  # BGR
    faces: int
    optional: int
    width: float
    condition: str
    person: str


def _skimage(name: str) -> np.ndarray:
    import skimage.data

    raw = np.asarray(getattr(skimage.data, name)())
    if raw.dtype == bool:
        raw = np.where(raw, 255, 0).astype(np.uint8)
    if raw.ndim == 2:
        return cv2.cvtColor(raw, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(raw[:, :, :3], cv2.COLOR_RGB2BGR)


def load_set(path: Path = LABELS) -> list[Labelled]:
    """Every labelled image, decoded, cropped and dimmed as its label says."""
    spec: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    cache: dict[str, np.ndarray] = {}
    out: list[Labelled] = []
    for item in spec["image"]:
        key = item.get("file") or "skimage:" + item["skimage"]
        if key not in cache:
            if "file" in item:
                image = cv2.imread(str(DATA / item["file"]), cv2.IMREAD_COLOR)
                assert image is not None, item["file"]
                cache[key] = image
            else:
                cache[key] = _skimage(item["skimage"])
        image = cache[key]
        if "crop" in item:
            x, y, w, h = item["crop"]
            image = image[y : y + h, x : x + w]
        if "light" in item:
            image = np.clip(image.astype(np.float32) * float(item["light"]), 0, 255)
            image = image.astype(np.uint8)
        out.append(
            Labelled(
                name=item["name"],
                image=np.ascontiguousarray(image),
                faces=int(item["faces"]),
                optional=int(item.get("optional", 0)),
                width=float(item.get("width", 0.0)),
                condition=item["condition"],
                person=item.get("person", ""),
            )
        )
    return out


@dataclass(slots=True)
class Counts:
    images: int = 0
    tp: int = 0
    fn: int = 0
    fp: int = 0

    def add(self, found: int, labelled: Labelled) -> None:
        self.images += 1
        self.tp += min(found, labelled.faces)
        self.fn += max(0, labelled.faces - found)
        self.fp += max(0, found - labelled.faces - labelled.optional)

    def line(self, title: str) -> str:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        figures = f"precision {precision:5.3f}  recall {recall:5.3f}"
        if self.tp + self.fn == 0:
            figures = f"false faces {self.fp:3d}" + " " * 18
        return (
            f"  {title:<22} {self.images:3d} images  {figures}  "
            f"(faces {self.tp + self.fn}, found {self.tp}, missed {self.fn}, false {self.fp})"
        )


def score_detection(images: list[Labelled], count: Callable[[np.ndarray], int]) -> Iterator[str]:
    """Lines: per condition, then all, precision and recall of `count` (faces it counts)."""
    per: dict[str, Counts] = defaultdict(Counts)
    total = Counts()
    misses: list[str] = []
    for item in images:
        found = count(item.image)
        per[item.condition].add(found, item)
        total.add(found, item)
        if found < item.faces or found > item.faces + item.optional:
            misses.append(f"{item.name}: {found}/{item.faces}")
    for condition in sorted(per):
        yield per[condition].line(condition)
    yield total.line("all")
    yield "  wrong counts: " + ("; ".join(misses) or "none")


def score_identity(
    images: list[Labelled],
    describe: Callable[[np.ndarray], np.ndarray | None],
    threshold: float,
) -> Iterator[str]:
    """False accept and false reject rates of `describe` + distance < threshold."""
    vectors: list[tuple[str, str, np.ndarray]] = []
    unusable: list[str] = []
    for item in images:
        if not item.person:
            continue
        vector = describe(item.image)
        if vector is None:
            unusable.append(item.name)
        else:
            vectors.append((item.person, item.name, vector))
    same: list[float] = []
    other: list[float] = []
    for (pa, _, va), (pb, _, vb) in combinations(vectors, 2):
        distance = float(np.linalg.norm(va - vb))
        (same if pa == pb else other).append(distance)
    false_reject = sum(d >= threshold for d in same)
    false_accept = sum(d < threshold for d in other)
    yield (
        f"  {len(vectors)} faces described ({len(unusable)} not usable: "
        f"{', '.join(unusable) or 'none'})"
    )
    if same:
        yield (
            f"  same person: {len(same)} pairs, distance {min(same):.3f}–{max(same):.3f}, "
            f"false reject {false_reject}/{len(same)} = {false_reject / len(same):.1%}"
        )
    if other:
        yield (
            f"  different people: {len(other)} pairs, distance {min(other):.3f}–{max(other):.3f}, "
            f"false accept {false_accept}/{len(other)} = {false_accept / len(other):.1%}"
        )
