"""The lab's contract, over real HTTP and real SMTP: what every script relies on."""

import re
import smtplib
import ssl
import subprocess
import sys
from email.message import EmailMessage
from html.parser import HTMLParser

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
        ({"description": ""}, "description", "This field may not be blank."),
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


def test_weight_and_description_are_required(lab):
    answer = requests.post(f"{lab.url}/fruits/", json={"name": "Apple"}, timeout=5)
    assert answer.status_code == 400
    assert answer.json() == {
        "weight": ["This field is required."],
        "description": ["This field is required."],
    }


def test_blank_name_and_image_name_are_accepted(lab):
    fruit = {**FRUIT, "name": "", "image_name": ""}
    answer = requests.post(f"{lab.url}/fruits/", json=fruit, timeout=5)
    assert answer.status_code == 201
    assert answer.json() == {"id": 1, **fruit}
    assert lab.fruits()[0]["name"] == ""


def test_only_the_course_fields_are_listed_though_rows_have_a_creation_time(lab):
    requests.post(f"{lab.url}/fruits/", json=FRUIT, timeout=5)
    (listed,) = requests.get(f"{lab.url}/fruits/", timeout=5).json()
    assert set(listed) == {"id", "name", "weight", "description", "image_name"}
    assert lab.fruits()[0]["created"]  # the sqlite row has it


def test_description_of_5000_characters_is_accepted(lab):
    answer = requests.post(f"{lab.url}/fruits/", json={**FRUIT, "description": "x" * 5000})
    assert answer.status_code == 201


def upload(lab, name: str, content: bytes = b"x") -> requests.Response:
    return requests.post(f"{lab.url}/upload/", files={"file": (name, content)}, timeout=5)


def test_upload_stores_and_serves_the_file(lab):
    content = b"\xff\xd8\xff\xe0 not really a jpeg but bytes all the same"
    answer = upload(lab, "001.jpeg", content)
    assert answer.status_code == 201
    assert answer.content == b""  # no JSON: the stored name is not told
    assert "Content-Type" not in answer.headers
    assert (lab.media_images / "001.jpeg").read_bytes() == content
    served = requests.get(f"{lab.url}/media/images/001.jpeg", timeout=5)
    assert served.status_code == 200
    assert served.content == content
    assert served.headers["Content-Type"] == "image/jpeg"
    assert requests.head(f"{lab.url}/media/images/002.jpeg", timeout=5).status_code == 404


def test_second_upload_of_a_name_is_stored_under_a_new_name(lab):
    for content in (b"first", b"second"):
        answer = upload(lab, "001.jpeg", content)
        assert answer.status_code == 201
        assert answer.content == b""
    first, second = lab.images()
    assert first == "001.jpeg"
    assert re.fullmatch(r"001_[A-Za-z0-9]{7}\.jpeg", second)
    assert (lab.media_images / second).read_bytes() == b"second"


def test_upload_name_is_cleaned_as_django_does(lab):
    assert upload(lab, "my fruit.jpeg").status_code == 201
    assert upload(lab, "a&b(c)=d+e é.jpeg").status_code == 201
    assert upload(lab, "../../etc/passwd.jpeg").status_code == 201
    assert lab.images() == ["abcde_é.jpeg", "my_fruit.jpeg", "passwd.jpeg"]


def test_upload_name_too_long_is_cut_and_given_a_suffix(lab):
    name = "a" * 91 + ".jpeg"  # 96 characters: "images/" + name is 103 > 100
    assert upload(lab, name).status_code == 201
    (stored,) = lab.images()
    assert len("images/" + stored) == 100
    assert re.fullmatch(r"a{80}_[A-Za-z0-9]{7}\.jpeg", stored)
    # A name that fits is kept as it is.
    assert upload(lab, "b" * 88 + ".jpeg").status_code == 201
    assert "b" * 88 + ".jpeg" in lab.images()


def test_non_ascii_name_is_stored_cleaned_without_lang_c(lab):
    assert upload(lab, "fraîse des bois.jpeg").status_code == 201
    assert lab.images() == ["fraîse_des_bois.jpeg"]
    served = requests.get(f"{lab.url}/media/images/fra%C3%AEse_des_bois.jpeg", timeout=5)
    assert served.status_code == 200 and served.content == b"x"


def test_lang_c_answers_a_non_ascii_name_with_500_and_stores_nothing(start_lab):
    lab = start_lab(lang_c=True)
    answer = upload(lab, "fraîse des bois.jpeg")
    assert answer.status_code == 500
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "UnicodeEncodeError" in answer.text  # Django's debug page
    assert lab.images() == []
    assert upload(lab, "fraise des bois.jpeg").status_code == 201
    assert lab.images() == ["fraise_des_bois.jpeg"]


def test_upload_without_file_is_refused(lab):
    answer = requests.post(f"{lab.url}/upload/", files={"other": ("a.jpeg", b"x")}, timeout=5)
    assert answer.status_code == 400
    assert answer.json() == {"detail": "Empty content"}
    assert lab.images() == []


