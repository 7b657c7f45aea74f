"""A real SMTP server for the tests (aiosmtpd on a free local port), not a mock of smtplib: it
keeps every message it accepts, refuses the addresses it is told to (5xx permanently, 4xx for
now), and can be started late or stopped to play a server that is down for a while."""

from __future__ import annotations

import email
import socket
from email import policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: dict[str, str] = {}  # address -> reply, e.g. "550 5.1.1 no such mailbox"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        message.envelope_to = list(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m.envelope_to]


class SmtpServer:
    def __init__(self) -> None:
        self.port, self.box, self.controller = free_port(), Mailbox(), None

    def start(self) -> "SmtpServer":
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def env(self) -> dict[str, str]:
        return {"FUEL_SMTP_HOST": "127.0.0.1", "FUEL_SMTP_PORT": str(self.port), "FUEL_SMTP_TLS": "none",
                "FUEL_MAIL_FROM": "Fund manager <statements@fund.example.org>", "FUEL_MAIL_RETRIES": "1",
                "FUEL_MAIL_BACKOFF_SECONDS": "0", "FUEL_MAIL_RATE_PER_SECOND": "1000",
                "FUEL_PUBLIC_URL": "https://fuel.example.org"}


def attachments(message) -> list[tuple[str, bytes]]:
    return [(part.get_filename(), part.get_content()) for part in message.iter_attachments()]
