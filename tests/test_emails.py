"""emails.py: messages as built, and as the lab's real mail server receives them.

No mock of smtplib: each failure is a real one (a closed port, a silent
socket, the lab's login, TLS and recipient options), and the lab's event log
shows what the client did, such as whether it ever sent a password.
"""

import os
import socket
import threading

import pytest

import emails
from emails import MailConfigError, MailError, SmtpSettings

SENDER, RECIPIENT = "automation@example.com", "student@example.com"
SUBJECT = "Upload Completed - Online Fruit Store"


def settings_for(lab, monkeypatch, **env) -> SmtpSettings:
    """SmtpSettings.from_env() with the lab's environment plus ``env``, as a script reads them."""
    for name in list(os.environ):
        if name.startswith(("SMTP_", "MAIL_")) or name == "SSL_CERT_FILE":
            monkeypatch.delenv(name)
    monkeypatch.setenv("SMTP_HOST", lab.smtp_host)
    monkeypatch.setenv("SMTP_PORT", str(lab.smtp_port))
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    return SmtpSettings.from_env()


def body_of(message) -> str:
    """The plain text body as a reader sees it (the Maildir keeps the wire's CRLF)."""
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def auth_events(lab) -> list[dict]:
    return [event for event in lab.smtp_events() if event["event"] == "auth"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- building messages ---------------------------------------------------------------


def test_message_with_attachment(tmp_path):
    pdf = tmp_path / "processed.pdf"
    pdf.write_bytes(b"%PDF-1.4 not really\n\x00\xff")
    message = emails.generate_email(SENDER, RECIPIENT, SUBJECT, "Body.", pdf)
    assert (message["From"], message["To"], message["Subject"]) == (SENDER, RECIPIENT, SUBJECT)
    assert message["Date"] and message["Message-ID"].endswith("@example.com>")
    assert message.get_body(("plain",)).get_content() == "Body.\n"
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "processed.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True) == pdf.read_bytes()


def test_message_without_attachment():
    message = emails.generate_error_report(SENDER, RECIPIENT, "Error - CPU usage is over 80%", "x")
    assert not message.is_multipart()
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "x\n"
    assert message["Message-ID"] and message["Date"]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("report.pdf", "application/pdf"),
        ("photo.jpeg", "image/jpeg"),
        ("notes.txt", "text/plain"),
        ("data.fruitstore", "application/octet-stream"),  # unknown extension
        ("no-extension", "application/octet-stream"),
        ("backup.tar.gz", "application/octet-stream"),  # compressed: not "a tar file"
    ],
)
def test_attachment_mime_type_guessed_from_name(tmp_path, name, expected):
    path = tmp_path / name
    path.write_bytes(b"data")
    [attachment] = emails.generate_email(SENDER, RECIPIENT, "s", "b", path).iter_attachments()
    assert attachment.get_content_type() == expected
    assert attachment.get_filename() == name


def test_missing_attachment_is_a_mail_error(tmp_path):
    with pytest.raises(MailError, match="missing.pdf: cannot attach it"):
        emails.generate_email(SENDER, RECIPIENT, "s", "b", tmp_path / "missing.pdf")


def test_format_message_summarizes_the_attachment(tmp_path):
    pdf = tmp_path / "processed.pdf"
    pdf.write_bytes(b"x" * 1234)
    text = emails.format_message(emails.generate_email(SENDER, RECIPIENT, SUBJECT, "Hi.", pdf))
    assert text.startswith(f"From: {SENDER}\nTo: {RECIPIENT}\nSubject: {SUBJECT}\nDate: ")
    assert "\n\nHi.\n[attachment: processed.pdf, application/pdf, 1234 bytes]\n" in text


def test_defaults_from_environment(monkeypatch):
    monkeypatch.delenv("MAIL_FROM", raising=False)
    monkeypatch.delenv("MAIL_TO", raising=False)
    monkeypatch.setenv("USER", "student")
    monkeypatch.setenv("LOGNAME", "student")
    assert emails.default_sender() == "automation@example.com"
    assert emails.default_recipient() == "student@example.com"
    monkeypatch.setenv("MAIL_FROM", "robot@example.org")
    monkeypatch.setenv("MAIL_TO", "boss@example.org")
    assert (emails.default_sender(), emails.default_recipient()) == (
        "robot@example.org",
        "boss@example.org",
    )


# --- settings ----------------------------------------------------------------------------


