"""report_email.py run as a user runs it, against the lab's real catalog and mail server."""

import datetime
import getpass
import json
import os
import re
import shutil
import socket
import subprocess

import pytest
import requests
from PIL import Image
from pypdf import PdfReader

import reports
from reports import report_title
from supplier_data import read_descriptions
from tests.conftest import start, wait_for

GOOD, BAD = "Good-Password-1", "Bad-Password-2"
SUBJECT = "Upload Completed - Online Fruit Store"
COURSE_BODY = (
    "All fruits are uploaded to our website successfully. "
    "A detailed list is attached to this email."
)
FRUITS = {
    "001.txt": "Watermelon\n500 lbs\nLarge and green.\n",
    "002.txt": "Açaí\nWeight: 100 lbs\nSmall and purple.\n",
    "003.txt": "Lime\n210 lbs\nSmall and sour.\n",
}


@pytest.fixture
def mail_lab(start_lab):
    """The lab's mail server alone: for --from-files, which needs no catalog."""
    return start_lab(no_http=True)


def script_env(lab, data, tmp_path, **extra) -> dict:
    env = lab.env if lab else {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
    env.update(SUPPLIER_DATA=str(data), REPORT_PDF=str(tmp_path / "processed.pdf"))
    env["XDG_STATE_HOME"] = str(tmp_path / "state")  # never the user's own state
    env.pop("SSL_CERT_FILE", None)
    env.pop("REPORT_FONT", None)
    env.update({name: str(value) for name, value in extra.items()})
    return env


def write_drop(tmp_path, texts: dict[str, str]):
    """A supplier drop with these description files (and an empty images/)."""
    data = tmp_path / "supplier-data"
    (data / "descriptions").mkdir(parents=True)
    (data / "images").mkdir()
    for name, text in texts.items():
        (data / "descriptions" / name).write_text(text, encoding="utf-8")
    return data


def upload_pictures(lab, data, files) -> None:
    """A small JPEG per description file in images/, uploaded under its catalog name, as
    changeImage.py and supplier_image_upload.py would."""
    fruits = {f.path.name: f for f in read_descriptions(data / "descriptions")[0]}
    for number, name in enumerate(files):
        picture = data / "images" / fruits[name].image_name
        Image.new("RGB", (30 + number, 20), (0, 100, 200)).save(picture)
        with picture.open("rb") as image:
            answer = requests.post(f"{lab.url}/upload/", files={"file": image}, timeout=10)
        assert answer.status_code == 201


def post_fruits(lab, data, files, **changes) -> None:
    """The fruits of these description files POSTed to the catalog as run.py sends them."""
    fruits = {f.path.name: f for f in read_descriptions(data / "descriptions")[0]}
    for name in files:
        answer = requests.post(
            f"{lab.url}/fruits/", json=fruits[name].as_json() | changes, timeout=10
        )
        assert answer.status_code == 201, answer.text


def import_all(lab, data) -> None:
    files = sorted(p.name for p in (data / "descriptions").iterdir())
    upload_pictures(lab, data, files)
    post_fruits(lab, data, files)


def body_of(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def pdf_lines(path) -> list[str]:
    return [
        line.strip() for page in PdfReader(path).pages for line in page.extract_text().splitlines()
    ]


def listed_fruits(path) -> list[tuple[str, str]]:
    """The ``name: X`` / ``weight: N lbs`` pairs of the PDF's list of fruits imported."""
    lines = pdf_lines(path)
    lines = lines[lines.index("Fruits imported") + 1 :]
    return [(line, lines[at + 1]) for at, line in enumerate(lines) if line.startswith("name: ")]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_report_sent(lab, run_script, tmp_path):
    data = write_drop(tmp_path, FRUITS)
    import_all(lab, data)

    result = run_script("report_email.py", env=script_env(lab, data, tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "3 description files done, 0 skipped, 0 failed" in result.stderr
    [message] = lab.messages()
    assert message["From"] == "automation@example.com"
    assert message["To"] == f"{getpass.getuser()}@example.com"
    assert message["Subject"] == SUBJECT
    assert body_of(message) == f"{COURSE_BODY}\n\nTotal weight: 810 lbs\n"
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "processed.pdf"
    assert attachment.get_content_type() == "application/pdf"
    pdf = tmp_path / "processed.pdf"
    assert attachment.get_payload(decode=True) == pdf.read_bytes()

    lines = pdf_lines(pdf)
    assert lines[0] == report_title(datetime.date.today())
    assert "3 fruits imported. Total weight: 810 lbs" in lines
    assert listed_fruits(pdf) == [
        ("name: Watermelon", "weight: 500 lbs"),
        ("name: Açaí", "weight: 100 lbs"),
        ("name: Lime", "weight: 210 lbs"),
    ]
    state = json.loads((tmp_path / "state" / "fruit-store" / "report_email.json").read_text())
    [remembered] = state["reports"].values()
    assert set(remembered) == {"digest", "sent"}


def test_unsent_and_invalid_files_are_named_and_only_the_catalog_is_listed(
    lab, run_script, tmp_path
):
    data = write_drop(
        tmp_path,
        FRUITS | {"004.txt": "Kiwi\nheavy\nGreen.\n", "005.txt": "Fig\n5 lbs\n\n"},
    )
    upload_pictures(lab, data, ["001.txt", "002.txt", "003.txt"])
    post_fruits(lab, data, ["001.txt"])
    # The catalog's weight is the one listed, and the difference is said.
    post_fruits(lab, data, ["002.txt"], weight=120)
    # Another drop's fruit is in the catalog too: not this drop's, not in its report.
    requests.post(
        f"{lab.url}/fruits/",
        json={"name": "Mango", "weight": 7, "description": "Sweet.", "image_name": "m.jpeg"},
        timeout=10,
    ).raise_for_status()

    result = run_script("report_email.py", env=script_env(lab, data, tmp_path))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    folder = data / "descriptions"
    assert f"{folder}/003.txt: the catalog does not have Lime: run run.py" in result.stderr
    assert f"{folder}/004.txt:2: weight 'heavy'" in result.stderr
    assert f"{folder}/005.txt:3: the description is blank" in result.stderr
    assert (
        f"{folder}/002.txt: the catalog's Açaí (120 lbs) is not as this file says now (change it "
        "in the catalog if the file is right)" in result.stderr
    )
    assert "1 description files done, 0 skipped, 4 failed" in result.stderr
    [message] = lab.messages()
    body = body_of(message)
    assert "All fruits" not in body  # it would not be true
    assert body.startswith(
        "2 of 5 fruits were imported to our website; 3 description files were not and 1 file "
        "says otherwise now (listed below).\nA detailed list is attached to this email.\n\n"
        "Total weight: 620 lbs\n\nNot imported:\n"
        "003.txt: the catalog does not have Lime: run run.py (it says why if it refuses it)\n"
        "004.txt:2: weight 'heavy' is not a whole number of pounds"
    )
    assert "\n005.txt:3: the description is blank" in body
    assert body.endswith(
        "\n\nImported, but not as the file says now:\n002.txt: the catalog's Açaí (120 lbs) is "
        "not as this file says now (change it in the catalog if the file is right)\n"
    )

    pdf = tmp_path / "processed.pdf"
    assert listed_fruits(pdf) == [
        ("name: Watermelon", "weight: 500 lbs"),
        ("name: Açaí", "weight: 120 lbs"),
    ]
    text = " ".join(pdf_lines(pdf))
    assert "2 of 5 fruits imported. Total weight: 620 lbs" in text
    assert "3 files not imported" in text
    assert "003.txt: the catalog does not have Lime" in text
    assert "004.txt:2: weight 'heavy' is not a whole number of pounds" in text
    assert "Mango" not in text and "name: Lime" not in text


def test_catalog_down_sends_nothing(mail_lab, run_script, tmp_path):
    data = write_drop(tmp_path, FRUITS)
    url = f"http://127.0.0.1:{closed_port()}"
    env = script_env(mail_lab, data, tmp_path, CATALOG_URL=url)

    result = run_script("report_email.py", env=env)

    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"cannot reach the catalog at {url}/fruits/: connection failed")
    assert line.endswith("nothing sent (--from-files reports the files as they are)")
    assert mail_lab.messages() == [] and mail_lab.smtp_events() == []
    assert not (tmp_path / "processed.pdf").exists()


def test_from_files_reports_the_files_as_the_course_does(mail_lab, run_script, tmp_path):
    data = write_drop(tmp_path, FRUITS)
    env = script_env(mail_lab, data, tmp_path, CATALOG_URL=f"http://127.0.0.1:{closed_port()}")

    result = run_script("report_email.py", "--from-files", env=env)

    assert result.returncode == 0, result.stderr
    [message] = mail_lab.messages()
    assert body_of(message) == f"{COURSE_BODY}\n\nTotal weight: 810 lbs\n"
    assert len(listed_fruits(tmp_path / "processed.pdf")) == 3


def test_the_same_report_is_sent_once_and_a_change_sends_a_new_one(lab, run_script, tmp_path):
    data = write_drop(tmp_path, FRUITS)
    upload_pictures(lab, data, ["001.txt", "002.txt", "003.txt"])
    post_fruits(lab, data, ["001.txt", "002.txt"])
    env = script_env(lab, data, tmp_path)

    dry = run_script("report_email.py", "--dry-run", "-q", env=env)
    assert dry.returncode == 1 and "2 of 3 fruits were imported" in dry.stdout
    first = run_script("report_email.py", env=env)  # a dry run remembered nothing
    assert first.returncode == 1
    second = run_script("report_email.py", env=env)
    assert second.returncode == 0, second.stderr
    assert second.stderr.startswith("already reported on ")
    assert second.stderr.endswith("; use --force to send again\n")
    assert len(second.stderr.splitlines()) == 1
    [message] = lab.messages()
    assert "2 of 3 fruits were imported" in body_of(message)

    # run.py sends the missing fruit: the report changed, and now says all are uploaded.
    sent = run_script("run.py", env=env)
    assert sent.returncode == 0, sent.stderr
    third = run_script("report_email.py", env=env)
    assert third.returncode == 0, third.stderr
    assert len(lab.messages()) == 2
    assert body_of(lab.messages()[1]) == f"{COURSE_BODY}\n\nTotal weight: 810 lbs\n"
    assert run_script("report_email.py", "-q", env=env).stderr == ""
    assert len(run_script("report_email.py", "--force", env=env).stderr) > 0
    assert len(lab.messages()) == 3


@pytest.mark.parametrize("listing", [True, False], ids=["listing", "no listing"])
def test_missing_picture_is_marked(listing, start_lab, run_script, tmp_path):
    lab = start_lab(no_media_index=not listing)
    data = write_drop(tmp_path, FRUITS)
    upload_pictures(lab, data, ["001.txt", "002.txt"])
    post_fruits(lab, data, ["001.txt", "002.txt", "003.txt"])  # Lime's picture never uploaded

    result = run_script("report_email.py", env=script_env(lab, data, tmp_path))

    assert result.returncode == 1
    assert "003.txt: Lime is imported, but its picture 003.jpeg is missing" in result.stderr
    body = body_of(lab.messages()[0])
    assert body.startswith(
        "3 of 3 fruits were imported to our website; 1 picture is missing on the server"
    )
    assert "003.txt: Lime (003.jpeg): run supplier_image_upload.py" in body
    lines = pdf_lines(tmp_path / "processed.pdf")
    at = lines.index("name: Lime")
    assert lines[at : at + 3] == ["name: Lime", "weight: 210 lbs", "picture: missing on the server"]
    assert lines[lines.index("name: Watermelon") + 2] != "picture: missing on the server"
    assert "1 picture missing on the server (marked below)" in " ".join(lines)


def fonts_showing_text(page) -> set[str]:
    """The fonts (base names) that draw text on ``page``: the font set when each string is shown."""
    names = {
        key: font.get_object()["/BaseFont"] for key, font in page["/Resources"]["/Font"].items()
    }
    content = page.get_contents().get_data().decode("latin-1")
    used, current = set(), None
    for match in re.finditer(r"(/\S+) [\d.]+ Tf|\) Tj|> Tj|\] TJ", content):
        if match[1]:
            current = names[match[1]]
        else:
            used.add(current)
    return used


def has_font(*names: str) -> bool:
    return any(name in reports._installed_fonts() for name in names)


@pytest.mark.skipif(
    not has_font("DejaVuSans.ttf"), reason="DejaVu Sans not installed (fonts-dejavu-core)"
)
def test_names_in_any_alphabet_are_drawn_as_text(lab, run_script, tmp_path):
    names = ["Клубника", "Φράουλα", "Fraise des bois à la crème brûlée", "Çilek ğış"]
    texts = {f"{n:03d}.txt": f"{name}\n{n} lbs\nRed.\n" for n, name in enumerate(names, 1)}
    data = write_drop(tmp_path, texts)
    import_all(lab, data)

    result = run_script("report_email.py", env=script_env(lab, data, tmp_path))

    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr.lower() and "boxes" not in result.stderr
    pdf = tmp_path / "processed.pdf"
    assert [name for name, _ in listed_fruits(pdf)] == [f"name: {name}" for name in names]
    lines = pdf_lines(pdf)
    chart = lines[lines.index("Weight per fruit (lbs)") : lines.index("Fruits imported")]
    assert all(name[: reports.LABEL_MAX - 1] in " ".join(chart) for name in names)
    fonts = fonts_showing_text(PdfReader(pdf).pages[0])
    assert fonts and all("DejaVuSans" in font for font in fonts), fonts
    if shutil.which("pdftoppm"):  # a page a person can look at (not asserted: looked at)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", pdf, tmp_path / "page"]
        )


@pytest.mark.skipif(
    not has_font("wqy-microhei.ttc", "wqy-zenhei.ttc", "DroidSansFallbackFull.ttf", "uming.ttc"),
    reason="no TrueType CJK font (fonts-wqy-microhei; Noto CJK is CFF: ReportLab cannot embed it)",
)
def test_chinese_names_render_with_a_cjk_font(lab, run_script, tmp_path):
    data = write_drop(
        tmp_path, {"001.txt": "草莓\n3 lbs\nRed.\n", "002.txt": "Lime\n2 lbs\nSour.\n"}
    )
    import_all(lab, data)

    result = run_script("report_email.py", env=script_env(lab, data, tmp_path))

    assert result.returncode == 0, result.stderr
    assert "boxes" not in result.stderr
    assert listed_fruits(tmp_path / "processed.pdf") == [
        ("name: 草莓", "weight: 3 lbs"),
        ("name: Lime", "weight: 2 lbs"),
    ]


def test_letters_no_font_has_are_said_in_one_line(lab, run_script, tmp_path):
    name = "Scarab \U000130a3 fruit"  # an Egyptian hieroglyph: in no common font
    if not reports.missing_letters(name):
        pytest.skip("a font with Egyptian hieroglyphs is installed")
    data = write_drop(tmp_path, {"001.txt": f"{name}\n3 lbs\nOld.\n"})
    import_all(lab, data)

    result = run_script("report_email.py", env=script_env(lab, data, tmp_path))

    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stderr.splitlines() if "boxes" in line]
    assert line.startswith("001.txt: the PDF's fonts have no letters for '\U000130a3'")
    # Not "install fonts-wqy-microhei" when it is installed: no font here has them.
    assert line.endswith(f"({reports.missing_letters_hint()})")
    if reports.font_for("中文").regular != reports.text_font().regular:
        assert "no font installed has them" in line
    assert len(lab.messages()) == 1


def test_a_bad_report_font_is_a_usage_error(lab, run_script, tmp_path):
    data = write_drop(tmp_path, FRUITS)
    import_all(lab, data)
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_text("hello")

    result = run_script(
        "report_email.py", env=script_env(lab, data, tmp_path, REPORT_FONT=not_a_font)
    )

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{not_a_font}: cannot use it as the report's font")
    assert lab.messages() == []


def test_dry_run_sends_nothing_and_remembers_nothing(lab, run_script, tmp_path):
    data = write_drop(tmp_path, FRUITS)
    import_all(lab, data)
    env = script_env(lab, data, tmp_path, MAIL_TO="supplier@example.com")

    result = run_script("report_email.py", "--dry-run", env=env)

    assert result.returncode == 0, result.stderr
    assert lab.messages() == [] and lab.smtp_events() == []
    pdf = tmp_path / "processed.pdf"
    assert result.stdout.startswith(
        f"From: automation@example.com\nTo: supplier@example.com\nSubject: {SUBJECT}\nDate: "
    )
    assert f"\n\n{COURSE_BODY}\n\nTotal weight: 810 lbs\n" in result.stdout
    assert result.stdout.endswith(
        f"[attachment: processed.pdf, application/pdf, {pdf.stat().st_size} bytes]\n"
    )
    assert "JVBERi" not in result.stdout  # the PDF is summarized, not printed as base64
    assert not (tmp_path / "state" / "fruit-store" / "report_email.json").exists()


def test_flags_win_over_environment(mail_lab, run_script, tmp_path):
    data = write_drop(tmp_path, FRUITS)
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
        "--state", tmp_path / "sent.json",
        "--from-files",
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
    assert (tmp_path / "sent.json").exists() and not (
        tmp_path / "state" / "fruit-store" / "report_email.json"
    ).exists()


def test_missing_folder_is_a_usage_error(mail_lab, run_script, tmp_path):
    result = run_script("report_email.py", env=script_env(mail_lab, tmp_path / "nowhere", tmp_path))
    assert result.returncode == 2
    assert (
        result.stderr == f"{tmp_path}/nowhere/descriptions: no such folder of description files\n"
    )
    assert mail_lab.smtp_events() == []


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
    "recipients not separated by commas": (
        {},
        {"MAIL_TO": "a@example.com;b@example.com"},
        2,
        "MAIL_TO / --to 'a@example.com;b@example.com' is not a list of addresses",
    ),
    "a host name no resolver takes": (
        {},
        {"SMTP_HOST": "mail..example.com"},
        2,
        "SMTP_HOST='mail..example.com' is not a host name",
    ),
}