def test_upload_as_a_form_is_an_unsupported_media_type(lab):
    answer = requests.post(f"{lab.url}/upload/", data={"file": "x"}, timeout=5)
    assert answer.status_code == 415
    assert answer.json() == {
        "detail": 'Unsupported media type "application/x-www-form-urlencoded" in request.'
    }
    assert lab.images() == []


def test_page_lists_each_fruit_with_its_image(lab):
    requests.post(f"{lab.url}/fruits/", json=FRUIT, timeout=5)
    requests.post(
        f"{lab.url}/fruits/", json={"name": "Plain", "weight": 3, "description": "x"}, timeout=5
    )
    page = requests.get(f"{lab.url}/", timeout=5)
    assert page.status_code == 200
    html = page.text
    assert "<title>Fruit Catalog</title>" in html
    assert "Apple" in html and "Weight: 500 lbs" in html and "Crisp." in html
    assert '<img src="/media/images/001.jpeg"' in html
    assert "Weight: 3 lbs" in html
    assert html.count("<img") == 1  # no image name, no picture


@pytest.mark.parametrize("endpoint", ["fruits", "upload", "feedback"])
def test_post_without_trailing_slash_is_a_500_debug_page(lab, endpoint):
    answer = requests.post(f"{lab.url}/{endpoint}", json=FRUIT, timeout=5, allow_redirects=False)
    assert answer.status_code == 500
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "RuntimeError" in answer.text
    assert "APPEND_SLASH" in answer.text
    assert lab.fruits() == []
    # A GET without the slash is redirected, as Django does.
    answer = requests.get(f"{lab.url}/{endpoint}", timeout=5, allow_redirects=False)
    assert answer.status_code == 301
    assert answer.headers["Location"] == f"/{endpoint}/"


def test_url_patterns_are_prefixes(lab):
    requests.post(f"{lab.url}/fruits/anything/", json=FRUIT, timeout=5).raise_for_status()
    listed = requests.get(f"{lab.url}/fruits/anything/else/", timeout=5).json()
    assert [fruit["name"] for fruit in listed] == ["Apple"]
    assert upload(lab, "001.jpeg").status_code == 201
    assert requests.post(f"{lab.url}/upload/x/", files={"file": ("002.jpeg", b"x")}, timeout=5).ok
    assert lab.images() == ["001.jpeg", "002.jpeg"]


def test_head_of_the_endpoints_is_not_allowed(lab):
    for endpoint in ("fruits", "feedback", "upload"):
        answer = requests.head(f"{lab.url}/{endpoint}/", timeout=5)
        assert answer.status_code == 405
        assert "HEAD" not in answer.headers["Allow"]


