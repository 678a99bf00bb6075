"""The description-file reader of supplier_data: what a supplier writes, what the catalog gets."""

import logging
import os
from pathlib import Path

import pytest

from cli import UsageError
from lab.control import make_sample_data
from lab.sample_data import SampleFruit
from supplier_data import (
    Description,
    DescriptionError,
    parse_weight,
    read_description,
    read_descriptions,
)

WATERMELON = "Watermelons are large vine fruits with a hard green rind."


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def error_of(path: Path) -> DescriptionError:
    with pytest.raises(DescriptionError) as caught:
        read_description(path)
    return caught.value


# --- weights -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["500 lbs", "500lbs", "500 lb", "Weight: 500 lbs", "weight:500 LBS", "500", "  500 lbs  "],
)
def test_weight_forms(text: str) -> None:
    assert parse_weight(text) == 500


def test_weight_zero_is_a_weight() -> None:
    assert parse_weight("0 lbs") == 0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("heavy", "weight 'heavy' is not a whole number of pounds (write it like '500 lbs')"),
        ("-5 lbs", "weight '-5 lbs' is negative (write it like '500 lbs')"),
        ("12.5 lbs", "weight '12.5 lbs' is not a whole number of pounds"),
        ("", "the weight is missing (write it like '500 lbs')"),
        ("Weight:", "the weight is missing"),
        ("5 kg", "weight '5 kg' is not a whole number of pounds"),
        (
            "1,000 lbs",
            "weight '1,000 lbs': write it without the thousands separator, like '1000 lbs'",
        ),  # fmt: skip
        ("12,50 lbs", "weight '12,50 lbs' is not a whole number of pounds"),  # 12.50, in Europe
        ("99999999999 lbs", "is too large"),
        ("9" * 5000 + " lbs", "is too large (at most 2147483647 lbs)"),  # not Python's int limit
    ],
)
def test_bad_weights_are_refused_not_rounded(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_weight(text)
    assert reason in str(caught.value)


# --- one file ------------------------------------------------------------------


def test_reads_the_three_parts(tmp_path: Path) -> None:
    path = write(tmp_path, "010.txt", f"Watermelon\n500 lbs\n{WATERMELON}\n")
    fruit = read_description(path)
    assert fruit == Description(path, "Watermelon", 500, WATERMELON, "010.jpeg")
    assert fruit.as_json() == {
        "name": "Watermelon",
        "weight": 500,
        "description": WATERMELON,
        "image_name": "010.jpeg",
    }


def test_description_lines_are_joined_with_single_spaces(tmp_path: Path) -> None:
    path = write(tmp_path, "001.txt", "Lime\n210 lbs\n  First line.  \n\nSecond   line. \n\n\n")
    assert read_description(path).description == "First line. Second   line."


@pytest.mark.parametrize("text", ["Lime\n210 lbs\n", "Lime\n210 lbs\n  \n\t\n"])
def test_a_blank_description_is_refused_at_line_3(tmp_path: Path, text: str) -> None:
    # The course's server answers 400 "This field may not be blank." for it.
    with pytest.raises(DescriptionError, match=r"001.txt:3: the description is blank"):
        read_description(write(tmp_path, "001.txt", text))


@pytest.mark.parametrize(
    ("file_name", "image_name"),
    [
        ("001.txt", "001.jpeg"),
        ("my fruit.txt", "my_fruit.jpeg"),
        ("fraîse des bois.txt", "fraise_des_bois.jpeg"),
        ("x" * 96 + ".txt", "x" * 88 + ".jpeg"),  # images/NAME fits in the server's 100
        ("★.kiwi.txt", "kiwi.jpeg"),  # not .kiwi.jpeg, hidden in the server's listing
    ],
)
def test_image_name_is_the_name_the_catalog_stores(tmp_path, file_name, image_name) -> None:
    fruit = read_description(write(tmp_path, file_name, "Lime\n210 lbs\nGreen.\n"))
    assert fruit.image_name == image_name
    assert len("images/" + fruit.image_name) <= 100


def test_files_whose_pictures_share_a_catalog_name_are_both_refused(tmp_path: Path) -> None:
    for name in ["my fruit.txt", "my_fruit.txt", "003.txt"]:
        write(tmp_path, name, "Lime\n210 lbs\nGreen.\n")
    write(tmp_path, "日本.txt", "Lime\n210 lbs\nGreen.\n")
    fruits, errors = read_descriptions(tmp_path)
    assert [fruit.path.name for fruit in fruits] == ["003.txt"]
    messages = sorted(str(error) for error in errors)
    assert [m.split(":")[0].rsplit("/", 1)[1] for m in messages] == [
        "my fruit.txt",
        "my_fruit.txt",
        "日本.txt",
    ]
    assert "my_fruit.jpeg is also that of my_fruit.txt: rename all but one" in messages[0]
    assert "rename it with Latin letters or digits" in messages[2]


@pytest.mark.parametrize(
    "content",
    [
        b"\xef\xbb\xbfLime\n210 lbs\nGreen.\n",  # UTF-8 BOM (Windows Notepad)
        b"Lime\r\n210 lbs\r\nGreen.\r\n",  # CRLF
        b"Lime\r210 lbs\rGreen.\r",  # CR only (old Mac)
        b"Lime   \n210 lbs \t\nGreen.   \n  \n\n",  # trailing spaces and blank lines
        b"Lime\n210 lbs\nGreen.",  # no final newline
    ],
)
def test_file_habits_do_not_matter(tmp_path: Path, content: bytes) -> None:
    fruit = read_description(write(tmp_path, "001.txt", content))
    assert (fruit.name, fruit.weight, fruit.description) == ("Lime", 210, "Green.")


def test_non_ascii_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "002.txt", "Açaí\n100 lbs\nIt’s a palm berry.\n")
    fruit = read_description(path)
    assert (fruit.name, fruit.description) == ("Açaí", "It’s a palm berry.")


