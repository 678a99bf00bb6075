"""Build an email (with or without an attachment) and send it through SMTP, safely.

    >>> from emails import generate_email, send_email, SmtpSettings
    >>> message = generate_email("automation@example.com", "student@example.com",
    ...                          "Upload Completed - Online Fruit Store",
    ...                          "All fruits are uploaded.", "/tmp/processed.pdf")
    >>> send_email(message)            # SMTP_* from the environment, localhost:25 by default

The course's lab 3 calls the same two functions ``generate`` and ``send``
(``emails.generate(sender, recipient, subject, body, attachment_path)``,
``emails.send(message)``).

Settings come from the environment (``SmtpSettings.from_env``): ``SMTP_HOST``
(localhost), ``SMTP_PORT`` (25, or 465 with ``SMTP_SECURITY=ssl``),
``SMTP_SECURITY`` (``none``, ``starttls`` or ``ssl``), ``SMTP_USER`` and
``SMTP_PASSWORD`` (no login when unset). STARTTLS and SSL verify the server's
certificate (``ssl.create_default_context``; a self-signed one is trusted by
pointing ``SSL_CERT_FILE`` at it).

The password is never sent over a plain connection unless the user says so
with ``SMTP_ALLOW_PLAIN_LOGIN=yes`` (sensible only for a server on the same
machine): without it, ``SMTP_USER`` with ``SMTP_SECURITY=none`` is a
configuration error, raised before any connection is made.

Every failure to send (no server, timeout, TLS, login, recipient or sender
refused, connection lost) is a ``MailError`` whose text is one line saying
what happened and what to change. It never contains the password.

Only the standard library: ``health_check.py`` imports this every minute.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import email.utils
import getpass
import mimetypes
import os
import smtplib
import socket
import ssl
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from cli import (
    EXIT_SOME_FAILED,
    StateError,
    UsageError,
    env_default,
    finish,
    hold_lock,
    log,
    read_state,
    state_folder,
    write_state,
)

DEFAULT_SENDER = "automation@example.com"
DEFAULT_SMTP_HOST = "localhost"
DEFAULT_SMTP_PORT = 25
DEFAULT_SMTPS_PORT = 465  # implicit TLS (SMTP_SECURITY=ssl) is never served on port 25
SMTP_TIMEOUT = 30.0  # seconds for the connection and for each answer of the server
SECURITY_CHOICES = ("none", "starttls", "ssl")
YES, NO = ("1", "yes", "true", "on"), ("", "0", "no", "false", "off")


class MailError(Exception):
    """The message could not be sent; str() is one line saying why and what to do."""


class MailConfigError(MailError, UsageError):
    """The SMTP settings are wrong or unsafe: nothing was sent, nothing was tried (exit 2)."""


class MailPartlyRefused(MailError):
    """The message went out to some recipients and was refused for the others.

    It must not be sent again: the ones who got it would get it twice.
    """


# --- who sends to whom ------------------------------------------------------------


def default_sender() -> str:
    return env_default("MAIL_FROM", DEFAULT_SENDER)


def default_recipient() -> str:
    """$MAIL_TO, or ``<login name>@example.com`` as on the course's lab machine."""
    if os.environ.get("MAIL_TO"):
        return os.environ["MAIL_TO"]
    try:
        return f"{getpass.getuser()}@example.com"
    except (OSError, KeyError) as error:  # no $USER/$LOGNAME and no passwd entry
        raise MailConfigError(f"cannot tell the login name ({error}): set MAIL_TO") from None


# --- building messages --------------------------------------------------------------


def generate_email(
    sender: str,
    recipient: str,
    subject: str,
    body: str,
    attachment_path: str | Path | None = None,
) -> EmailMessage:
    """A plain text message, with the file at ``attachment_path`` attached when given.

    The attachment's MIME type is guessed from its name (``application/octet-stream``
    when unknown) and it is named by its base name, as the course's ``emails.py`` does.
    """
    check_addresses(sender, recipient)
    message = EmailMessage()
    try:
        message["From"] = sender
        message["To"] = recipient
        message["Subject"] = subject
    except ValueError as error:  # a line break in a header: it would forge others
        raise MailConfigError(f"cannot use that subject: {error}") from None
    message["Date"] = email.utils.formatdate(localtime=True)
    # The sender's domain, not socket.getfqdn(), which may wait for a slow DNS.
    message["Message-ID"] = email.utils.make_msgid(domain=_domain_of(sender))
    message.set_content(body)
    if attachment_path is not None:
        path = Path(attachment_path)
        maintype, subtype = guess_mime_type(path.name).split("/", 1)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise MailError(f"{path}: cannot attach it ({error.strerror or error})") from None
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return message


