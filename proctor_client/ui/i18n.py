"""Languages: Simplified Chinese and English through Qt's translation system.

The source strings are English; `i18n/proctor_zh_CN.qm` (compiled from the `.ts` beside it
with `pyside6-lrelease`) carries the Chinese. Installing a translator sends every widget a
`LanguageChange` event; each screen retranslates itself in `changeEvent`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QLocale, QObject, QTranslator, Signal

I18N_DIR = Path(__file__).with_name("i18n")
LANGUAGES: dict[str, str] = {"zh": "中文", "en": "English"}
QM_FILES: dict[str, str] = {"zh": "proctor_zh_CN.qm"}


def system_language(locale: QLocale | None = None) -> str:
    """`zh` when the system locale is any Chinese, else `en`."""
    name = (locale or QLocale.system()).name()
    return "zh" if name.lower().startswith("zh") else "en"


def normalise(code: str) -> str:
    """Accept zh, zh_CN, zh-CN, en, en_US...; anything else is a ValueError."""
    short = code.strip().lower().replace("-", "_").split("_")[0]
    if short not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}; choose one of {', '.join(LANGUAGES)}")
    return short


class LanguageManager(QObject):
    """Owns the installed translator; `set_language` switches the whole app live."""

    language_changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._translator: QTranslator | None = None
        self._language = "en"

    @property
    def language(self) -> str:
        return self._language

    def set_language(self, code: str) -> None:
        code = normalise(code)
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("create the QApplication before choosing a language")
        if self._translator is not None:
            QCoreApplication.removeTranslator(self._translator)
            self._translator = None
        qm = QM_FILES.get(code)
        if qm is not None:
            translator = QTranslator(self)
            if not translator.load(str(I18N_DIR / qm)):
                raise FileNotFoundError(f"translation file missing: {I18N_DIR / qm}")
            QCoreApplication.installTranslator(translator)
            self._translator = translator
        self._language = code
        # Qt posts LanguageChange to each top-level widget; deliver it now so that every
        # visible text has changed when this call returns.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange.value)
        self.language_changed.emit(code)