class Forms(HTMLParser):
    """The forms of a page: [(action, method, [input names])]."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append((attrs.get("action"), attrs.get("method"), []))
        elif tag in ("input", "textarea") and self.forms and attrs.get("name"):
            self.forms[-1][2].append(attrs["name"])


def test_browsers_get_the_browsable_api_with_a_form_and_json_clients_json(lab):
    requests.post(f"{lab.url}/fruits/", json=FRUIT, timeout=5)
    page = requests.get(f"{lab.url}/fruits/", headers={"Accept": "text/html"}, timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Django REST framework" in page.text and "Crisp." in page.text
    parser = Forms()
    parser.feed(page.text)
    post_forms = [inputs for action, method, inputs in parser.forms if method == "POST"]
    assert {"name", "weight", "description", "image_name"} <= set(post_forms[0])
    assert requests.get(f"{lab.url}/static/rest_framework/css/bootstrap.min.css").ok
    # requests' default Accept: */* gets JSON.
    answer = requests.get(f"{lab.url}/fruits/", timeout=5)
    assert answer.headers["Content-Type"] == "application/json"
    # The browsable API's form posts a multipart form: that creates a fruit too.
    form = {"name": "Kiwi", "weight": "100", "description": "Fuzzy.", "image_name": ""}
    created = requests.post(f"{lab.url}/fruits/", files={k: (None, v) for k, v in form.items()})
    assert created.status_code == 201
    assert [fruit["name"] for fruit in lab.fruits()] == ["Apple", "Kiwi"]


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs)["href"])


def test_media_images_is_listed_as_apache_does(lab):
    for name, size in [("002.jpeg", 12_345), ("001.jpeg", 10), ("my fruit é.jpeg", 1)]:
        assert upload(lab, name, b"x" * size).status_code == 201
    index = requests.get(f"{lab.url}/media/images/", timeout=5)
    assert index.status_code == 200
    assert index.headers["Content-Type"].startswith("text/html")
    assert "<title>Index of /media/images</title>" in index.text
    assert "<h1>Index of /media/images</h1>" in index.text
    assert '<td><a href="001.jpeg">001.jpeg</a></td>' in index.text
    assert '<td align="right"> 12K</td>' in index.text
    parser = Links()
    parser.feed(index.text)
    files = [href for href in parser.links if not href.startswith(("?", "/"))]
    assert files == ["001.jpeg", "002.jpeg", "my_fruit_%C3%A9.jpeg"]  # sorted, URL-quoted
    for href in files:
        head = requests.head(f"{lab.url}/media/images/{href}", timeout=5)
        assert head.status_code == 200
    head = requests.head(f"{lab.url}/media/images/002.jpeg", timeout=5)
    assert head.headers["Content-Length"] == "12345"
    assert requests.head(f"{lab.url}/media/images/003.jpeg", timeout=5).status_code == 404
    moved = requests.get(f"{lab.url}/media/images", timeout=5, allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"] == "/media/images/"


def test_no_media_index_answers_403_as_apache_without_indexes(start_lab):
    lab = start_lab(no_media_index=True)
    assert upload(lab, "001.jpeg").status_code == 201
    answer = requests.get(f"{lab.url}/media/images/", timeout=5)
    assert answer.status_code == 403
    assert "<title>403 Forbidden</title>" in answer.text
    assert "001.jpeg" not in answer.text
    assert requests.get(f"{lab.url}/media/images/001.jpeg", timeout=5).content == b"x"


FEEDBACK = {"title": "Great", "name": "John", "date": "2026-03-01", "feedback": "Very good."}


def test_feedback_is_created_and_listed(lab):
    assert requests.get(f"{lab.url}/feedback/", timeout=5).json() == []
    first = requests.post(f"{lab.url}/feedback/", json=FEEDBACK, timeout=5)
    assert first.status_code == 201
    assert first.json() == {"id": 1, **FEEDBACK}
    second = {**FEEDBACK, "title": "", "name": "", "feedback": "Très bien, José."}
    assert requests.post(f"{lab.url}/feedback/", json=second, timeout=5).status_code == 201
    listed = requests.get(f"{lab.url}/feedback/", timeout=5).json()
    assert listed == [{"id": 1, **FEEDBACK}, {"id": 2, **second}]  # oldest first
    page = requests.get(f"{lab.url}/reviews/", timeout=5)
    assert page.status_code == 200
    assert "<h2>Great</h2>" in page.text and "John, 2026-03-01" in page.text
    assert "Très bien, José." in page.text
    html = requests.get(f"{lab.url}/feedback/", headers={"Accept": "text/html"}, timeout=5)
    assert "Django REST framework" in html.text and 'name="feedback"' in html.text


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"date": None}, {"date": ["This field may not be null."]}),
        ({"date": "21/11/2026"}, {"date": ["Date has wrong format. Use one of these formats "
                                           "instead: YYYY-MM-DD."]}),
        ({"feedback": ""}, {"feedback": ["This field may not be blank."]}),
        ({"feedback": "x" * 1001}, {"feedback": ["Ensure this field has no more than 1000 "
                                                 "characters."]}),
        ({"title": "x" * 101}, {"title": ["Ensure this field has no more than 100 characters."]}),
    ],
)  # fmt: skip
def test_invalid_feedback_is_refused_with_field_errors(lab, change, errors):
    answer = requests.post(f"{lab.url}/feedback/", json={**FEEDBACK, **change}, timeout=5)
    assert answer.status_code == 400
    assert answer.json() == errors
    assert requests.get(f"{lab.url}/feedback/", timeout=5).json() == []


def test_faults_reach_the_new_endpoints_but_not_the_lab_paths(start_lab):
    lab = start_lab(fail_rate=1)
    for method, path in [("post", "/feedback/"), ("get", "/media/images/"), ("get", "/reviews/")]:
        assert getattr(requests, method)(f"{lab.url}{path}", timeout=5).status_code == 503
    assert requests.get(f"{lab.url}/_lab/requests/", timeout=5).status_code == 200
    lab.set_faults(fail_rate=0, drop_rate=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(f"{lab.url}/feedback/", json=FEEDBACK, timeout=5)
    assert requests.get(f"{lab.url}/feedback/", timeout=5).json() == [{"id": 1, **FEEDBACK}]
    faults = [(r["path"], r["fault"]) for r in lab.requests()]
    assert faults[:3] == [("/feedback/", "503"), ("/media/images/", "503"), ("/reviews/", "503")]
    assert ("/feedback/", "drop") in faults


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


def test_make_data_feedback_writes_sample_reviews(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "lab", "make-data", str(tmp_path / "feedback"), "--feedback",
         "--count", "3"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "wrote 3 reviews" in done.stdout
    files = sorted((tmp_path / "feedback").iterdir())
    assert [p.name for p in files] == ["001.txt", "002.txt", "003.txt"]
    lines = [p.read_text(encoding="utf-8").splitlines() for p in files]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text[2]) and text[3] for text in lines)
    assert any(not "".join(text).isascii() for text in lines)


def test_help_names_the_lab_flags():
    serve = subprocess.run([sys.executable, "-m", "lab", "serve", "--help"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "--lang-c" in serve and "LAB_LANG_C" in serve
    assert "--no-media-index" in serve and "LAB_NO_MEDIA_INDEX" in serve
    data = subprocess.run([sys.executable, "-m", "lab", "make-data", "--help"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "--feedback" in data


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
