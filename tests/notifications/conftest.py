"""A real SMTP server (aiosmtpd) on a loopback port, and the app configured to use it.

``smtp`` is running when the test starts; ``smtp.stop()`` / ``smtp.start()`` take it down and
bring it back on the same port (the outage tests). ``smtp.messages`` is what it received.
"""
from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from edlink import jobs
from edlink.extensions import db
from edlink.users import create_local_user

BASE_URL = "https://edlink.test"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


class Inbox:
    """The aiosmtpd handler: keeps what it accepts; refuses recipients listed in ``refuse``."""

    def __init__(self):
        self.messages: list[Received] = []
        self.refuse: dict[str, str] = {}
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailServer:
    def __init__(self, port: int):
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[Received]:
        return list(self.inbox.messages)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp():
    server = MailServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config, smtp):
    return {**app_config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "BASE_URL": BASE_URL,
            "MAIL_FROM": "EdLink <edlink@agency.example>", "MAIL_RETRY_BASE_SECONDS": 60,
            "MAIL_MAX_ATTEMPTS": 8, "SMTP_TIMEOUT_SECONDS": 5}


def dispatch() -> dict:
    """Run the notifications.dispatch job once, as the scheduler would."""
    return jobs.run("notifications.dispatch")


@pytest.fixture
def person():
    """make a committed local user in the current app: person("staffer1", email=...)"""
    def make(username: str, email: str | None = None, name: str | None = None):
        user = create_local_user(username, "a-long-test-password", email=email, name=name or f"Test {username}")
        db.session.commit()
        return user
    return make
