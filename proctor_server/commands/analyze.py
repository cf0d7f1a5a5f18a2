"""`proctor-server analyze IMAGE [--reference IMAGE] [--json]`: what the analysis sees in one
photo (faces, identity against a reference, head pose, gaze, quality)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from shared.errors import ConfigError


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "analyze",
        help="show what the face analysis sees in one photo",
        description="Analyse one photo: faces, head pose, gaze, image quality, and (with "
        "--reference) whether it shows the same person.",
    )
    parser.add_argument("image", help="a JPEG or PNG file")
    parser.add_argument("--reference", help="a photo of the registered person to compare with")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def _read(path_text: str, what: str) -> Any:
    from shared.vision.frame import decode_image

    path = Path(path_text)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} is a directory: {path}") from None
    except OSError as exc:
        raise ConfigError(f"{what} cannot be read: {path}: {exc.strerror or exc}") from None
    image = decode_image(data)
    if image is None:
        raise ConfigError(f"{what} is not a readable image: {path}")
    return image


def report(image: Any, reference: Any | None) -> dict[str, Any]:
    """The JSON report for one image (and a reference image)."""
    from shared.vision.faces import MATCH_DISTANCE, face_distance
    from shared.vision.frame import analyze_image

    frame = analyze_image(image)
    out = frame.as_dict()
    out["timings_ms"] = {k: round(v, 1) for k, v in frame.timings.items()}
    if reference is not None:
        ref = analyze_image(reference)
        identity: dict[str, Any] = {"distance": None, "match": False}
        if frame.embedding is None:
            identity["note"] = "no usable face in the image"
        elif ref.embedding is None:
            identity["note"] = "no usable face in the reference"
        else:
            distance = face_distance(frame.embedding, ref.embedding)
            identity = {"distance": round(distance, 4), "match": distance <= MATCH_DISTANCE}
        out["identity"] = identity
    return out


def _text(data: dict[str, Any]) -> str:
    lines = [f"size: {data['width']}×{data['height']}", f"faces: {data['faces']}"]
    for face in data["face_boxes"]:
        state = "counted" if face["counted"] else f"ignored ({face.get('note', '')})"
        lines.append(
            f"  box {face['box']} score {face['score']} width {face['fraction']:.0%} {state}"
        )
    pose = data["pose"]
    lines.append(
        "pose: none" if pose is None else f"pose: yaw {pose['yaw']}°, pitch {pose['pitch']}°"
    )
    seen = data["gaze"]
    if seen is None:
        lines.append("gaze: none")
    elif seen["eyes"] == 0:
        lines.append(
            f"gaze: yaw {seen['yaw']}°, pitch {seen['pitch']}° (head only: eyes not measured)"
        )
    else:
        lines.append(
            f"gaze: yaw {seen['yaw']}°, pitch {seen['pitch']}° (eyes {seen['eye_yaw']}°, "
            f"{seen['eye_pitch']}° in the head; {seen['eyes']} eye(s) measured)"
        )
    q = data["quality"]
    verdict = "ok" if q["ok"] else "poor (" + ", ".join(q["reasons"]) + ")"
    lines.append(
        f"quality: {verdict}; brightness {q['brightness']}, contrast {q['contrast']}, "
        f"sharpness {q['sharpness']}"
    )
    if "identity" in data:
        ident = data["identity"]
        if ident["distance"] is None:
            lines.append(f"identity: unknown ({ident.get('note', '')})")
        else:
            same = "same person" if ident["match"] else "different person"
            lines.append(f"identity: distance {ident['distance']} → {same}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    image = _read(args.image, "image")
    reference = _read(args.reference, "reference image") if args.reference else None
    data = report(image, reference)
    print(json.dumps(data, ensure_ascii=False, indent=2) if args.json else _text(data))
    return 0
