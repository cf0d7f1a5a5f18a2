"""What holds the media process's memory: a diagnostic, off unless `PROCTOR_MEDIA_HEAP` names
a file (`bench/media.py --heap FILE` sets it for the media process it starts).

Every `PROCTOR_MEDIA_HEAP_EVERY` seconds (60 by default) it appends to that file one report:
the process's RSS; what the Python allocators hold (tracemalloc's traced total); glibc's view of
the C heap (`mallinfo2`, all arenas: bytes in use and bytes free but kept in the arenas — fragmentation);
the object counts by type that grew since the first report; and the allocation sites (file:line,
tracemalloc) that grew most since the first report. RSS growing with the traced total flat
points to native memory (codecs, the allocator); a site that keeps growing points to Python.

`malloc_trim` after each report when `PROCTOR_MEDIA_HEAP_TRIM=1` (an experiment: how much of
the growth is memory glibc keeps but does not use).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import os
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

TOP_SITES = 25
TOP_TYPES = 20


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        return libc
    except (OSError, AttributeError):
        return None


def rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _types() -> Counter[str]:
    return Counter(type(o).__name__ for o in gc.get_objects())


class HeapWatch:
    def __init__(self, path: Path, every_s: float, trim: bool) -> None:
        self.path = path
        self.every_s = every_s
        self.trim = trim
        self.libc = _libc()
        self.first: tracemalloc.Snapshot | None = None
        self.first_types: Counter[str] = Counter()
        self.started = time.monotonic()

    def report(self) -> None:
        gc.collect()
        tracing = tracemalloc.is_tracing()
        snapshot = (
            tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            if tracing
            else None
        )
        types = _types()
        traced, peak = tracemalloc.get_traced_memory()
        lines = [
            f"=== t={time.monotonic() - self.started:.0f} s rss={rss_mib():.1f} MiB "
            + (f"traced={traced / 2**20:.1f} MiB (peak {peak / 2**20:.1f})" if tracing else "")
            + f" threads={threading.active_count()}"
        ]
        if self.libc is not None:
            info = self.libc.mallinfo2()
            lines.append(
                f"malloc: arena {info.arena / 2**20:.1f} MiB, in use {info.uordblks / 2**20:.1f}"
                f", free in arenas {info.fordblks / 2**20:.1f}, mmapped {info.hblkhd / 2**20:.1f}"
            )
        if not self.first_types:
            self.first, self.first_types = snapshot, types
            lines.append("(first report: the baseline)")
        else:
            grown = sorted(
                ((n - self.first_types.get(t, 0), t, n) for t, n in types.items()), reverse=True
            )
            lines.append("objects grown since the first report:")
            lines += [f"  {d:+8d} {t} ({n})" for d, t, n in grown[:TOP_TYPES] if d > 0]
            lines.append("allocation sites grown since the first report:")
            grown_sites = (
                snapshot.compare_to(self.first, "lineno")
                if snapshot is not None and self.first is not None
                else []
            )
            for stat in grown_sites[:TOP_SITES]:
                lines.append(f"  {stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+7d} {stat}")
        with self.path.open("a") as out:
            out.write("\n".join(lines) + "\n")
        if self.trim and self.libc is not None:
            self.libc.malloc_trim(0)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.report)


def start_from_environment() -> asyncio.Task[None] | None:
    """The watch, when `PROCTOR_MEDIA_HEAP` asks for it; else nothing."""
    target = os.environ.get("PROCTOR_MEDIA_HEAP")
    if not target:
        return None
    frames = int(os.environ.get("PROCTOR_MEDIA_HEAP_FRAMES", "1"))
    if frames > 0:  # 0: RSS, the C heap and object counts only (tracemalloc costs CPU)
        tracemalloc.start(frames)
    watch = HeapWatch(
        Path(target),
        float(os.environ.get("PROCTOR_MEDIA_HEAP_EVERY", "60")),
        os.environ.get("PROCTOR_MEDIA_HEAP_TRIM") == "1",
    )
    return asyncio.create_task(watch.run(), name="heap-watch")
