"""The lab's contract, over real HTTP and real SMTP: what every script relies on."""

import smtplib
import ssl
import subprocess
import sys
from email.message import EmailMessage

import pytest
import requests

from tests.conftest import ROOT

FRUIT = {"name": "Apple", "weight": 500, "description": "Crisp.", "image_name": "001.jpeg"}


def test_create_and_list_fruits(lab):
    assert requests.get(f"{lab.url}/fruits/", timeout=5).json() == []
    first = requests.post(f"{lab.url}/fruits/", json=FRUIT, timeout=5)
    second = requests.post(
        f"{lab.url}/fruits/", json={**FRUIT, "name": "Avocado", "weight": 200}, timeout=5
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == {"id": 1, **FRUIT}
    listed = requests.get(f"{lab.url}/fruits/", timeout=5).json()
    assert [fruit["name"] for fruit in listed] == ["Apple", "Avocado"]  # oldest first
    assert set(listed[0]) == {"id", "name", "weight", "description", "image_name"}
    assert lab.fruits()[1]["weight"] == 200


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"weight": "500 lbs"}, "weight", "A valid integer is required."),
        ({"weight": None}, "weight", "This field may not be null."),
        ({"name": ""}, "name", "This field may not be blank."),
        ({"name": "x" * 101}, "name", "Ensure this field has no more than 100 characters."),
        ({"description": "x" * 5001}, "description", "no more than 5000 characters"),
        ({"image_name": "x" * 101}, "image_name", "no more than 100 characters"),
    ],
)
def test_invalid_fruit_is_refused_with_field_errors(lab, change, field, error):
    answer = requests.post(f"{lab.url}/fruits/", json={**FRUIT, **change}, timeout=5)
    assert answer.status_code == 400
    assert error in answer.json()[field][0]
    assert lab.fruits() == []


def test_weight_is_required(lab):
    answer = requests.post(f"{lab.url}/fruits/", json={"name": "Apple"}, timeout=5)
    assert answer.status_code == 400
    assert answer.json() == {"weight": ["This field is required."]}


def test_description_of_5000_characters_is_accepted(lab):
    answer = requests.post(f"{lab.url}/fruits/", json={**FRUIT, "description": "x" * 5000})
    assert answer.status_code == 201


def test_upload_stores_and_serves_the_file(lab):
    content = b"\xff\xd8\xff\xe0 not really a jpeg but bytes all the same"
    answer = requests.post(f"{lab.url}/upload/", files={"file": ("001.jpeg", content)}, timeout=5)
    assert answer.status_code == 201
    assert (lab.media_images / "001.jpeg").read_bytes() == content
    served = requests.get(f"{lab.url}/media/images/001.jpeg", timeout=5)
    assert served.status_code == 200
    assert served.content == content
    assert served.headers["Content-Type"] == "image/jpeg"
    assert requests.head(f"{lab.url}/media/images/002.jpeg", timeout=5).status_code == 404


def test_second_upload_of_a_name_is_stored_under_a_new_name(lab):
    for _ in range(2):
        answer = requests.post(f"{lab.url}/upload/", files={"file": ("001.jpeg", b"x")}, timeout=5)
        assert answer.status_code == 201
    names = lab.images()
    assert len(names) == 2
    assert "001.jpeg" in names
    assert answer.json()["name"] in names
    assert answer.json()["name"].startswith("001_")


def test_upload_without_file_is_refused(lab):
    answer = requests.post(f"{lab.url}/upload/", data={"other": "x"}, timeout=5)
    assert answer.status_code == 400
    assert "file" in answer.json()
    assert lab.images() == []


def test_page_lists_each_fruit_with_its_image(lab):
    requests.post(f"{lab.url}/fruits/", json=FRUIT, timeout=5)
    requests.post(f"{lab.url}/fruits/", json={"name": "Plain", "weight": 3}, timeout=5)
    page = requests.get(f"{lab.url}/", timeout=5)
    assert page.status_code == 200
    html = page.text
    assert "<title>Fruit Catalog</title>" in html
    assert "Apple" in html and "Weight: 500 lbs" in html and "Crisp." in html
    assert '<img src="/media/images/001.jpeg"' in html
    assert "Weight: 3 lbs" in html
    assert html.count("<img") == 1  # no image name, no picture


def test_post_without_trailing_slash_is_redirected_and_the_data_lost(lab):
    answer = requests.post(f"{lab.url}/fruits", json=FRUIT, timeout=5, allow_redirects=False)
    assert answer.status_code == 301
    assert answer.headers["Location"] == "/fruits/"
    followed = requests.post(f"{lab.url}/fruits", json=FRUIT, timeout=5)
    # requests follows a 301 after a POST with a GET: a 200 with the list, nothing created.
    assert followed.status_code == 200
    assert followed.request.method == "GET"
    assert lab.fruits() == []


def test_fail_rate_answers_a_fraction_with_503(start_lab):
    lab = start_lab(fail_rate=0.5, fault_seed=7)
    statuses = [requests.get(f"{lab.url}/fruits/", timeout=5).status_code for _ in range(40)]
    assert set(statuses) == {200, 503}
    assert 5 < statuses.count(503) < 35
    lab.set_faults(fail_rate=1)
    assert requests.post(f"{lab.url}/fruits/", json=FRUIT, timeout=5).status_code == 503
    assert lab.fruits() == []  # a 503 did nothing
    faulted = [r for r in lab.requests() if r["fault"] == "503"]
    assert len(faulted) == statuses.count(503) + 1


