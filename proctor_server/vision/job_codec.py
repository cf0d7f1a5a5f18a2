"""How analysis jobs and their results travel through the database to the analysis workers:
pickled, and unpickled only into the classes analysis uses (the vision data types, numpy arrays,
plain containers). A row that names any other class is refused, so write access to the queue
table does not become running code in a worker or a server."""

from __future__ import annotations

import io
import pickle
from typing import Any

_ALLOWED_MODULES = ("shared.vision.", "proctor_server.vision.worker")
_ALLOWED_NAMES = {
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "complex"),
    ("builtins", "slice"),
    ("copyreg", "_reconstructor"),
    ("copyreg", "__newobj__"),
    ("builtins", "object"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy._core.multiarray", "scalar"),
}


class RefusedClass(pickle.UnpicklingError):
    """A job or result named a class analysis does not use."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        allowed = (module, name) in _ALLOWED_NAMES or module.startswith(_ALLOWED_MODULES)
        if not allowed and module.startswith("numpy.dtypes"):
            allowed = name.endswith("DType")
        if not allowed:
            raise RefusedClass(f"{module}.{name} is not an analysis type")
        return super().find_class(module, name)


def dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    return _Unpickler(io.BytesIO(data)).load()