def test_settings_defaults_and_ssl_port(monkeypatch):
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY", "SMTP_USER", "SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    assert SmtpSettings.from_env() == SmtpSettings("localhost", 25, "none", None, None)
    monkeypatch.setenv("SMTP_SECURITY", "SSL")
    assert SmtpSettings.from_env().port == 465
    monkeypatch.setenv("SMTP_PORT", "2465")
    assert SmtpSettings.from_env().port == 2465


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SMTP_SECURITY": "tls"}, "SMTP_SECURITY='tls' is not one of none, starttls, ssl"),
        ({"SMTP_PORT": "smtp"}, "SMTP_PORT='smtp' is not a port number"),
        ({"SMTP_PORT": "70000"}, "SMTP_PORT=70000 is not a port number"),
        ({"SMTP_ALLOW_PLAIN_LOGIN": "maybe"}, "SMTP_ALLOW_PLAIN_LOGIN='maybe': say yes or no"),
    ],
)
def test_bad_settings_are_config_errors(monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(MailConfigError) as error:
        SmtpSettings.from_env()
    assert str(error.value) == message or str(error.value).startswith(message)


def test_password_is_never_shown():
    settings = SmtpSettings(user="user", password="s3cret-pw")
    assert "s3cret-pw" not in repr(settings)


# --- sending through the lab --------------------------------------------------------------


def test_message_arrives_as_sent(start_lab, monkeypatch, tmp_path):
    lab = start_lab(no_http=True)
    pdf = tmp_path / "processed.pdf"
    pdf.write_bytes(bytes(range(256)) * 40)
    emails.send_email(
        emails.generate_email(SENDER, RECIPIENT, SUBJECT, "Body.\nSecond line.", pdf),
        settings_for(lab, monkeypatch),
    )
    emails.send_email(
        emails.generate_error_report(SENDER, RECIPIENT, "Error - low disk", "Disk is full."),
        settings_for(lab, monkeypatch),
    )
    with_attachment, plain = lab.messages()
    assert (with_attachment["From"], with_attachment["To"]) == (SENDER, RECIPIENT)
    assert with_attachment["Subject"] == SUBJECT
    assert body_of(with_attachment) == "Body.\nSecond line.\n"
    [attachment] = with_attachment.iter_attachments()
    assert attachment.get_filename() == "processed.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True) == pdf.read_bytes()
    assert plain["Subject"] == "Error - low disk"
    assert body_of(plain) == "Disk is full.\n"
    assert list(plain.iter_attachments()) == []
    delivered = [e for e in lab.smtp_events() if e["event"] == "delivered"]
    assert [e["rcpt_tos"] for e in delivered] == [[RECIPIENT], [RECIPIENT]]


def assert_one_line(error: Exception, *fragments: str) -> None:
    text = str(error)
    assert "\n" not in text
    for fragment in fragments:
        assert fragment in text


def test_no_server(monkeypatch):
    port = closed_port()
    with pytest.raises(MailError) as error:
        emails.send_email(
            emails.generate_error_report(SENDER, RECIPIENT, "s", "b"),
            SmtpSettings("127.0.0.1", port),
        )
    assert str(error.value) == (
        f"cannot connect to the mail server 127.0.0.1:{port} (Connection refused): "
        "is it running? set SMTP_HOST/SMTP_PORT"
    )


def test_server_that_never_answers():
    with socket.socket() as silent:  # accepts connections (backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(MailError) as error:
            emails.send_email(
                emails.generate_error_report(SENDER, RECIPIENT, "s", "b"),
                SmtpSettings("127.0.0.1", port, timeout=0.5),
            )
    assert_one_line(error.value, f"127.0.0.1:{port} did not answer within 0.5 s")


def test_recipient_refused(start_lab, monkeypatch):
    lab = start_lab(no_http=True, smtp_reject=["nobody@example.com"])
    message = emails.generate_error_report(SENDER, "nobody@example.com", "s", "b")
    with pytest.raises(MailError) as error:
        emails.send_email(message, settings_for(lab, monkeypatch))
    assert_one_line(error.value, "refused the recipient nobody@example.com (550", "MAIL_TO")
    assert lab.messages() == []


def test_password_not_sent_over_plain_connection(start_lab, monkeypatch):
    lab = start_lab(no_http=True, smtp_auth="user:right")
    with pytest.raises(MailConfigError) as error:
        settings = settings_for(lab, monkeypatch, SMTP_USER="user", SMTP_PASSWORD="right")
        emails.send_email(emails.generate_error_report(SENDER, RECIPIENT, "s", "b"), settings)
    assert_one_line(error.value, "refusing to send the SMTP password", "SMTP_SECURITY=starttls")
    assert "right" not in str(error.value)
    assert lab.smtp_events() == []  # refused before even connecting
    assert lab.messages() == []


def test_plain_login_when_explicitly_allowed(start_lab, monkeypatch):
    lab = start_lab(no_http=True, smtp_auth="user:right")
    settings = settings_for(
        lab, monkeypatch, SMTP_USER="user", SMTP_PASSWORD="right", SMTP_ALLOW_PLAIN_LOGIN="yes"
    )
    emails.send_email(emails.generate_error_report(SENDER, RECIPIENT, "s", "b"), settings)
    assert [(e["success"], e["tls"]) for e in auth_events(lab)] == [(True, False)]
    assert len(lab.messages()) == 1


def test_login_refused(start_lab, monkeypatch):
    lab = start_lab(no_http=True, smtp_auth="user:right")
    settings = settings_for(
        lab, monkeypatch, SMTP_USER="user", SMTP_PASSWORD="wrong", SMTP_ALLOW_PLAIN_LOGIN="yes"
    )
    with pytest.raises(MailError) as error:
        emails.send_email(emails.generate_error_report(SENDER, RECIPIENT, "s", "b"), settings)
    assert_one_line(error.value, "refused the login of user (535", "SMTP_PASSWORD")
    assert "wrong" not in str(error.value)
    assert auth_events(lab) and not any(e["success"] for e in auth_events(lab))
    assert lab.messages() == []


def test_starttls_login(start_lab, monkeypatch):
    lab = start_lab(no_http=True, smtp_auth="user:right", smtp_tls=True)
    settings = settings_for(
        lab,
        monkeypatch,
        SMTP_SECURITY="starttls",
        SMTP_USER="user",
        SMTP_PASSWORD="right",
        SSL_CERT_FILE=lab.state / "smtp-cert.pem",
    )
    emails.send_email(emails.generate_error_report(SENDER, RECIPIENT, "s", "b"), settings)
    assert [(e["success"], e["tls"]) for e in auth_events(lab)] == [(True, True)]
    [delivered] = [e for e in lab.smtp_events() if e["event"] == "delivered"]
    assert delivered["tls"] is True
    assert len(lab.messages()) == 1


def test_starttls_wrong_password(start_lab, monkeypatch):
    lab = start_lab(no_http=True, smtp_auth="user:right", smtp_tls=True)
    settings = settings_for(
        lab,
        monkeypatch,
        SMTP_SECURITY="starttls",
        SMTP_USER="user",
        SMTP_PASSWORD="wrong",
        SSL_CERT_FILE=lab.state / "smtp-cert.pem",
    )
    with pytest.raises(MailError) as error:
        emails.send_email(emails.generate_error_report(SENDER, RECIPIENT, "s", "b"), settings)
    assert_one_line(error.value, "refused the login of user")
    assert all(e["tls"] and not e["success"] for e in auth_events(lab))


def test_untrusted_certificate_stops_before_login(start_lab, monkeypatch):
    lab = start_lab(no_http=True, smtp_auth="user:right", smtp_tls=True)
    settings = settings_for(
        lab, monkeypatch, SMTP_SECURITY="starttls", SMTP_USER="user", SMTP_PASSWORD="right"
    )
    with pytest.raises(MailError) as error:
        emails.send_email(emails.generate_error_report(SENDER, RECIPIENT, "s", "b"), settings)
    assert_one_line(error.value, "TLS with the mail server", "SSL_CERT_FILE")
    assert auth_events(lab) == []


def test_starttls_not_offered_stops_before_login(start_lab, monkeypatch):
    lab = start_lab(no_http=True, smtp_auth="user:right")
    settings = settings_for(
        lab, monkeypatch, SMTP_SECURITY="starttls", SMTP_USER="user", SMTP_PASSWORD="right"
    )
    with pytest.raises(MailError) as error:
        emails.send_email(emails.generate_error_report(SENDER, RECIPIENT, "s", "b"), settings)
    assert_one_line(error.value, "STARTTLS extension not supported")
    assert auth_events(lab) == []


def test_ssl_against_a_plain_server(start_lab, monkeypatch):
    lab = start_lab(no_http=True)
    settings = settings_for(lab, monkeypatch, SMTP_SECURITY="ssl")
    with pytest.raises(MailError) as error:
        emails.send_email(emails.generate_error_report(SENDER, RECIPIENT, "s", "b"), settings)
    assert_one_line(error.value, "TLS with the mail server", "SMTP_SECURITY")


def test_user_without_password_under_cron(start_lab, monkeypatch):
    lab = start_lab(no_http=True, smtp_auth="user:right", smtp_tls=True)
    settings = settings_for(lab, monkeypatch, SMTP_SECURITY="starttls", SMTP_USER="user")
    # stdin of pytest is not a terminal: no prompt, a clear error instead.
    assert emails.prompt_for_password(settings) is settings
    with pytest.raises(MailConfigError, match="SMTP_PASSWORD is not"):
        emails.send_email(emails.generate_error_report(SENDER, RECIPIENT, "s", "b"), settings)
    assert lab.smtp_events() == []


def test_some_recipients_refused(start_lab, monkeypatch):
    lab = start_lab(no_http=True, smtp_reject=["nobody@example.com"])
    message = emails.generate_error_report(SENDER, f"{RECIPIENT}, nobody@example.com", "s", "b")
    # Its own kind of MailError: the scripts remember it as sent, not to send it twice.
    with pytest.raises(emails.MailPartlyRefused) as error:
        emails.send_email(message, settings_for(lab, monkeypatch))
    assert_one_line(error.value, "refused the recipient nobody@example.com", "the others got it")
    [delivered] = [e for e in lab.smtp_events() if e["event"] == "delivered"]
    assert delivered["rcpt_tos"] == [RECIPIENT]


@pytest.mark.parametrize(
    "sender, recipient, setting",
    [
        (SENDER, "a@example.com;b@example.com", "MAIL_TO"),  # smtplib sent to a only
        (SENDER, "not an address", "MAIL_TO"),  # smtplib sent to a local user "not"
        (SENDER, "student", "MAIL_TO"),
        (SENDER, "a@example.com b@example.com", "MAIL_TO"),
        ("automation", RECIPIENT, "MAIL_FROM"),
    ],
)
def test_addresses_smtplib_would_guess_at_are_refused(
    start_lab, monkeypatch, sender, recipient, setting
):
    lab = start_lab(no_http=True)
    with pytest.raises(MailConfigError) as error:
        message = emails.generate_error_report(sender, recipient, "s", "b")
        emails.send_email(message, settings_for(lab, monkeypatch))
    assert_one_line(error.value, setting, "is not a list of addresses", "commas")
    assert lab.smtp_events() == []


def test_address_lists_as_people_write_them_are_taken(start_lab, monkeypatch):
    lab = start_lab(no_http=True)
    recipients = '"Smith, Jo" <jo@example.com>, root@localhost, Jörg <j@example.de>'
    emails.send_email(
        emails.generate_error_report(f"Automation <{SENDER}>", recipients, "s", "b"),
        settings_for(lab, monkeypatch),
    )
    [delivered] = [e for e in lab.smtp_events() if e["event"] == "delivered"]
    assert delivered["rcpt_tos"] == ["jo@example.com", "root@localhost", "j@example.de"]


@pytest.mark.parametrize("host", ["mail..example.com", "x" * 64 + ".example.com", ".example.com"])
def test_a_host_name_no_resolver_takes_is_a_config_error(monkeypatch, host):
    monkeypatch.setenv("SMTP_HOST", host)
    with pytest.raises(MailConfigError) as error:
        SmtpSettings.from_env()
    assert str(error.value) == f"SMTP_HOST={host!r} is not a host name"


def test_a_server_that_wants_a_login_says_which_settings(start_lab, monkeypatch):
    lab = start_lab(no_http=True, smtp_auth="user:right")
    with pytest.raises(MailError) as error:
        emails.send_email(
            emails.generate_error_report(SENDER, RECIPIENT, "s", "b"),
            settings_for(lab, monkeypatch),
        )
    assert_one_line(error.value, "(530", "wants a login: set SMTP_USER, SMTP_PASSWORD")
    assert lab.messages() == []


def scripted_smtp_server(goodbye: bytes) -> tuple[int, list[bytes]]:
    """A real SMTP peer on a free port that takes one message, then answers QUIT ``goodbye``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    received: list[bytes] = []

    def serve() -> None:
        with listener, listener.accept()[0] as connection, connection.makefile("rwb") as peer:
            peer.write(b"220 scripted ESMTP\r\n")
            peer.flush()
            for line in peer:
                command = line[:4].upper()
                if command == b"DATA":
                    peer.write(b"354 go ahead\r\n")
                    peer.flush()
                    received.append(b"".join(iter(peer.readline, b".\r\n")))
                    answer = b"250 2.0.0 queued"
                elif command == b"QUIT":
                    answer = goodbye
                else:  # EHLO, MAIL, RCPT
                    answer = b"250 ok"
                peer.write(answer + b"\r\n")
                peer.flush()
                if command == b"QUIT":
                    return

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], received


def test_a_goodbye_other_than_221_after_the_message_still_counts_as_sent():
    # smtplib's `with` raises for it: the message it had queued was then sent again each run.
    port, received = scripted_smtp_server(goodbye=b"421 4.3.2 closing")
    emails.send_email(
        emails.generate_error_report(SENDER, RECIPIENT, "Error - x", "b"),
        SmtpSettings("127.0.0.1", port, timeout=5),
    )
    [message] = received
    assert b"Subject: Error - x" in message


def test_line_break_in_a_header_is_refused():
    with pytest.raises(MailConfigError, match="may not contain linefeed"):
        emails.generate_email(SENDER, RECIPIENT, "Report\nBcc: someone@example.org", "b")
