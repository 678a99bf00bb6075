"""The lab's mail server: aiosmtpd accepting every message into a Maildir.

Messages are stored exactly as received (``mailbox.Maildir``), so a test or a
person can read what a script sent. What happened in each SMTP session
(logins tried, recipients refused, messages delivered, with their envelope) is
appended to ``smtp-events.jsonl`` beside the Maildir.

Options for tests: ``auth="user:password"`` offers AUTH (also over a plain
connection, so a test can see that the client refuses to use it) and requires
it; ``reject`` refuses the listed recipients with 550; ``tls=True`` offers
STARTTLS with a self-signed certificate for localhost and 127.0.0.1 written
into the state folder (point SSL_CERT_FILE at it to trust it).
"""

import asyncio
import json
import logging
import mailbox
import ssl
import subprocess
import threading
import time
import warnings
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class MaildirHandler:
    def __init__(self, maildir: Path, events: Path, reject: frozenset[str]):
        self.maildir = mailbox.Maildir(maildir, create=True)
        self.events = events
        self.reject = reject

    def log(self, event: str, **fields) -> None:
        with self.events.open("a", encoding="utf-8") as log:
            log.write(json.dumps({"event": event, "time": time.time(), **fields}) + "\n")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            self.log("rcpt-refused", address=address)
            return "550 5.1.1 Recipient address rejected: User unknown (lab)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        key = self.maildir.add(envelope.original_content)
        self.log(
            "delivered",
            key=key,
            mail_from=envelope.mail_from,
            rcpt_tos=envelope.rcpt_tos,
            tls=session.ssl is not None,
            login=session.login_data.decode() if session.login_data else None,
        )
        return "250 Message accepted for delivery"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, made once per state folder."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    if not cert.exists():
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
    return cert, key


class MailServer:
    """An SMTP server on its own thread and event loop; ``start()`` returns its port."""

    def __init__(
        self,
        host: str,
        port: int,
        state: Path,
        auth: str | None = None,
        reject: tuple[str, ...] = (),
        tls: bool = False,
    ):
        self.host, self.port = host, port
        self.maildir = state / "maildir"
        self.events = state / "smtp-events.jsonl"
        self.handler = MaildirHandler(
            self.maildir, self.events, frozenset(a.lower() for a in reject)
        )
        self.credentials = tuple(auth.split(":", 1)) if auth else None
        self.tls_context = None
        if tls:
            cert, key = make_certificate(state)
            self.tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls_context.load_cert_chain(cert, key)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and self.credentials == (
            auth_data.login.decode(),
            auth_data.password.decode(),
        )
        self.handler.log(
            "auth",
            mechanism=mechanism,
            login=auth_data.login.decode() if isinstance(auth_data, LoginPassword) else None,
            success=ok,
            tls=session.ssl is not None,
        )
        # handled=False: aiosmtpd answers 535 itself on failure.
        return AuthResult(success=ok, handled=False)

    def make_session(self) -> SMTP:
        # aiosmtpd warns that AUTH without TLS is unsafe: here that is the point.
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        return SMTP(
            self.handler,
            hostname="lab.localhost",
            tls_context=self.tls_context,
            authenticator=self.authenticate if self.credentials else None,
            auth_required=bool(self.credentials),
            # Offered over plain connections too: the client must refuse it, not the server.
            auth_require_tls=False,
            loop=self.loop,
        )

    def start(self) -> int:
        self.thread.start()
        create = self.loop.create_server(self.make_session, self.host, self.port)
        self.server = asyncio.run_coroutine_threadsafe(create, self.loop).result()
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    def stop(self) -> None:
        async def close():
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