@pytest.mark.parametrize("case", FAILURES)
def test_mail_failures_give_one_line(case, start_lab, run_script, tmp_path):
    options, extra, status, says = FAILURES[case]
    lab = start_lab(no_http=True, **options) if options is not None else None
    data = write_drop(tmp_path, FRUITS)
    env = script_env(lab, data, tmp_path, **extra)
    if lab is None:
        env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(closed_port()))
    if env.pop("TLS", None):
        env["SSL_CERT_FILE"] = str(lab.state / "smtp-cert.pem")

    result = run_script("report_email.py", "--from-files", env=env)

    assert result.returncode == status
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if says in line]
    assert GOOD not in result.stderr and BAD not in result.stderr  # no password shown
    if lab is not None:
        assert lab.messages() == []
    if status == 2:  # a configuration error: nothing was done
        assert not (tmp_path / "processed.pdf").exists()
        assert lab is None or lab.smtp_events() == []
    if status == 1:  # not sent: a summary that does not read as success
        assert result.stderr.endswith("0 description files done, 0 skipped, 3 failed\n")
    assert not (
        tmp_path / "state" / "fruit-store" / "report_email.json"
    ).exists()  # not sent: not remembered


def test_login_over_starttls(start_lab, run_script, tmp_path):
    lab = start_lab(no_http=True, smtp_auth="user:" + GOOD, smtp_tls=True)
    env = script_env(
        lab,
        write_drop(tmp_path, FRUITS),
        tmp_path,
        SMTP_SECURITY="starttls",
        SMTP_USER="user",
        SMTP_PASSWORD=GOOD,
        SSL_CERT_FILE=lab.state / "smtp-cert.pem",
    )

    result = run_script("report_email.py", "--from-files", env=env)

    assert result.returncode == 0, result.stderr
    auth = [event for event in lab.smtp_events() if event["event"] == "auth"]
    assert [(event["success"], event["tls"]) for event in auth] == [(True, True)]
    [message] = lab.messages()
    assert message["Subject"] == SUBJECT


