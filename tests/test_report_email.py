"""report_email.py run as a user runs it, against the lab's real mail server."""

import datetime
import getpass
import os
import socket

import pytest
from pypdf import PdfReader

from reports import report_title
from supplier_data import read_descriptions

GOOD, BAD = "Good-Password-1", "Bad-Password-2"
SUBJECT = "Upload Completed - Online Fruit Store"
COURSE_BODY = (
    "All fruits are uploaded to our website successfully. "
    "A detailed list is attached to this email."
)


@pytest.fixture
def mail_lab(start_lab):
    """The lab's mail server alone: report_email.py needs no catalog."""
    return start_lab(no_http=True)


def script_env(lab, data, tmp_path, **extra) -> dict:
    env = lab.env if lab else {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
    env.update(SUPPLIER_DATA=str(data), REPORT_PDF=str(tmp_path / "processed.pdf"))
    env.pop("SSL_CERT_FILE", None)
    env.update({name: str(value) for name, value in extra.items()})
    return env


def body_of(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def pdf_lines(path) -> list[str]:
    return [
        line.strip() for page in PdfReader(path).pages for line in page.extract_text().splitlines()
    ]


def test_report_sent(mail_lab, make_supplier_data, run_script, tmp_path):
    data = make_supplier_data(count=3)
    fruits, problems = read_descriptions(data / "descriptions")
    assert len(fruits) == 3 and not problems
    total = sum(fruit.weight for fruit in fruits)

    result = run_script("report_email.py", env=script_env(mail_lab, data, tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "3 description files done, 0 skipped, 0 failed" in result.stderr
    [message] = mail_lab.messages()
    assert message["From"] == "automation@example.com"
    assert message["To"] == f"{getpass.getuser()}@example.com"
    assert message["Subject"] == SUBJECT
    assert body_of(message) == f"{COURSE_BODY}\n\nTotal weight: {total} lbs\n"
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "processed.pdf"
    assert attachment.get_content_type() == "application/pdf"
    pdf = tmp_path / "processed.pdf"
    assert attachment.get_payload(decode=True) == pdf.read_bytes()

    lines = pdf_lines(pdf)
    assert lines[0] == report_title(datetime.date.today())
    assert f"3 fruits imported. Total weight: {total} lbs" in lines
    for fruit in fruits:
        at = lines.index(f"name: {fruit.name}", lines.index("Fruits imported"))
        assert lines[at + 1] == f"weight: {fruit.weight} lbs"
    assert "Açaí" in {fruit.name for fruit in fruits}  # non-ASCII names survive the trip


def test_unreadable_files_are_reported_and_the_rest_is_sent(
    mail_lab, make_supplier_data, run_script, tmp_path
):
    data = make_supplier_data(count=3)
    (data / "descriptions" / "004.txt").write_text("Kiwi\nheavy\nGreen.\n")
    (data / "descriptions" / "005.txt").write_text("")
    fruits, _ = read_descriptions(data / "descriptions")
    total = sum(fruit.weight for fruit in fruits)

    result = run_script("report_email.py", env=script_env(mail_lab, data, tmp_path))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{data}/descriptions/004.txt:2: weight 'heavy'" in result.stderr
    assert f"{data}/descriptions/005.txt: the file is empty" in result.stderr
    [message] = mail_lab.messages()
    body = body_of(message)
    assert "All fruits" not in body  # it would not be true
    assert body.startswith(
        "3 fruits are uploaded to our website successfully.\n"
        "2 description files could not be read and were not uploaded (listed below).\n"
        "A detailed list is attached to this email.\n\n"
        f"Total weight: {total} lbs\n\nNot imported:\n004.txt:2: weight 'heavy'"
    )
    assert "\n005.txt: the file is empty" in body
    text = " ".join(pdf_lines(tmp_path / "processed.pdf"))
    assert "2 files not imported" in text
    assert "004.txt:2: weight 'heavy' is not a whole number of pounds" in text


def test_dry_run_sends_nothing(mail_lab, make_supplier_data, run_script, tmp_path):
    data = make_supplier_data(count=3)
    env = script_env(mail_lab, data, tmp_path, MAIL_TO="supplier@example.com")

    result = run_script("report_email.py", "--dry-run", env=env)

    assert result.returncode == 0, result.stderr
    assert mail_lab.messages() == [] and mail_lab.smtp_events() == []
    pdf = tmp_path / "processed.pdf"
    assert result.stdout.startswith(
        f"From: automation@example.com\nTo: supplier@example.com\nSubject: {SUBJECT}\nDate: "
    )
    assert f"\n\n{COURSE_BODY}\n\nTotal weight: " in result.stdout
    assert result.stdout.endswith(
        f"[attachment: processed.pdf, application/pdf, {pdf.stat().st_size} bytes]\n"
    )
    assert "JVBERi" not in result.stdout  # the PDF is summarized, not printed as base64


def test_flags_win_over_environment(mail_lab, make_supplier_data, run_script, tmp_path):
    data = make_supplier_data(count=3)
    env = script_env(mail_lab, data, tmp_path, MAIL_FROM="env@example.com", MAIL_TO="e@example.com")
    pdf = tmp_path / "elsewhere" / "weekly.pdf"
    pdf.parent.mkdir()

    result = run_script(
        "report_email.py",
        "--from", "robot@example.org",
        "--to", "boss@example.org",
        "--subject", "Weekly",
        "--body", "Here it is.",
        "--pdf", pdf,
        "-q",
        env=env,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    [message] = mail_lab.messages()
    assert (message["From"], message["To"], message["Subject"]) == (
        "robot@example.org",
        "boss@example.org",
        "Weekly",
    )
    assert body_of(message).startswith("Here it is.\n\nTotal weight: ")
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "weekly.pdf"
    assert attachment.get_payload(decode=True) == pdf.read_bytes()
    assert not (tmp_path / "processed.pdf").exists()


def test_missing_folder_is_a_usage_error(mail_lab, run_script, tmp_path):
    result = run_script("report_email.py", env=script_env(mail_lab, tmp_path / "nowhere", tmp_path))
    assert result.returncode == 2
    assert (
        result.stderr == f"{tmp_path}/nowhere/descriptions: no such folder of description files\n"
    )
    assert mail_lab.smtp_events() == []


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Each way sending can fail: (lab options, extra environment, exit status, what stderr says).
FAILURES = {
    "no server": (None, {}, 1, "not sent: cannot connect to the mail server 127.0.0.1:"),
    "login refused over starttls": (
        {"smtp_auth": "user:" + GOOD, "smtp_tls": True},
        {"SMTP_SECURITY": "starttls", "SMTP_USER": "user", "SMTP_PASSWORD": BAD, "TLS": 1},
        1,
        "refused the login of user (535 5.7.8 Authentication credentials invalid)",
    ),
    "login refused over an allowed plain connection": (
        {"smtp_auth": "user:" + GOOD},
        {"SMTP_USER": "user", "SMTP_PASSWORD": BAD, "SMTP_ALLOW_PLAIN_LOGIN": "yes"},
        1,
        "refused the login of user (535",
    ),
    "recipient refused": (
        {"smtp_reject": ["nobody@example.com"]},
        {"MAIL_TO": "nobody@example.com"},
        1,
        "refused the recipient nobody@example.com (550 5.1.1",
    ),
    "password over a plain connection": (
        {"smtp_auth": "user:" + GOOD},
        {"SMTP_USER": "user", "SMTP_PASSWORD": GOOD},
        2,
        "refusing to send the SMTP password for user over a plain connection",
    ),
    "bad security setting": (None, {"SMTP_SECURITY": "tls"}, 2, "SMTP_SECURITY='tls' is not one"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_mail_failures_give_one_line(case, start_lab, make_supplier_data, run_script, tmp_path):
    options, extra, status, says = FAILURES[case]
    lab = start_lab(no_http=True, **options) if options is not None else None
    data = make_supplier_data(count=3)
    env = script_env(lab, data, tmp_path, **extra)
    if lab is None:
        env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(closed_port()))
    if env.pop("TLS", None):
        env["SSL_CERT_FILE"] = str(lab.state / "smtp-cert.pem")

    result = run_script("report_email.py", env=env)

    assert result.returncode == status
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if says in line]
    assert GOOD not in result.stderr and BAD not in result.stderr  # no password shown
    if lab is not None:
        assert lab.messages() == []
    if status == 2:  # a configuration error: nothing was done
        assert not (tmp_path / "processed.pdf").exists()
        assert lab is None or lab.smtp_events() == []


def test_login_over_starttls(start_lab, make_supplier_data, run_script, tmp_path):
    lab = start_lab(no_http=True, smtp_auth="user:" + GOOD, smtp_tls=True)
    env = script_env(
        lab,
        make_supplier_data(count=3),
        tmp_path,
        SMTP_SECURITY="starttls",
        SMTP_USER="user",
        SMTP_PASSWORD=GOOD,
        SSL_CERT_FILE=lab.state / "smtp-cert.pem",
    )

    result = run_script("report_email.py", env=env)

    assert result.returncode == 0, result.stderr
    auth = [event for event in lab.smtp_events() if event["event"] == "auth"]
    assert [(event["success"], event["tls"]) for event in auth] == [(True, True)]
    [message] = lab.messages()
    assert message["Subject"] == SUBJECT
