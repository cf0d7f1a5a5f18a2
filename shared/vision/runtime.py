"""The runtime for the vendored TFLite models (BlazeFace, face mesh, iris), chosen here alone.

LiteRT (`ai-edge-litert`, Google's own small TFLite runtime) with its XNNPACK delegate and one
thread runs these model files 1.3–1.5× faster than OpenCV's DNN module on the same machine, with
the same outputs (within 3e-4, `bench/vision_speed.py`); it is used when installed (the
`server` extra installs it). Without it, OpenCV's DNN module runs them (its classic engine: the
new engine of OpenCV 5 returns only the first output), so a client or a plain OpenCV install
still analyses.

Either way, a model takes one NHWC float32 batch and returns its named outputs in the order
asked. One thread: the pool gives a worker process one core, and more threads only help a
quiet machine. An interpreter (or a net) is not safe to share between threads, hence the lock.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

Runtime = Literal["litert", "opencv"]
DATA = Path(__file__).resolve().parent / "data"  # the model files (read-only package data)

try:
    from ai_edge_litert.interpreter import Interpreter as _Interpreter
except ImportError:  # pragma: no cover - depends on the installation
    _Interpreter = None


def model_path(name: str) -> str:
    """The path of a model file shipped in `shared/vision/data/`."""
    return str(DATA / name)


def model_bytes(name: str) -> bytes:
    """The bytes of a model file shipped in `shared/vision/data/`."""
    return (DATA / name).read_bytes()


def default_runtime() -> Runtime:
    """LiteRT when `ai-edge-litert` is installed, else OpenCV."""
    return "litert" if _Interpreter is not None else "opencv"


def available_runtimes() -> list[Runtime]:
    """Every runtime this installation can use (the default first)."""
    return ["litert", "opencv"] if _Interpreter is not None else ["opencv"]


class TFLiteModel:
    """One model file, run by `runtime` (the default: `default_runtime()`). With LiteRT only:
    `content`, the model's bytes when they differ from the file's (`blazeface.full_range_rows`),
    and `shape`, the input's shape (1, height, width, 3) when it is not the file's."""

    def __init__(
        self,
        path: str,
        outputs: tuple[str, ...],
        runtime: Runtime | None = None,
        *,
        content: bytes | None = None,
        shape: tuple[int, int, int, int] | None = None,
    ):
        self.runtime: Runtime = runtime or default_runtime()
        self.outputs = outputs
        self._lock = threading.Lock()
        if self.runtime == "litert":
            if _Interpreter is None:
                raise ImportError("the LiteRT runtime needs the ai-edge-litert package")
            source: dict[str, Any] = {"model_content": content} if content else {"model_path": path}
            self._interpreter: Any = _Interpreter(**source, num_threads=1)
            self._input = self._interpreter.get_input_details()[0]["index"]
            if shape is not None:
                self._interpreter.resize_tensor_input(self._input, list(shape))
            self._interpreter.allocate_tensors()
            by_name = {d["name"]: d["index"] for d in self._interpreter.get_output_details()}
            self._indexes = [by_name[name] for name in outputs]
            self._batch = 1
        elif content:
            # OpenCV reads a model from memory only with its new engine, which returns the
            # first output alone: the changed bytes are for LiteRT only
            raise ValueError("OpenCV's DNN module runs model files as shipped")
        else:
            self._net = cv2.dnn.readNetFromTFLite(path, engine=cv2.dnn.ENGINE_CLASSIC)

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        """The outputs (in the order of `outputs`) for `batch` (n × height × width × 3, float32),
        each with the batch as its first axis."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        with self._lock:
            if self.runtime == "opencv":
                self._net.setInput(np.ascontiguousarray(batch.transpose(0, 3, 1, 2)))
                found = self._net.forward(list(self.outputs))
                return [np.asarray(out).reshape(len(batch), -1) for out in found]
            interpreter = self._interpreter
            if len(batch) != self._batch:
                interpreter.resize_tensor_input(self._input, list(batch.shape))
                interpreter.allocate_tensors()
                self._batch = len(batch)
            interpreter.set_tensor(self._input, batch)
            interpreter.invoke()
            return [interpreter.get_tensor(i).reshape(len(batch), -1) for i in self._indexes]