def test_a_fifo_as_the_state_is_one_line_and_sends_nothing(mail_lab, run_script, tmp_path):
    data = write_drop(tmp_path, {"001.txt": "Lime\n210 lbs\nGreen.\n"})
    fifo = tmp_path / "state.json"
    os.mkfifo(fifo)
    env = script_env(mail_lab, data, tmp_path)
    result = run_script("report_email.py", "--from-files", "--state", fifo, env=env, timeout=20)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{fifo}: not a regular file" in result.stderr
    assert mail_lab.messages() == []


def test_a_folder_as_the_state_is_one_line_and_sends_nothing(mail_lab, run_script, tmp_path):
    data = write_drop(tmp_path, {"001.txt": "Lime\n210 lbs\nGreen.\n"})
    folder = tmp_path / "state-folder"
    folder.mkdir()
    env = script_env(mail_lab, data, tmp_path)
    for _run in range(2):
        result = run_script("report_email.py", "--from-files", "--state", folder, env=env)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert f"{folder}: not a regular file (a folder," in result.stderr
    assert mail_lab.messages() == []


def test_a_report_some_recipients_refused_is_sent_once(start_lab, run_script, tmp_path):
    lab = start_lab(no_http=True, smtp_reject=["nobody@example.com"])
    data = write_drop(tmp_path, {"001.txt": "Lime\n210 lbs\nGreen.\n"})
    env = script_env(lab, data, tmp_path, MAIL_TO="student@example.com, nobody@example.com")

    first = run_script("report_email.py", "--from-files", env=env)
    second = run_script("report_email.py", "--from-files", env=env)

    assert first.returncode == 1
    assert "Traceback" not in first.stderr
    [line] = [line for line in first.stderr.splitlines() if "nobody@example.com" in line]
    assert line.startswith("sent, but the mail server ")
    assert "refused the recipient nobody@example.com (550" in line
    assert second.returncode == 0 and second.stderr.startswith("already reported on ")
    delivered = [event for event in lab.smtp_events() if event["event"] == "delivered"]
    assert [event["rcpt_tos"] for event in delivered] == [["student@example.com"]]


