from __future__ import annotations

import pytest

from shared.vision.models import FaceModels, load_models


@pytest.fixture(scope="session")
def models() -> FaceModels:
    return load_models()
