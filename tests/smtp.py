"""A real SMTP server on this machine (aiosmtpd), for tests of what the outbox delivers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler: keeps what it accepts; ``answers`` are refusals to give first, in order."""

    def __init__(self) -> None:
        self.messages: list = []
        self.answers: list[str] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):
        if self.answers:
            return self.answers.pop(0)
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_inbox() -> Iterator[Inbox]:
    """A server listening on a free port of 127.0.0.1 while the block runs; its inbox."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()
