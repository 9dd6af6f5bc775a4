"""SMTP: one connection per dispatch run, opened when the first message needs it.

Settings (DESIGN / README): SMTP_HOST, SMTP_PORT, SMTP_SECURITY (none | starttls | tls),
SMTP_USERNAME / SMTP_PASSWORD (log in when a username is set), SMTP_TIMEOUT_SECONDS, MAIL_FROM.
"""
from __future__ import annotations

import email.utils
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from edlink import clock
from notifications.models import OutboxMessage


@dataclass(frozen=True)
class Failure:
    """How a send failed: ``permanent`` (retrying cannot help) and ``server_down`` (stop this
    run: every other message would fail the same way)."""

    error: str
    permanent: bool = False
    server_down: bool = False


def build(message: OutboxMessage, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = message.to_address
    mail["Message-ID"] = message.message_id  # the same on every attempt: receivers can de-duplicate
    mail["Date"] = email.utils.format_datetime(clock.now())
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body_text)
    mail.add_alternative(message.body_html, subtype="html")
    return mail


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(str(text).split())}"


def classify(exc: BaseException) -> Failure:
    """Turn what smtplib raised into a Failure (anything else is a bug and is raised again)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return Failure(f"recipient refused: {_reply(code, text)}", permanent=code >= 500)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return Failure(f"login refused by the mail server: {_reply(exc.smtp_code, exc.smtp_error)}",
                       server_down=True)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return Failure(f"sender {exc.sender} refused: {_reply(exc.smtp_code, exc.smtp_error)}", server_down=True)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Failure(f"mail server disconnected: {exc}", server_down=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        return Failure(f"mail server answered {_reply(exc.smtp_code, exc.smtp_error)}",
                       permanent=exc.smtp_code >= 500)
    if isinstance(exc, ssl.SSLError):
        return Failure(f"TLS with the mail server failed: {exc}", server_down=True)
    if isinstance(exc, OSError | smtplib.SMTPException):
        return Failure(f"mail server unreachable: {exc.__class__.__name__}: {exc}", server_down=True)
    if isinstance(exc, ValueError):  # a header the e-mail package refuses (a malformed address)
        return Failure(f"message cannot be built: {exc}", permanent=True)
    raise exc


class Mailer:
    def __init__(self, config: Any):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        host, port = self.config["SMTP_HOST"], int(self.config["SMTP_PORT"])
        timeout = int(self.config["SMTP_TIMEOUT_SECONDS"])
        security = self.config["SMTP_SECURITY"]
        if security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if self.config.get("SMTP_USERNAME"):
                smtp.login(self.config["SMTP_USERNAME"], self.config.get("SMTP_PASSWORD") or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: OutboxMessage) -> Failure | None:
        """Hand one message to the mail server; None when it accepted it."""
        try:
            mail = build(message, self.config["MAIL_FROM"])
            if self.smtp is None:
                self.smtp = self._connect()
            self.smtp.send_message(mail)
        except Exception as exc:  # noqa: BLE001 (classify raises what it does not know)
            failure = classify(exc)
            if failure.server_down:
                self.close()
            return failure
        return None

    def close(self) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()
        self.smtp = None
