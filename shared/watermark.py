"""The screen watermark's text (R16): who, which exam; the nonce dates it."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """Keep the first and last character: 张三丰 -> 张*丰, Alice -> A***e, 李四 -> 李*."""
    name = name.strip()
    if len(name) <= 1:
        return name or "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def watermark_text(candidate_code: str, name: str, exam_title: str) -> str:
    return f"{candidate_code} · {mask_name(name)} · {exam_title}"