# The course's lab-3 names for the same calls (its example.py: emails.generate, emails.send).
generate = generate_email


def generate_error_report(sender: str, recipient: str, subject: str, body: str) -> EmailMessage:
    """The course's name for a message without attachment (used by health_check.py)."""
    return generate_email(sender, recipient, subject, body)


def guess_mime_type(filename: str) -> str:
    """``report.pdf`` -> ``application/pdf``; unknown or compressed (``.gz``) -> octet-stream."""
    mime_type, encoding = mimetypes.guess_type(filename, strict=False)
    if mime_type is None or encoding is not None:
        return "application/octet-stream"
    return mime_type


def check_addresses(sender: str, recipient: str) -> None:
    """MailConfigError unless each is a list of ``name@domain``, commas between.

    smtplib would guess at anything else: ``a@example.com;b@example.com`` reaches only
    a, ``not an address`` goes to a local user ``not``.
    """
    headers = EmailMessage()
    for setting, name, text in (
        ("MAIL_FROM / --from", "From", sender),
        ("MAIL_TO / --to", "To", recipient),
    ):
        try:
            headers[name] = text
        except ValueError as error:  # a line break in a header: it would forge others
            raise MailConfigError(f"cannot use {text!r} ({setting}): {error}") from None
        parsed = headers[name].addresses
        addresses = email.utils.getaddresses([text])
        good = [address for address in parsed if address.username and address.domain]
        if not addresses or len(good) != len(addresses) or len(parsed) != len(addresses):
            raise MailConfigError(
                f"{setting} {text!r} is not a list of addresses such as name@example.com "
                "or root@localhost (separate several with commas)"
            )


def _domain_of(address: str) -> str:
    _, bare = email.utils.parseaddr(address)
    return bare.rpartition("@")[2] or "localhost"


def format_message(message: EmailMessage) -> str:
    """The message as a person reads it (for --dry-run): headers, body, attachments summarized."""
    headers = ("From", "To", "Subject", "Date")
    lines = [f"{name}: {message[name]}" for name in headers if message[name]]
    body = message.get_body(preferencelist=("plain",))
    lines += ["", body.get_content().rstrip("\n") if body else ""]
    for part in message.iter_attachments():
        size = len(part.get_payload(decode=True) or b"")
        kind = part.get_content_type()
        lines.append(f"[attachment: {part.get_filename()}, {kind}, {size} bytes]")
    return "\n".join(lines) + "\n"


# --- SMTP settings --------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. ``from_env()`` reads them; building one by hand checks them too."""

    host: str = DEFAULT_SMTP_HOST
    port: int = DEFAULT_SMTP_PORT
    security: str = "none"  # none, starttls or ssl
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never shown
    allow_plain_login: bool = False
    timeout: float = SMTP_TIMEOUT

    def __post_init__(self) -> None:
        if self.security not in SECURITY_CHOICES:
            raise MailConfigError(
                f"SMTP_SECURITY={self.security!r} is not one of {', '.join(SECURITY_CHOICES)}"
            )
        if not 0 < self.port < 65536:
            raise MailConfigError(f"SMTP_PORT={self.port} is not a port number (1-65535)")
        try:  # as socket would encode it: an empty or too long label is no host name
            self.host.encode("idna")
        except UnicodeError:
            raise MailConfigError(f"SMTP_HOST={self.host!r} is not a host name") from None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def from_env(cls) -> SmtpSettings:
        """SMTP_HOST, SMTP_PORT, SMTP_SECURITY, SMTP_USER, SMTP_PASSWORD, SMTP_ALLOW_PLAIN_LOGIN."""
        security = env_default("SMTP_SECURITY", "none").strip().lower()
        default_port = DEFAULT_SMTPS_PORT if security == "ssl" else DEFAULT_SMTP_PORT
        port = env_default("SMTP_PORT", str(default_port)).strip()
        if not port.isdigit():
            raise MailConfigError(f"SMTP_PORT={port!r} is not a port number (1-65535)")
        allow = os.environ.get("SMTP_ALLOW_PLAIN_LOGIN", "").strip().lower()
        if allow not in YES + NO:
            raise MailConfigError(f"SMTP_ALLOW_PLAIN_LOGIN={allow!r}: say yes or no")
        return cls(
            host=env_default("SMTP_HOST", DEFAULT_SMTP_HOST),
            port=int(port),
            security=security,
            user=os.environ.get("SMTP_USER") or None,
            password=os.environ.get("SMTP_PASSWORD") or None,
            allow_plain_login=allow in YES,
        )