def test_two_runs_to_different_pdfs_send_the_report_once(start_lab, run_script, tmp_path):
    # The lock was on the PDF only: both runs read the state before either wrote it.
    lab = start_lab(delay=0.5)
    env = script_env(lab, write_drop(tmp_path, FRUITS), tmp_path)
    first = start("report_email.py", "--pdf", tmp_path / "a.pdf", env=env, cwd=tmp_path)
    # It holds its locks and reads the catalog.
    wait_for(lambda: lab.requests() or first.poll() is not None)
    assert first.poll() is None
    second = run_script("report_email.py", "--pdf", tmp_path / "b.pdf", env=env)
    first.communicate(timeout=60)

    assert second.returncode == 75
    assert second.stderr.startswith("another report_email.py is working on ")
    assert first.returncode == 1  # sent: a report of nothing imported yet
    assert len(lab.messages()) == 1
    assert not (tmp_path / "b.pdf").exists()


def test_a_file_renamed_after_it_was_sent_is_reported_not_imported(lab, run_script, tmp_path):
    # run.py refuses to send it (the catalog would show two fruits with one picture): the
    # report says so, rather than "the catalog does not have it: run run.py".
    data = write_drop(tmp_path, FRUITS)
    import_all(lab, data)
    changed = data / "descriptions" / "002.txt"
    old = changed.read_text(encoding="utf-8").splitlines()[0]
    changed.write_text("Acai berry\n100 lbs\nRenamed.\n", encoding="utf-8")

    result = run_script("report_email.py", env=script_env(lab, data, tmp_path))

    assert result.returncode == 1
    [line] = [line for line in result.stderr.splitlines() if "002.txt" in line]
    assert line.startswith(f"{changed}: the catalog has another fruit with 002.jpeg ({old}, ")
    [message] = lab.messages()
    assert "002.txt: the catalog has another fruit with 002.jpeg" in body_of(message)
    text = " ".join(pdf_lines(tmp_path / "processed.pdf"))
    assert f"{len(FRUITS) - 1} of {len(FRUITS)} fruits imported" in text


