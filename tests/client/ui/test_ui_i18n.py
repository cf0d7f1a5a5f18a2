"""Languages: the system locale picks one, the menu switches live, and the shipped translation
is complete and compiled."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import QLocale
from PySide6.QtGui import QAction
from pytestqt.qtbot import QtBot

from proctor_client.ui.i18n import I18N_DIR, LanguageManager, normalise, system_language
from proctor_client.ui.main_window import MainWindow


@pytest.mark.parametrize(
    ("locale", "language"),
    [("zh_CN", "zh"), ("zh_TW", "zh"), ("en_US", "en"), ("de_DE", "en"), ("C", "en")],
)
def test_system_language(qapp: object, locale: str, language: str) -> None:
    assert system_language(QLocale(locale)) == language


@pytest.mark.parametrize(
    ("code", "short"), [("zh", "zh"), ("zh_CN", "zh"), ("zh-CN", "zh"), ("EN", "en")]
)
def test_normalise(code: str, short: str) -> None:
    assert normalise(code) == short


def test_an_unknown_language_is_refused(languages: LanguageManager) -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        languages.set_language("fr")
    assert languages.language == "en"


def test_the_translation_is_complete_and_compiled() -> None:
    source = I18N_DIR / "proctor_zh_CN.ts"
    compiled = I18N_DIR / "proctor_zh_CN.qm"
    messages = ET.parse(source).getroot().findall("context/message")
    assert len(messages) > 150
    unfinished = [
        m.findtext("source")
        for m in messages
        if (translation := m.find("translation")) is None or translation.get("type") == "unfinished"
    ]
    assert unfinished == []
    assert compiled.stat().st_size > 5000
    assert compiled.stat().st_mtime >= source.stat().st_mtime - 1  # compiled after the last edit


def test_the_menu_switches_every_visible_text(qtbot: QtBot, languages: LanguageManager) -> None:
    window = MainWindow(languages=languages)
    qtbot.addWidget(window)
    assert window.windowTitle() == "Online exam"
    assert window.entry.enter_button.text() == "Enter the exam"
    actions = {a.text(): a for a in window.findChildren(QAction) if a.isCheckable()}
    with qtbot.waitSignal(languages.language_changed):
        actions["中文"].trigger()
    assert window.windowTitle() == "在线考试"
    assert window.entry.enter_button.text() == "进入考试"
    assert window.exam.submit_button.text() == "交卷"
    assert window.banners.offline.label.text().startswith("网络连接已断开")
    assert actions["中文"].isChecked() and not actions["English"].isChecked()
    with qtbot.waitSignal(languages.language_changed):
        actions["English"].trigger()
    assert window.entry.enter_button.text() == "Enter the exam"
    assert window.banners.offline.label.text().startswith("Connection lost")