def prompt_for_password(settings: SmtpSettings) -> SmtpSettings:
    """Ask for the password at the terminal when SMTP_USER is set without SMTP_PASSWORD.

    Under cron (stdin is not a terminal) nothing is asked: ``send_email`` then
    says that SMTP_PASSWORD is missing. The login is checked as safe first, so
    nobody types a password that would then be refused as unsafe to send.
    """
    if settings.user and settings.password is None and sys.stdin.isatty():
        check_settings(settings)
        password = getpass.getpass(f"SMTP password for {settings.user} at {settings.address}: ")
        return dataclasses.replace(settings, password=password)
    return settings


def check_settings(settings: SmtpSettings) -> None:
    """Refuse, before connecting, what would send the password in the clear or cannot log in."""
    if settings.user and settings.security == "none" and not settings.allow_plain_login:
        raise MailConfigError(
            f"refusing to send the SMTP password for {settings.user} over a plain connection "
            f"to {settings.address}: set SMTP_SECURITY=starttls (or ssl), or "
            "SMTP_ALLOW_PLAIN_LOGIN=yes if the server is on this machine"
        )
    if settings.user and settings.password is None:
        raise MailConfigError(
            f"SMTP_USER={settings.user} is set but SMTP_PASSWORD is not: set it in the "
            "environment, or run at a terminal to be asked for it"
        )
    if settings.password is not None and not settings.user:
        raise MailConfigError("SMTP_PASSWORD is set but SMTP_USER is not: set both or neither")
    for name, value in (("SMTP_USER", settings.user), ("SMTP_PASSWORD", settings.password)):
        if value and not value.isascii():  # smtplib's AUTH encodes both as ASCII
            raise MailConfigError(
                f"{name} has characters other than ASCII, which SMTP login cannot send: "
                "use an ASCII password (or an app password)"
            )


# --- sending ----------------------------------------------------------------------------


def send_email(message: EmailMessage, settings: SmtpSettings | None = None) -> None:
    """Send ``message`` to its To/Cc recipients; raise MailError (one line) if it was not sent."""
    settings = settings or SmtpSettings.from_env()
    check_settings(settings)
    with _explained(settings), contextlib.closing(_connect(settings)) as server:
        if settings.user:
            server.login(settings.user, settings.password or "")
        refused = server.send_message(message)
        _hang_up(server)  # never raises: the message is accepted
    if refused:  # some recipients took it, these did not
        raise MailPartlyRefused(
            f"the mail server {settings.address} refused {_recipients(refused)}; "
            "the others got it: check MAIL_TO / --to"
        )


def _hang_up(server: smtplib.SMTP) -> None:
    """QUIT once the message is accepted: whatever the server answers, it was sent."""
    try:
        server.quit()
    except (smtplib.SMTPException, OSError):
        server.close()


