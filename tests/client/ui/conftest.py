"""Qt widgets run offscreen here: the platform is chosen before Qt is imported."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from proctor_client.ui.i18n import LanguageManager


@pytest.fixture
def languages(qapp: QApplication) -> Iterator[LanguageManager]:
    """A language manager that leaves the app in English afterwards."""
    manager = LanguageManager()
    manager.set_language("en")
    yield manager
    manager.set_language("en")