def test_windows_1252_is_read_and_said_at_debug_level(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, "003.txt", b"Caf\xe9 cherry\n5 lbs\nIt\x92s from the caf\xe9.\n")
    with caplog.at_level(logging.DEBUG, logger="fruit-store"):
        fruit = read_description(path)
    assert (fruit.name, fruit.description) == ("Café cherry", "It’s from the café.")
    assert "\ufffd" not in fruit.name + fruit.description
    assert any("Windows-1252" in r.message and r.levelno == logging.DEBUG for r in caplog.records)


def test_bytes_that_are_no_text_are_an_error_with_their_line(tmp_path: Path) -> None:
    # 0x81 is neither UTF-8 (alone) nor defined in Windows-1252.
    error = error_of(write(tmp_path, "004.txt", b"Lime\n210 lbs\nGreen \x81 fruit.\n"))
    assert error.line == 3
    assert "0x81" in error.message and "UTF-8" in error.message


def test_french_quotes_in_windows_1252_are_not_taken_for_utf8(tmp_path: Path) -> None:
    # "é", a no-break space, "»" (E9 A0 BB) happens to be a Chinese letter in UTF-8.
    description = "Le fruit «\xa0très sucré\xa0» du verger."
    data = f"Reine-claude\n5 lbs\n{description}\n".encode("cp1252")
    assert read_description(write(tmp_path, "001.txt", data)).description == description


@pytest.mark.parametrize("name", ["Açaí", "Jabłko", "Μήλο", "苹果"])
def test_one_windows_1252_byte_in_a_utf8_file_is_an_error_with_its_line(tmp_path, name) -> None:
    # Read as Windows-1252, the name would be "AÃ§aÃ­" in the catalog, which cannot change it.
    data = f"{name}\n5 lbs\nFrom afar,\n".encode() + b"caf\xe9 style.\n"
    error = error_of(write(tmp_path, "006.txt", data))
    assert (error.line, error.message) == (
        4,
        "byte 0xe9 is not UTF-8, though most of the file is: save the file as UTF-8",
    )


def test_utf16_file_is_an_error(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, "005.txt", "Lime\n210 lbs\n".encode("utf-16")))
    assert "UTF-16" in error.message and "save it as UTF-8" in error.message


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("Kiwi\nheavy\nFuzzy.\n", 2, "weight 'heavy' is not a whole number of pounds"),
        ("Kiwi\n-5 lbs\nFuzzy.\n", 2, "weight '-5 lbs' is negative"),
        ("Kiwi\n12.5 lbs\nFuzzy.\n", 2, "weight '12.5 lbs' is not a whole number"),
        ("Kiwi\n\nFuzzy.\n", 2, "the weight is missing"),
        ("Kiwi\n", 2, "the weight is missing"),
        ("Kiwi", 2, "the weight is missing"),
        ("\nKiwi\n250 lbs\nFuzzy.\n", 1, "line 1 is blank: the name must be on line 1"),
        ("  \r\nKiwi\r\n250 lbs\r\n", 1, "line 1 is blank"),
        ("K" * 101 + "\n250 lbs\nFuzzy.\n", 1, "the name is 101 characters long"),
        ("Kiwi\n250 lbs\n" + "x" * 5001 + "\n", 3, "the description is 5001 characters long"),
        ("Kiwi\n250 lbs\n" + "x" * 3000 + "\n" + "y" * 2000 + "\n", 3, "the description is 5001"),
    ],
)
def test_what_the_catalog_refuses_is_an_error_with_its_line(
    tmp_path: Path, content: str, line: int, message: str
) -> None:
    path = write(tmp_path, "003.txt", content)
    error = error_of(path)
    assert (error.path, error.line) == (path, line)
    assert message in error.message
    assert str(error).startswith(f"{path}:{line}: {message}")


