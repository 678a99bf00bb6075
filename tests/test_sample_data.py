"""Tests for lab.sample_data: the generated supplier drop looks like the real one."""

from pathlib import Path

import pytest
from PIL import Image

from lab.sample_data import FRUITS, SampleFruit, file_stem, make_data, make_feedback

MB = 1_000_000


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> list[SampleFruit]:
    """Three files generated once for the whole module (images are slow-ish)."""
    return make_data(tmp_path_factory.mktemp("three"), count=3, seed=0)


def _texts(fruits: list[SampleFruit]) -> list[str]:
    return [f.description_path.read_bytes().decode("utf-8") for f in fruits]


def test_layout(three: list[SampleFruit]) -> None:
    dest = three[0].image_path.parent.parent
    assert sorted(p.name for p in (dest / "images").iterdir()) == ["001.tif", "002.tif", "003.tif"]
    assert sorted(p.name for p in (dest / "descriptions").iterdir()) == [
        "001.txt",
        "002.txt",
        "003.txt",
    ]
    assert [f.stem for f in three] == ["001", "002", "003"]
    assert [f.description_path for f in three] == [
        dest / "descriptions" / f"{f.stem}.txt" for f in three
    ]


def test_images_are_large_lzw_rgba_tiffs(three: list[SampleFruit]) -> None:
    for fruit in three:
        assert 2 * MB <= fruit.image_path.stat().st_size <= 4 * MB
        with Image.open(fruit.image_path) as im:
            assert im.format == "TIFF"
            assert im.size == (3000, 2000)
            assert im.mode == "RGBA"
            assert im.info["compression"] == "tiff_lzw"


def test_images_have_transparent_black_area(three: list[SampleFruit]) -> None:
    for fruit in three:
        with Image.open(fruit.image_path) as im:
            im.load()
        alpha = im.getchannel("A")
        histogram = alpha.histogram()
        assert histogram[0] > 0, "some pixels are fully transparent"
        assert histogram[255] > 0, "some pixels are opaque"
        assert im.getpixel((0, 0)) == (0, 0, 0, 0)
        # Every fully transparent pixel has black colour channels.
        transparent = alpha.point(lambda a: 255 if a == 0 else 0)
        under = Image.new("RGB", im.size)
        under.paste(im.convert("RGB"), mask=transparent)
        assert under.getbbox() is None


def test_images_are_not_flat(three: list[SampleFruit]) -> None:
    """The noise makes the opaque part photo-like: many distinct colours."""
    with Image.open(three[0].image_path) as im:
        crop = im.convert("RGB").crop((1000, 200, 1300, 500))
    assert len(crop.getcolors(maxcolors=100_000) or []) > 10


def test_descriptions_name_weight_and_text(three: list[SampleFruit]) -> None:
    names = {fruit.name for fruit in FRUITS}
    for fruit, text in zip(three, _texts(three), strict=True):
        lines = text.splitlines()
        assert lines[0].rstrip() == fruit.name
        assert fruit.name in names
        assert lines[1].strip() in (f"{fruit.weight} lbs", f"Weight: {fruit.weight} lbs")
        assert len(lines) >= 3
        assert " ".join(line.strip() for line in lines[2:]) == fruit.description


def test_descriptions_have_real_world_variations(three: list[SampleFruit]) -> None:
    texts = _texts(three)
    weight_lines = [text.splitlines()[1].strip() for text in texts]
    assert any(line.startswith("Weight: ") for line in weight_lines)
    assert any(not line.startswith("Weight: ") for line in weight_lines)
    assert any(line != line.rstrip() for text in texts for line in text.split("\n"))
    assert any(not text.endswith("\n") for text in texts)
    assert any(text.endswith("\n") for text in texts)
    assert any("\u2019" in text for text in texts)
    assert any(text.startswith("Açaí") for text in texts)
    assert any(len(text.splitlines()) > 3 for text in texts), "a wrapped description"


def test_same_seed_gives_identical_files(three: list[SampleFruit], tmp_path: Path) -> None:
    again = make_data(tmp_path, count=3, seed=0)
    assert [(f.stem, f.name, f.weight, f.description) for f in again] == [
        (f.stem, f.name, f.weight, f.description) for f in three
    ]
    for old, new in zip(three, again, strict=True):
        assert old.description_path.read_bytes() == new.description_path.read_bytes()
        assert old.image_path.read_bytes() == new.image_path.read_bytes()


def test_different_seed_gives_different_content(three: list[SampleFruit], tmp_path: Path) -> None:
    other = make_data(tmp_path, count=3, seed=1)
    assert _texts(other) != _texts(three)
    for old, new in zip(three, other, strict=True):
        assert old.image_path.read_bytes() != new.image_path.read_bytes()


def test_count_12_cycles_variations(tmp_path: Path) -> None:
    fruits = make_data(tmp_path, count=12, seed=5)
    assert [f.stem for f in fruits] == [f"{n:03d}" for n in range(1, 13)]
    assert len({f.name for f in fruits}) == 12, "no fruit repeats before all 20 are used"
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [
        f"{n:03d}.tif" for n in range(1, 13)
    ]
    texts = _texts(fruits)
    # Every run of three consecutive files shows each variation.
    for start in range(len(texts) - 2):
        window = texts[start : start + 3]
        assert any(t.splitlines()[1].startswith("Weight: ") for t in window)
        assert any(not t.endswith("\n") for t in window)
        assert any(line != line.rstrip() for t in window for line in t.split("\n"))
        assert any("\u2019" in t for t in window)
    assert any(text.startswith("Açaí") for text in texts[:3])


def test_file_stem_widens_past_999() -> None:
    assert file_stem(1, 10) == "001"
    assert file_stem(999, 999) == "999"
    assert file_stem(7, 1000) == "0007"
    assert file_stem(1000, 1000) == "1000"


def test_fruit_list() -> None:
    assert len(FRUITS) >= 20
    assert len({fruit.name for fruit in FRUITS}) == len(FRUITS)
    for fruit in FRUITS:
        assert isinstance(fruit.weight, int) and fruit.weight > 0
        assert "'" in fruit.description, "every description can show a typographic apostrophe"
        assert 2 <= fruit.description.count(". ") + 1 <= 4


def test_feedback_reviews_are_four_part_files(tmp_path: Path) -> None:
    reviews = make_feedback(tmp_path / "a", count=10, seed=3)
    assert [r.path.name for r in reviews] == [f"{n:03d}.txt" for n in range(1, 11)]
    for review in reviews:
        lines = review.path.read_text(encoding="utf-8").splitlines()
        assert lines == [review.title, review.name, review.date, review.feedback]
        assert len(review.date) == 10 and review.date[4] == review.date[7] == "-"
    assert not (reviews[1].name + reviews[1].feedback).isascii()
    again = make_feedback(tmp_path / "b", count=10, seed=3)
    assert [r.path.read_bytes() for r in again] == [r.path.read_bytes() for r in reviews]
