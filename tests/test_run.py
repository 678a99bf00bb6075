"""run.py against the real catalog: every fruit once, bad files reported, faults survived."""

import json
import logging
from collections import Counter
from pathlib import Path

import pytest

from catalog import catalog_session, check_catalog_url, endpoint
from cli import UsageError
from run import post_fruit, upload
from supplier_data import read_description, read_descriptions


def write_descriptions(folder: Path, texts: dict[str, str | bytes]) -> Path:
    """A descriptions/ folder (no images/ beside it) with the given files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_bytes(text.encode() if isinstance(text, str) else text)
    return folder


def fruity(count: int) -> dict[str, str]:
    return {f"{n:03d}.txt": f"Fruit {n}\n{n} lbs\nFruit number {n}.\n" for n in range(1, count + 1)}


def rows(lab) -> list[tuple]:
    return [(f["name"], f["weight"], f["description"], f["image_name"]) for f in lab.fruits()]


def posts(lab) -> list[dict]:
    return [r for r in lab.requests() if r["method"] == "POST"]


def assert_each_once(lab, count: int) -> None:
    names = Counter(f["name"] for f in lab.fruits())
    assert names == {f"Fruit {n}": 1 for n in range(1, count + 1)}


def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.stderr + result.stdout


def test_uploads_generated_data(lab, make_supplier_data, run_script) -> None:
    data = make_supplier_data(count=3)
    result = run_script("run.py", env=lab.env | {"SUPPLIER_DATA": str(data)})
    assert result.returncode == 0, result.stderr
    expected = [
        (f.name, f.weight, f.description, f.image_name)
        for f in read_descriptions(data / "descriptions")[0]
    ]
    assert rows(lab) == expected
    assert [(name, weight, image) for name, weight, _, image in rows(lab)] == [
        ("Watermelon", 500, "001.jpeg"),
        ("Açaí", 100, "002.jpeg"),
        ("Lime", 210, "003.jpeg"),
    ]
    assert "it’s refreshing" in rows(lab)[0][2]
    # Only the TIFFs are there (changeImage.py has not run): a warning, not an error.
    assert "image 001.jpeg is not in" in result.stderr
    assert result.stderr.strip().endswith("3 fruits done, 0 skipped, 0 failed")
    assert result.stdout == ""


def test_every_weight_form_end_to_end(lab, tmp_path, run_script) -> None:
    forms = ["501 lbs", "502lbs", "503 lb", "Weight: 504 lbs", "weight:505 LBS", "506"]
    folder = write_descriptions(
        tmp_path / "descriptions",
        {f"{n:03d}.txt": f"Fruit {n}\n{form}\nText.\n" for n, form in enumerate(forms, 1)},
    )
    result = run_script("run.py", "--quiet", folder, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet: errors only
    assert [f["weight"] for f in lab.fruits()] == [501, 502, 503, 504, 505, 506]


def test_bad_files_are_reported_and_the_others_uploaded(lab, tmp_path, run_script) -> None:
    folder = write_descriptions(
        tmp_path / "descriptions",
        {
            "001.txt": "Lime\n210 lbs\nGreen.\n",
            "002.txt": "Kiwi\nheavy\nFuzzy.\n",
            "003.txt": "Kiwi\n-5 lbs\nFuzzy.\n",
            "004.txt": "Kiwi\n12.5 lbs\nFuzzy.\n",
            "005.txt": "Kiwi\n",
            "006.txt": "",
            "007.txt": "K" * 101 + "\n250 lbs\nFuzzy.\n",
            "008.txt": "Kiwi\n250 lbs\n" + "x" * 5001 + "\n",
            "009.txt": "\nKiwi\n250 lbs\nFuzzy.\n",
            "010.txt": b"Kiwi\n250 lbs\nFuzzy \x81.\n",
            "011.txt": b"\xef\xbb\xbfPlum\r\n150 lbs\r\nCaf\xe9 au plum.",  # BOM then cp1252
            "012.txt": b"Caf\xe9 cherry\r\n5 lbs\r\nIt\x92s good.",
        },
    )
    result = run_script("run.py", folder, env=lab.env)
    assert result.returncode == 1
    assert_no_traceback(result)
    for where in ["002.txt:2:", "003.txt:2:", "004.txt:2:", "005.txt:2:", "006.txt:"]:
        assert f"{folder}/{where}" in result.stderr
    for where in ["007.txt:1:", "008.txt:3:", "009.txt:1:", "010.txt:3:"]:
        assert f"{folder}/{where}" in result.stderr
    assert f"{folder}/002.txt:2: weight 'heavy' is not a whole number of pounds" in result.stderr
    assert sorted(f["name"] for f in lab.fruits()) == ["Café cherry", "Lime", "Plum"]
    assert "3 fruits done, 0 skipped, 9 failed" in result.stderr


def test_second_run_posts_nothing(lab, tmp_path, run_script) -> None:
    folder = write_descriptions(tmp_path / "descriptions", fruity(3))
    assert run_script("run.py", folder, env=lab.env).returncode == 0
    before = len(posts(lab))
    again = run_script("run.py", folder, env=lab.env)
    assert again.returncode == 0, again.stderr
    assert len(posts(lab)) == before == 3
    assert "0 fruits done, 3 skipped, 0 failed" in again.stderr
    assert_each_once(lab, 3)


def test_new_files_are_added_to_what_is_there(lab, tmp_path, run_script) -> None:
    folder = write_descriptions(tmp_path / "descriptions", fruity(2))
    run_script("run.py", folder, env=lab.env)
    write_descriptions(folder, fruity(4))
    dry = run_script("run.py", "--dry-run", folder, env=lab.env)
    assert [json.loads(line)["name"] for line in dry.stdout.splitlines()] == ["Fruit 3", "Fruit 4"]
    result = run_script("run.py", folder, env=lab.env)
    assert "2 fruits done, 2 skipped, 0 failed" in result.stderr
    assert_each_once(lab, 4)


def test_survives_503s(start_lab, tmp_path, run_script) -> None:
    lab = start_lab(fail_rate=0.5, fault_seed=7)
    folder = write_descriptions(tmp_path / "descriptions", fruity(8))
    result = run_script("run.py", folder, env=lab.env)
    assert_no_traceback(result)
    # With this seed about half the POSTs and GETs meet a 503; none meets six in a row.
    assert any(r["fault"] == "503" for r in posts(lab))
    assert result.returncode == 0, result.stderr
    assert_each_once(lab, 8)
    again = run_script("run.py", folder, env=lab.env)
    assert again.returncode == 0, again.stderr
    assert_each_once(lab, 8)
    assert sum(r["status"] == 201 for r in posts(lab)) == 8  # the second run sent none


@pytest.mark.parametrize("drop_rate", [1.0, 0.5])
def test_survives_commit_then_drop(start_lab, tmp_path, run_script, drop_rate) -> None:
    lab = start_lab(drop_rate=drop_rate, fault_seed=3)
    folder = write_descriptions(tmp_path / "descriptions", fruity(6))
    result = run_script("run.py", folder, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert any(r["fault"] == "drop" for r in posts(lab))
    # Every POST created its fruit: none was sent twice.
    assert len(posts(lab)) == 6
    assert_each_once(lab, 6)
    again = run_script("run.py", folder, env=lab.env)
    assert again.returncode == 0
    assert len(posts(lab)) == 6
    assert_each_once(lab, 6)


def test_dry_run_sends_nothing(lab, tmp_path, run_script) -> None:
    folder = write_descriptions(
        tmp_path / "descriptions", fruity(2) | {"003.txt": "Açaí\n100 lbs\nIt’s dark.\n"}
    )
    result = run_script("run.py", "-n", folder, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert posts(lab) == []
    assert lab.fruits() == []
    sent = [json.loads(line) for line in result.stdout.splitlines()]
    assert sent == [read_description(folder / name).as_json() for name in sorted(fruity(3))]
    assert sent[2] == {
        "name": "Açaí",
        "weight": 100,
        "description": "It’s dark.",
        "image_name": "003.jpeg",
    }


def test_server_down_is_one_line(start_lab, tmp_path, run_script) -> None:
    lab = start_lab(no_smtp=True)
    env = lab.env
    lab.stop()
    folder = write_descriptions(tmp_path / "descriptions", fruity(2))
    result = run_script("run.py", folder, env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"cannot reach the catalog at {lab.url}/fruits/: ")
    assert lines[0].endswith("; is it running?")
    # A dry run still shows what it would send, every fruit since it cannot look.
    dry = run_script("run.py", "--dry-run", folder, env=env)
    assert dry.returncode == 0
    assert [json.loads(line)["name"] for line in dry.stdout.splitlines()] == ["Fruit 1", "Fruit 2"]
    assert "cannot reach the catalog" in dry.stderr


def test_catalog_gone_mid_run_fails_the_rest_in_one_line(start_lab, tmp_path, caplog) -> None:
    lab = start_lab(no_smtp=True)
    lab.stop()
    fruits, _ = read_descriptions(write_descriptions(tmp_path / "descriptions", fruity(3)))
    with caplog.at_level(logging.INFO, logger="fruit-store"):
        failed = upload(catalog_session(retries=0), endpoint(lab.url, "fruits"), fruits)
    assert failed == 3
    assert len(caplog.records) == 1
    assert caplog.records[0].message.startswith(f"cannot reach the catalog at {lab.url}/fruits/")


def test_url_with_or_without_trailing_slash(lab, tmp_path, run_script) -> None:
    folder = write_descriptions(tmp_path / "descriptions", fruity(2))
    env = lab.env | {"CATALOG_URL": "http://unused.invalid"}
    result = run_script("run.py", "--url", lab.url + "/", folder, env=env)
    assert result.returncode == 0, result.stderr
    assert {r["path"] for r in lab.requests()} == {"/fruits/"}
    assert_each_once(lab, 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing-folder"], "missing-folder: no such folder"),
        (["--url", "localhost:8000", "."], "is not usable"),
        (["--url", "http://host:port", "."], "is not usable"),
    ],
)
def test_bad_usage_does_nothing(lab, run_script, args, message) -> None:
    result = run_script("run.py", *args, env=lab.env)
    assert result.returncode == 2
    assert message in result.stderr
    assert_no_traceback(result)
    assert lab.requests() == []


def test_other_answers_are_reported_with_status_and_text(start_lab, tmp_path) -> None:
    lab = start_lab(fail_rate=1.0, no_smtp=True)
    path = write_descriptions(tmp_path / "descriptions", fruity(1)) / "001.txt"
    problem = post_fruit(
        catalog_session(retries=1), endpoint(lab.url, "fruits"), read_description(path)
    )
    assert problem == "HTTP 503 Service Unavailable: Service Unavailable (lab fault injection)"
    assert lab.fruits() == []


def test_check_catalog_url() -> None:
    assert check_catalog_url("http://localhost/") == "http://localhost"
    assert check_catalog_url("https://catalog.example.com:8443/shop") == (
        "https://catalog.example.com:8443/shop"
    )
    for bad in ["", "localhost", "ftp://host", "http://", "http://host:x"]:
        with pytest.raises(UsageError):
            check_catalog_url(bad)