def test_limits_themselves_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "001.txt", "N" * 100 + "\n1 lbs\n" + "d" * 5000 + "\n")
    fruit = read_description(path)
    assert (len(fruit.name), len(fruit.description)) == (100, 5000)


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf"])
def test_empty_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "009.txt", content)
    error = error_of(path)
    assert error.line is None
    assert str(error) == f"{path}: {error.message}"
    assert "the file is empty" in error.message


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_error_message_names_the_file_as_given(in_tmp: Path) -> None:
    (in_tmp / "descriptions").mkdir()
    write(in_tmp / "descriptions", "003.txt", "Kiwi\nheavy\nFuzzy.\n")
    assert str(error_of(Path("descriptions/003.txt"))) == (
        "descriptions/003.txt:2: weight 'heavy' is not a whole number of pounds "
        "(write it like '500 lbs')"
    )
    assert isinstance(error_of(Path("descriptions/003.txt")), ValueError)


# --- a folder --------------------------------------------------------------------


def test_folder_good_and_bad_sorted(tmp_path: Path) -> None:
    write(tmp_path, "002.txt", "Lime\n210 lbs\nGreen.\n")
    write(tmp_path, "001.txt", "Kiwi\nheavy\n")
    write(tmp_path, "003.TXT", "Plum\n150\nPurple.\n")
    write(tmp_path, ".004.txt", "editor's hidden copy")
    write(tmp_path, "005.jpeg", b"\xff\xd8 not a description")
    (tmp_path / "006.txt").mkdir()
    fruits, errors = read_descriptions(tmp_path)
    assert [(f.name, f.image_name) for f in fruits] == [("Lime", "002.jpeg"), ("Plum", "003.jpeg")]
    assert [(e.path.name, e.line) for e in errors] == [("001.txt", 2)]


def test_folder_that_is_not_there_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such folder"):
        read_descriptions(tmp_path / "missing")


def test_empty_folder(tmp_path: Path) -> None:
    assert read_descriptions(tmp_path) == ([], [])


def test_generated_sample_data_reads_as_generated(tmp_path: Path) -> None:
    # Three files cover every variation of the generator (see lab/sample_data.py).
    samples: list[SampleFruit] = make_sample_data(tmp_path, count=3, seed=0)
    fruits, errors = read_descriptions(tmp_path / "descriptions")
    assert errors == []
    assert [(f.path, f.name, f.weight, f.description, f.image_name) for f in fruits] == [
        (s.description_path, s.name, s.weight, s.description, f"{s.stem}.jpeg") for s in samples
    ]
    assert "Açaí" in [f.name for f in fruits]


# --- a file replaced after the listing -------------------------------------------------


def test_a_file_that_became_a_link_out_of_the_folder_is_not_read(tmp_path: Path) -> None:
    # As if swapped between the listing and the read: the link is what is opened.
    secret = write(tmp_path, "secret.txt", "Secret\n5 lbs\nThe admin's notes.\n")
    folder = tmp_path / "descriptions"
    folder.mkdir()
    (folder / "zzz.txt").symlink_to(secret)

    error = error_of(folder / "zzz.txt")

    assert error.message == f"cannot read the file (it is now a link to {secret}, outside {folder})"


def test_a_file_that_became_a_fifo_is_not_waited_for(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "001.txt")  # opened for reading, it would wait for a writer
    error = error_of(tmp_path / "001.txt")
    assert error.message == "cannot read the file (it is no longer a regular file: not read)"


def test_a_link_to_a_file_inside_the_folder_is_read(tmp_path: Path) -> None:
    write(tmp_path, "apple.txt", "Apple\n5 lbs\nRed.\n")
    (tmp_path / "001.txt").symlink_to("apple.txt")
    assert read_description(tmp_path / "001.txt").name == "Apple"


def test_a_huge_file_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = write(tmp_path, "001.txt", "Fig\n5 lbs\n")
    with path.open("ab") as file:
        file.truncate(4 * 2**30)  # 4 GB (sparse): read whole, the run would run out of memory
    error = error_of(path)
    assert error.message == (
        "the file is over 1 MB, far more than the catalog takes: is it the right file?"
    )