send = send_email  # the course's lab-3 name (emails.send(message))


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open SMTP session, encrypted as the settings say (certificates verified)."""
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=settings.timeout,
            context=ssl.create_default_context(),
        )
    server = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.security == "starttls":
        try:
            server.starttls(context=ssl.create_default_context())
        except BaseException:
            server.close()
            raise
    return server


@contextmanager
def _explained(settings: SmtpSettings) -> Iterator[None]:
    """Turn whatever smtplib, ssl and socket raise into one MailError line.

    smtplib's errors and ssl's errors are OSErrors, so the order of the clauses matters.
    """
    where = f"the mail server {settings.address}"
    try:
        yield
    except smtplib.SMTPAuthenticationError as error:
        raise MailError(
            f"{where} refused the login of {settings.user} ({_answer(error)}): "
            "check SMTP_USER and SMTP_PASSWORD"
        ) from None
    except smtplib.SMTPNotSupportedError as error:
        hint = ""
        if "STARTTLS" in str(error):
            hint = " (set SMTP_SECURITY=ssl, or none)"
        elif "AUTH" in str(error):
            hint = " (unset SMTP_USER, or set SMTP_SECURITY=starttls)"
        raise MailError(f"{where}: {str(error).rstrip('.')}{hint}") from None
    except smtplib.SMTPRecipientsRefused as error:
        raise MailError(
            f"{where} refused {_recipients(error.recipients)}: check MAIL_TO / --to"
        ) from None
    except smtplib.SMTPSenderRefused as error:
        what = "check MAIL_FROM / --from"
        if error.smtp_code == 530:  # "Authentication required", "Must issue a STARTTLS first"
            what = "it wants a login: set SMTP_USER, SMTP_PASSWORD and SMTP_SECURITY=starttls"
        raise MailError(
            f"{where} refused the sender {error.sender} ({_answer(error)}): {what}"
        ) from None
    except smtplib.SMTPServerDisconnected as error:
        if "timed out" in str(error):  # smtplib's wording for a socket timeout while reading
            raise MailError(_no_answer(settings)) from None
        raise MailError(
            f"{where} closed the connection ({error or 'no reason given'}): is it an SMTP "
            "server, and is SMTP_SECURITY right for that port?"
        ) from None
    except smtplib.SMTPResponseException as error:
        raise MailError(f"{where} refused the message ({_answer(error)})") from None
    except smtplib.SMTPException as error:
        raise MailError(f"{where}: {error}") from None
    except ssl.SSLCertVerificationError as error:
        raise MailError(
            f"TLS with {where} failed: {error.verify_message}: if its certificate is "
            "self-signed, point SSL_CERT_FILE at it"
        ) from None
    except ssl.SSLError as error:
        raise MailError(
            f"TLS with {where} failed ({error.reason or error}): is SMTP_SECURITY right? "
            "(ssl is usually port 465, starttls port 587 or 25)"
        ) from None
    except TimeoutError:
        raise MailError(_no_answer(settings)) from None
    except socket.gaierror as error:
        raise MailError(
            f"cannot find the mail server {settings.host} ({error.strerror}): set SMTP_HOST"
        ) from None
    except OSError as error:
        raise MailError(
            f"cannot connect to {where} ({error.strerror or error}): is it running? "
            "set SMTP_HOST/SMTP_PORT"
        ) from None


def _no_answer(settings: SmtpSettings) -> str:
    return (
        f"the mail server {settings.address} did not answer within {settings.timeout:g} s: "
        "is SMTP_HOST/SMTP_PORT right, and is SMTP_SECURITY right for that port?"
    )


def _answer(error: smtplib.SMTPResponseException) -> str:
    """``535 5.7.8 Authentication credentials invalid`` from the server's answer, on one line."""
    text = error.smtp_error
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return " ".join(f"{error.smtp_code} {text}".split())


def _recipients(refused: dict[str, tuple[int, bytes]]) -> str:
    parts = []
    for address, (code, text) in refused.items():
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        parts.append(f"{address} ({' '.join(f'{code} {text}'.split())})")
    noun = "the recipient" if len(parts) == 1 else "the recipients"
    return f"{noun} {', '.join(parts)}"


# --- a report goes once per change: what was sent is remembered ------------------------------

SENT_STATE_VERSION = 1