def test_delay_holds_each_answer(start_lab):
    lab = start_lab(delay=2)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{lab.url}/fruits/", timeout=(5, 0.5))
    lab.set_faults(delay=0)
    assert requests.get(f"{lab.url}/fruits/", timeout=(5, 0.5)).status_code == 200


def test_commit_then_drop_saves_the_fruit_but_sends_no_answer(start_lab):
    lab = start_lab(drop_rate=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(f"{lab.url}/fruits/", json=FRUIT, timeout=5)
    assert [fruit["name"] for fruit in lab.fruits()] == ["Apple"]
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(f"{lab.url}/upload/", files={"file": ("001.jpeg", b"x")}, timeout=5)
    assert lab.images() == ["001.jpeg"]
    # Reads and refusals are answered: only a successful creation is dropped.
    assert requests.get(f"{lab.url}/fruits/", timeout=5).status_code == 200
    assert requests.post(f"{lab.url}/fruits/", json={}, timeout=5).status_code == 400


def pdf_message(lab, pdf: bytes) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "automation@example.com"
    message["To"] = "student@example.com"
    message["Subject"] = "Upload Completed - Online Fruit Store"
    message.set_content("All fruits are uploaded to our website successfully.")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="processed.pdf")
    return message


def test_message_with_pdf_arrives_intact_in_the_maildir(lab):
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
    with smtplib.SMTP(lab.smtp_host, lab.smtp_port, timeout=5) as smtp:
        smtp.send_message(pdf_message(lab, pdf))
    (received,) = lab.messages()
    assert received["Subject"] == "Upload Completed - Online Fruit Store"
    assert received["From"] == "automation@example.com"
    assert received["To"] == "student@example.com"
    assert received.get_body(("plain",)).get_content().startswith("All fruits are uploaded")
    (attachment,) = received.iter_attachments()
    assert attachment.get_filename() == "processed.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf
    (delivered,) = [e for e in lab.smtp_events() if e["event"] == "delivered"]
    assert delivered["rcpt_tos"] == ["student@example.com"]


def test_mail_server_refuses_listed_recipients(start_lab):
    lab = start_lab(smtp_reject=["nobody@example.com"])
    with (
        smtplib.SMTP(lab.smtp_host, lab.smtp_port, timeout=5) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        smtp.sendmail("a@example.com", ["nobody@example.com"], b"Subject: x\r\n\r\nx\r\n")
    assert lab.messages() == []


def test_mail_server_login_checks_the_password(start_lab):
    lab = start_lab(smtp_auth="student:secret")
    with smtplib.SMTP(lab.smtp_host, lab.smtp_port, timeout=5) as smtp:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login("student", "wrong")
        with pytest.raises(smtplib.SMTPSenderRefused):  # login is required to send
            smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\nx\r\n")
        smtp.login("student", "secret")
        smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\nx\r\n")
    attempts = [(e["success"], e["tls"]) for e in lab.smtp_events() if e["event"] == "auth"]
    # smtplib tries each mechanism the server offers before it gives up.
    assert attempts[-1] == (True, False)
    assert set(attempts[:-1]) == {(False, False)}
    assert len(lab.messages()) == 1


def test_mail_server_offers_starttls_with_its_own_certificate(start_lab):
    lab = start_lab(smtp_tls=True, smtp_auth="student:secret")
    context = ssl.create_default_context(cafile=lab.state / "smtp-cert.pem")
    with smtplib.SMTP("localhost", lab.smtp_port, timeout=5) as smtp:
        smtp.starttls(context=context)
        smtp.login("student", "secret")
        smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: tls\r\n\r\nx\r\n")
    (auth,) = [e for e in lab.smtp_events() if e["event"] == "auth"]
    assert auth["tls"] is True and auth["success"] is True
    assert lab.messages()[0]["Subject"] == "tls"


def test_state_folder_is_created_and_migrated(lab):
    assert (lab.state / "catalog.sqlite3").is_file()
    assert lab.media_images.is_dir()
    assert lab.maildir.is_dir()
    assert any(line.startswith("lab ready") for line in lab.output)


def test_mail_command_lists_received_messages(lab):
    with smtplib.SMTP(lab.smtp_host, lab.smtp_port, timeout=5) as smtp:
        smtp.send_message(pdf_message(lab, b"%PDF-1.4\n"))
    listing = subprocess.run(
        [sys.executable, "-m", "lab", "mail", "--state", str(lab.state)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "automation@example.com -> student@example.com" in listing
    assert "Upload Completed - Online Fruit Store  [processed.pdf]" in listing


def test_make_data_command_writes_a_supplier_drop(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "lab", "make-data", str(tmp_path / "drop"), "--count", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "wrote 2 images and 2 descriptions" in done.stdout
    assert sorted(p.name for p in (tmp_path / "drop" / "images").iterdir()) == [
        "001.tif",
        "002.tif",
    ]
    assert sorted(p.name for p in (tmp_path / "drop" / "descriptions").iterdir()) == [
        "001.txt",
        "002.txt",
    ]


def test_serve_refuses_a_port_in_use(lab, tmp_path):
    port = lab.url.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, "-m", "lab", "serve", "--state", str(tmp_path), "--http-port", port],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "cannot start" in done.stderr
    assert "Traceback" not in done.stderr
