"""The postal address for the paper certificate (R14): name, phone, address, postcode,
validated field by field before it is sent."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from proctor_client.ui import texts
from proctor_client.ui.address import FIELDS, AddressError, MailAddress, validate
from proctor_client.ui.base import FAIL_COLOUR, Screen, body_label, title_label


class AddressScreen(Screen):
    submitted = Signal(object)  # a cleaned MailAddress

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._errors: dict[str, AddressError] = {}
        self._title = title_label()
        self._intro = body_label()
        self.inputs: dict[str, QLineEdit] = {}
        self._labels: dict[str, QLabel] = {}
        self._error_labels: dict[str, QLabel] = {}
        form = QFormLayout()
        for field in FIELDS:
            edit = QLineEdit()
            edit.setObjectName(field)
            edit.returnPressed.connect(self._submit)
            edit.textChanged.connect(lambda _text, f=field: self._edited(f))
            label = QLabel()
            error = QLabel()
            error.setObjectName(f"{field}-error")
            error.setStyleSheet(f"color: {FAIL_COLOUR};")
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(edit)
            column.addWidget(error)
            form.addRow(label, column)
            self.inputs[field] = edit
            self._labels[field] = label
            self._error_labels[field] = error
        self.submit_button = QPushButton()
        self.submit_button.setDefault(True)
        self.submit_button.clicked.connect(self._submit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.submit_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self._title)
        layout.addWidget(self._intro)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.retranslate()

    def set_values(self, value: MailAddress) -> None:
        for field in FIELDS:
            self.inputs[field].setText(getattr(value, field))

    def set_busy(self, busy: bool) -> None:
        self.submit_button.setEnabled(not busy)

    def errors(self) -> dict[str, AddressError]:
        return dict(self._errors)

    def _submit(self) -> None:
        raw = MailAddress(**{f: self.inputs[f].text() for f in FIELDS})
        value, self._errors = validate(raw)
        self._show_errors()
        if not self._errors:
            self.submitted.emit(value)
        else:
            self.inputs[next(f for f in FIELDS if f in self._errors)].setFocus()

    def _edited(self, field: str) -> None:
        """A field the candidate is filling in loses its error until the next check."""
        if self._errors.pop(field, None) is not None:
            self._show_errors()

    def _show_errors(self) -> None:
        for field in FIELDS:
            error = self._errors.get(field)
            self._error_labels[field].setText(texts.address_error(error) if error else "")
            self._error_labels[field].setVisible(error is not None)

    def retranslate(self) -> None:
        self._title.setText(self.tr("Postal address for the certificate"))
        self._intro.setText(
            self.tr("If you pass, the paper certificate is mailed to this address within 30 days.")
        )
        labels = {
            "name": self.tr("Recipient name"),
            "phone": self.tr("Mobile phone"),
            "address": self.tr("Address"),
            "postcode": self.tr("Postcode"),
        }
        for field, text in labels.items():
            self._labels[field].setText(text)
        self.inputs["address"].setPlaceholderText(
            self.tr("Province, city, district, street, building, room")
        )
        self.submit_button.setText(self.tr("Save and continue"))
        self._show_errors()