def add_sent_arguments(parser: argparse.ArgumentParser, state_name: str, what: str) -> None:
    """``--state`` (where what was sent is remembered, by default ``state_name`` in the
    state folder) and ``--force`` (send it anyway)."""
    try:
        default = Path(state_folder()) / state_name
    except RuntimeError:  # no home folder: --state is needed, load_sent says so
        default = None
    parser.add_argument(
        "--state",
        type=Path,
        default=default,
        help=f"where the last {what} sent for each source and recipient is remembered "
        "($XDG_STATE_HOME/fruit-store)",
    )
    parser.add_argument(
        "--force", action="store_true", help=f"send the {what} even if the same one was sent"
    )


def sent_key(source: Path, recipient: str) -> str:
    """What a report is about and to whom: ``/home/student/supplier-data -> a@example.com``."""
    return f"{Path(source).resolve()} -> {recipient}"


def digest_of(said: object) -> str:
    """What a report says, as JSON (without its date): the same digest, the same report."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(said, sort_keys=True).encode()).hexdigest()


def load_sent(path: Path | None, script: str) -> dict[str, dict]:
    """The reports sent, by sent_key: {key: {"digest": ..., "sent": ISO time}}.

    cli.read_state: a missing or damaged file is a fresh start (one report sent again);
    StateError (exit 2) for a path that is no file, or None (no home folder for it).
    """
    if path is None:
        raise StateError("no home folder for the state file: set XDG_STATE_HOME or give --state")
    return {
        key: entry
        for key, entry in read_state(path, "reports", script).items()
        if isinstance(entry, dict)
        and isinstance(entry.get("digest"), str)
        and isinstance(entry.get("sent"), str)
    }


def sent_on(sent: dict[str, dict], key: str, digest: str) -> str | None:
    """When this very report went out (``2026-11-22 03:21``), or None."""
    import datetime

    entry = sent.get(key, {})
    if entry.get("digest") != digest:
        return None
    try:
        return datetime.datetime.fromisoformat(entry["sent"]).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return entry["sent"]


def save_sent(path: Path, sent: dict[str, dict], key: str, digest: str) -> None:
    """Remember that the report ``digest`` went out for ``key`` now; OSError if it cannot."""
    import datetime

    sent[key] = {"digest": digest, "sent": datetime.datetime.now().astimezone().isoformat()}
    write_state(path, "reports", sent, SENT_STATE_VERSION)


# What send_once did.
SENT, SENT_BUT, NOT_SENT = "sent", "sent, with a problem", "not sent"


def hold_send_locks(script: str, output: Path, state: Path | None, wait: bool) -> None:
    """One run at a time writes ``output`` (the PDF), and one at a time sends with ``state``
    (even to another PDF): a second exits 75, or with ``wait`` waits."""
    hold_lock(script, output, wait)
    if state is not None:  # None: no home folder, said when it is read
        hold_lock(script, state, wait)


def finish_sending(outcome: str, done: int, failed: int, what: str) -> int:
    """The summary line after send_once, and the exit status: when nothing was sent, none
    of it reached anyone, so nothing is done."""
    if outcome == NOT_SENT:
        finish(0, 0, done + failed, what)
        return EXIT_SOME_FAILED
    status = finish(done, 0, failed, what)
    return status if outcome == SENT else EXIT_SOME_FAILED


def send_once(
    message: EmailMessage,
    settings: SmtpSettings,
    state: Path,
    sent: dict[str, dict],
    key: str,
    digest: str,
    what: str,
) -> str:
    """Send ``message`` and remember it as sent (save_sent), each problem said in one line.

    SENT; NOT_SENT; or SENT_BUT: sent, but some recipients refused it (remembered all
    the same: the others have it) or it could not be remembered. All but SENT are exit 1.
    """
    try:
        send_email(message, settings)
        log.info('sent "%s" to %s through %s', message["Subject"], message["To"], settings.address)
        outcome = SENT
    except MailPartlyRefused as error:
        log.error("sent, but %s", error)
        outcome = SENT_BUT
    except MailError as error:
        log.error("not sent: %s", error)
        return NOT_SENT
    try:
        save_sent(state, sent, key, digest)
    except OSError as error:
        log.error(
            "%s: cannot remember the %s sent (%s): it will be sent again",
            state,
            what,
            error.strerror or error,
        )
        return SENT_BUT
    return outcome
