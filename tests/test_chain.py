"""The whole chain on generated supplier data, as the course's lab runs it, against the lab."""

import io
from html.parser import HTMLParser

import pytest
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
    assert sorted(page.images) == sorted(f"/media/images/{f['image_name']}" for f in fruits)
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
    env["XDG_STATE_HOME"] = str(tmp_path / "state")  # report_email.py's, not the user's
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


# --- odd names and a second delivery, on the course's own server --------------------------

LONG_STEM = "x" * 96  # images/ + the name would be over the server's 100 characters


def deliver(folder, fruits: dict[str, tuple[str, str, tuple[int, int, int]]]):
    """A supplier drop: for each file stem, a TIFF of one colour and a description."""
    (folder / "images").mkdir(parents=True)
    (folder / "descriptions").mkdir()
    for stem, (name, description, colour) in fruits.items():
        Image.new("RGBA", (300, 200), (*colour, 255)).save(folder / "images" / f"{stem}.tif")
        text = f"{name}\n100 lbs\n{description}\n"
        (folder / "descriptions" / f"{stem}.txt").write_text(text, encoding="utf-8")
    return folder


def run_whole_chain(run_script, env) -> str:
    """Every step once, whatever each says; their stderr, for the files they name."""
    said = ""
    for script in STEPS:
        result = run_script(script, env=env)
        assert "Traceback" not in result.stderr, result.stderr
        said += result.stderr
    return said


def served(lab, image_name: str) -> bytes:
    answer = requests.get(f"{lab.url}/media/images/{image_name}", timeout=10)
    assert answer.status_code == 200
    return answer.content


@pytest.mark.parametrize("lang_c", [False, True])
def test_odd_names_and_a_second_delivery_twice(start_lab, run_script, tmp_path, lang_c):
    lab = start_lab(lang_c=lang_c)
    first = deliver(
        tmp_path / "first",
        {
            "001": ("Apple", "Crisp.", (200, 20, 20)),
            "my fruit": ("Kiwi", "Fuzzy.", (20, 200, 20)),
            "fraîse des bois": ("Fraise des bois", "Small.", (250, 120, 160)),
            LONG_STEM: ("Long name", "Long.", (230, 230, 20)),
            "blank": ("Blank", "", (90, 90, 90)),
        },
    )
    # A second delivery reuses 001 for another fruit.
    second = deliver(
        tmp_path / "second",
        {"001": ("Banana", "Yellow.", (20, 20, 200)), "002": ("Cherry", "Red.", (120, 0, 30))},
    )
    said = ""
    for drop in (first, first, second, second):
        said += run_whole_chain(run_script, lab.env | {"SUPPLIER_DATA": str(drop)})

    fruits = lab.fruits()
    names = sorted(fruit["name"] for fruit in fruits)
    assert names == ["Apple", "Cherry", "Fraise des bois", "Kiwi", "Long name"]
    own = {
        "Apple": first / "images/001.jpeg",
        "Kiwi": first / "images/my_fruit.jpeg",
        "Fraise des bois": first / "images/fraise_des_bois.jpeg",
        "Long name": first / "images" / ("x" * 88 + ".jpeg"),
        "Cherry": second / "images/002.jpeg",
    }
    for fruit in fruits:
        # Its picture is exactly the JPEG made from its own TIFF.
        assert served(lab, fruit["image_name"]) == own[fruit["name"]].read_bytes()
        assert Image.open(own[fruit["name"]]).size == (600, 400)
    # No image stored twice: no name with Django's random suffix, no two alike.
    stored = lab.images()
    assert sorted(stored) == sorted(
        ["001.jpeg", "002.jpeg", "blank.jpeg", "fraise_des_bois.jpeg", "my_fruit.jpeg"]
        + ["x" * 88 + ".jpeg"]
    )
    assert len({(lab.media_images / name).read_bytes() for name in stored}) == len(stored)
    # Every refused file is named with the reason.
    assert f"{first}/descriptions/blank.txt:3: the description is blank" in said
    assert f"{second}/images/001.jpeg: the server has a different 001.jpeg" in said
    assert (
        f"{second}/descriptions/001.txt: not sent: the catalog has another fruit with 001.jpeg "
        "(Apple, " in said
    )