def test_a_file_changed_after_it_was_sent_is_not_reported_as_all_uploaded(
    lab, run_script, tmp_path
):
    # The catalog keeps the weight first sent (its API cannot change a row): the supplier
    # must not read "All fruits are uploaded" about a file that now says otherwise.
    data = write_drop(tmp_path, FRUITS)
    import_all(lab, data)
    changed = data / "descriptions" / "002.txt"
    changed.write_text("Açaí\n999 lbs\nSmall and purple.\n", encoding="utf-8")  # was 100 lbs

    result = run_script("report_email.py", env=script_env(lab, data, tmp_path))

    assert result.returncode == 1
    why = (
        "002.txt: the catalog's Açaí (100 lbs) is not as this file says now (change it in the "
        "catalog if the file is right)"
    )
    assert f"{changed.parent}/{why}" in result.stderr.splitlines()
    assert "2 description files done, 0 skipped, 1 failed" in result.stderr
    [message] = lab.messages()
    body = body_of(message)
    assert "All fruits are uploaded" not in body
    assert body.startswith("3 of 3 fruits were imported to our website; 1 file says otherwise")
    assert body.endswith(f"Imported, but not as the file says now:\n{why}\n")
    assert ("name: Açaí", "weight: 100 lbs") in listed_fruits(tmp_path / "processed.pdf")
