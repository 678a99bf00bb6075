"""The whole chain on generated supplier data, as the course's lab runs it, against the lab."""

import io
from html.parser import HTMLParser

import requests
from PIL import Image
from pypdf import PdfReader

STEPS = ["changeImage.py", "supplier_image_upload.py", "run.py"]


class CatalogPage(HTMLParser):
    """The catalog page's image addresses and its text."""

    def __init__(self, html: str):
        super().__init__()
        self.images: list[str] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())


def run_chain(run_script, env) -> None:
    for script in STEPS:
        result = run_script(script, env=env)
        assert result.returncode == 0, f"{script}: {result.stderr}"
        assert "Traceback" not in result.stderr


def test_every_fruit_is_shown_with_its_picture(lab, make_supplier_data, run_script, tmp_path):
    data = make_supplier_data(count=4)
    env = lab.env | {"SUPPLIER_DATA": str(data)}
    run_chain(run_script, env)

    fruits = lab.fruits()
    assert sorted(f["image_name"] for f in fruits) == [
        "001.jpeg",
        "002.jpeg",
        "003.jpeg",
        "004.jpeg",
    ]
    assert lab.images() == ["001.jpeg", "002.jpeg", "003.jpeg", "004.jpeg"]

    page = CatalogPage(requests.get(f"{lab.url}/", timeout=10).text)
    assert sorted(page.images) == [f"/media/images/{f['image_name']}" for f in fruits]
    for fruit in fruits:
        assert fruit["name"] in page.text
        assert f"Weight: {fruit['weight']} lbs" in page.text
    for src in page.images:
        answer = requests.get(f"{lab.url}{src}", timeout=10)
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == "image/jpeg"
        picture = Image.open(io.BytesIO(answer.content))
        assert (picture.format, picture.mode, picture.size) == ("JPEG", "RGB", (600, 400))
        # The supplier's transparent black frame came out white.
        assert min(picture.getpixel((2, 2))) > 240


def test_running_the_chain_again_changes_nothing(lab, make_supplier_data, run_script):
    data = make_supplier_data(count=3)
    env = lab.env | {"SUPPLIER_DATA": str(data)}
    run_chain(run_script, env)
    fruits, images = lab.fruits(), lab.images()
    posts = [r for r in lab.requests() if r["method"] == "POST"]

    run_chain(run_script, env)
    assert lab.fruits() == fruits
    assert lab.images() == images
    assert [r for r in lab.requests() if r["method"] == "POST"] == posts


def test_the_supplier_gets_the_report_of_what_was_imported(
    lab, make_supplier_data, run_script, tmp_path
):
    data = make_supplier_data(count=3)
    pdf = tmp_path / "processed.pdf"
    env = lab.env | {"SUPPLIER_DATA": str(data), "REPORT_PDF": str(pdf)}
    run_chain(run_script, env)
    result = run_script("report_email.py", env=env)
    assert result.returncode == 0, result.stderr

    (message,) = lab.messages()
    assert message["Subject"] == "Upload Completed - Online Fruit Store"
    (attachment,) = message.iter_attachments()
    assert attachment.get_content() == pdf.read_bytes()
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    for fruit in lab.fruits():
        assert f"name: {fruit['name']}" in text
        assert f"weight: {fruit['weight']} lbs" in text
    total = sum(fruit["weight"] for fruit in lab.fruits())
    assert f"Total weight: {total} lbs" in message.get_body(("plain",)).get_content()
