"""The four channels a notice goes out on (R18), each behind `notify.Channel`.

- `SmtpChannel`: e-mail over real SMTP (smtplib, run in a worker thread off the event loop).
  Failures up to and including the server's answer to DATA are certain (nothing delivered:
  `SendFailed`); a connection lost while the message is in flight is not.
- `SiteChannel`: the in-site message box, kept by the store (`Outbox.put_site_message`),
  keyed by notice (idempotent).
- `FileChannel`: SMS and the chat-app channel, which cannot be reached from here: each message
  is appended as one JSON line to a spool file (fsync'd) for the gateway that forwards them.
"""

from __future__ import annotations

import asyncio
import email.policy
import json
import os
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from proctor_server.programme.notify import Channel, Notice, SendFailed
from proctor_server.programme.ports import Outbox


class SmtpChannel:
    name = "email"
    idempotent = False

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        timeout: float = 10.0,
        domain: str = "proctor.invalid",
    ):
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout
        self.domain = domain

    def message(self, notice: Notice, address: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = address
        msg["Subject"] = notice.subject
        msg["Date"] = formatdate(localtime=False)
        # stable per notice: a deliberate resend is recognisable as the same message
        msg["Message-ID"] = f"<notice-{notice.id}@{self.domain}>"
        msg.set_content(notice.body)
        return msg

    async def send(self, notice: Notice, address: str) -> None:
        await asyncio.to_thread(self._send, self.message(notice, address), address)

    def _send(self, msg: EmailMessage, address: str) -> None:
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"cannot reach {self.host}:{self.port}: {exc}") from None
        try:
            try:
                smtp.ehlo_or_helo_if_needed()
                code, reply = smtp.mail(self.sender)
                if code != 250:
                    raise SendFailed(f"sender refused: {code} {reply!r}", permanent=code >= 500)
                code, reply = smtp.rcpt(address)
                if code not in (250, 251):
                    raise SendFailed(f"recipient refused: {code} {reply!r}", permanent=code >= 500)
            except (OSError, smtplib.SMTPException) as exc:
                raise SendFailed(f"SMTP before DATA: {exc}") from None
            try:
                smtp.data(msg.as_bytes(policy=email.policy.SMTP))
            except smtplib.SMTPDataError as exc:  # the server answered: not accepted
                raise SendFailed(
                    f"message refused: {exc.smtp_code} {exc.smtp_error!r}",
                    permanent=exc.smtp_code >= 500,
                ) from None
            # any other error here leaves the outcome unknown and propagates as such
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


class FileChannel:
    """A spool file of JSON lines for a gateway we cannot reach from here (SMS, chat)."""

    idempotent = False

    def __init__(self, name: str, path: Path | str):
        self.name = name
        self.path = Path(path)

    async def send(self, notice: Notice, address: str) -> None:
        await asyncio.to_thread(self._append, notice, address)

    def _append(self, notice: Notice, address: str) -> None:
        line = json.dumps(
            {
                "channel": self.name,
                "to": address,
                "notice": notice.id,
                "kind": notice.kind,
                "subject": notice.subject,
                "body": notice.body,
            },
            ensure_ascii=False,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        except OSError as exc:
            raise SendFailed(f"cannot open {self.path}: {exc.strerror}") from None
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)


class SiteChannel:
    """The in-site message box: one message per notice, kept by the store."""

    name = "site"
    idempotent = True

    def __init__(self, outbox: Outbox):
        self.outbox = outbox

    async def send(self, notice: Notice, address: str) -> None:
        try:
            await self.outbox.put_site_message(notice, int(address), datetime.now(UTC))
        except Exception as exc:  # the store acknowledges only what it committed: nothing stored
            raise SendFailed(f"in-site message not stored: {exc}") from None


def default_channels(
    outbox: Outbox,
    spool_dir: Path | str,
    *,
    smtp_host: str | None,
    smtp_port: int,
    mail_from: str,
) -> dict[str, Channel]:
    """The four channels as configured on the command line; e-mail only with an SMTP host."""
    spool = Path(spool_dir)
    channels: dict[str, Channel] = {
        "sms": FileChannel("sms", spool / "sms.jsonl"),
        "site": SiteChannel(outbox),
        "chat": FileChannel("chat", spool / "chat.jsonl"),
    }
    if smtp_host:
        channels["email"] = SmtpChannel(smtp_host, smtp_port, mail_from)
    return channels
