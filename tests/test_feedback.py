"""feedback.py (the course's lab 2) against the lab's feedback service: every review once."""

import json
from collections import Counter
from pathlib import Path

import requests

from feedback import read_review, read_reviews
from lab.sample_data import make_feedback


def site_reviews(lab) -> list[tuple]:
    rows = requests.get(f"{lab.url}/feedback/", timeout=10).json()
    return [(r["title"], r["name"], r["date"], r["feedback"]) for r in rows]


def written(reviews) -> list[tuple]:
    return [(r.title, r.name, r.date, r.feedback) for r in reviews]


def posts(lab) -> list[dict]:
    return [r for r in lab.requests() if r["method"] == "POST" and r["path"] == "/feedback/"]


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(text.encode() if isinstance(text, str) else text)
    return folder


def test_sample_reviews_posted_once_and_shown(lab, tmp_path, run_script) -> None:
    reviews = make_feedback(tmp_path / "feedback", count=8, seed=1)
    result = run_script("feedback.py", tmp_path / "feedback", env=lab.env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["8 reviews done, 0 skipped, 0 failed"]
    assert sorted(site_reviews(lab)) == sorted(written(reviews))
    page = requests.get(f"{lab.url}/reviews/", timeout=10).text
    for review in reviews:
        assert f"<h2>{review.title}</h2>" in page
        assert review.name in page

    # Again, with the URL written as the endpoint's: nothing new is sent.
    env = {k: v for k, v in lab.env.items() if k != "CATALOG_URL"}
    again = run_script("feedback.py", "--url", f"{lab.url}/feedback/", "feedback", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stderr.splitlines() == ["0 reviews done, 8 skipped, 0 failed"]
    assert len(posts(lab)) == 8
    assert sorted(site_reviews(lab)) == sorted(written(reviews))


def test_exactly_once_with_503s_and_drops(start_lab, tmp_path, run_script) -> None:
    lab = start_lab(fault_seed=5)
    reviews = make_feedback(tmp_path / "feedback", count=12, seed=2)
    lab.set_faults(fail_rate=0.3, drop_rate=0.3)
    first = run_script("feedback.py", "--jobs", "4", tmp_path / "feedback", env=lab.env)
    assert "Traceback" not in first.stderr
    again = run_script("feedback.py", "--jobs", "4", tmp_path / "feedback", env=lab.env)
    assert again.returncode == 0, first.stderr + again.stderr
    assert {r["fault"] for r in posts(lab)} >= {"503", "drop"}
    lab.set_faults(fail_rate=0, drop_rate=0)
    assert Counter(site_reviews(lab)) == Counter(written(reviews))  # each exactly once


def test_bad_files_named_with_their_line_the_rest_sent(lab, tmp_path, run_script) -> None:
    folder = write_files(
        tmp_path / "feedback",
        {
            "001.txt": "Fine\nAnn\n2026-03-14\nGood.\n",
            "002.txt": "T" * 101 + "\nBob\n2026-03-14\nToo long a title.\n",
            "003.txt": "Leap\nCy\n2026-02-30\nNo such day.\n",
            "004.txt": "Slashes\nDi\n14/03/2026\nWrong form.\n",
            "005.txt": "Blank\nEd\n2026-03-14\n\n  \n",
            "006.txt": "Long\nFay\n2026-03-14\n" + "x" * 1001 + "\n",
            "007.txt": "N\n" + "n" * 101 + "\n2026-03-14\nLong name.\n",
            "008.txt": "Crème\nJosé\n2026-01-02\nTrès bien,\r\nmerci.\r\n".encode("cp1252"),
            "009.txt": "\n\n2026-01-03\n" + "y" * 1000 + "\n",  # blank title and name, 1000
            "010.txt": "T" * 100 + "\n" + "n" * 100 + "\n2024-02-29\nAt the limits.\n",
            ".011.txt": "Hidden\nHal\nnot a date\n\n",
            "notes.md": "not a review",
        },
    )
    result = run_script("feedback.py", folder, env=lab.env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == "4 reviews done, 0 skipped, 6 failed"
    where = [line.split(": ", 1)[0] for line in lines[:-1]]
    assert where == [
        f"{folder}/002.txt:1",
        f"{folder}/003.txt:3",
        f"{folder}/004.txt:3",
        f"{folder}/005.txt:4",
        f"{folder}/006.txt:4",
        f"{folder}/007.txt:2",
    ]
    assert "date '2026-02-30' is not a day of the calendar" in result.stderr
    assert "the title is 101 characters long; the site takes at most 100" in result.stderr
    assert sorted(site_reviews(lab)) == [
        ("", "", "2026-01-03", "y" * 1000),
        ("Crème", "José", "2026-01-02", "Très bien, merci."),
        ("Fine", "Ann", "2026-03-14", "Good."),
        ("T" * 100, "n" * 100, "2024-02-29", "At the limits."),
    ]


def test_a_copy_of_a_review_is_sent_once(lab, tmp_path, run_script) -> None:
    text = "Same\nSue\n2026-04-01\nTwice written.\n"
    folder = write_files(tmp_path / "feedback", {"001.txt": text, "002.txt": text})
    result = run_script("feedback.py", folder, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert f"{folder}/002.txt: the same review as {folder}/001.txt, sent once" in result.stderr
    assert site_reviews(lab) == [("Same", "Sue", "2026-04-01", "Twice written.")]


def test_dry_run_sends_nothing(lab, tmp_path, run_script) -> None:
    reviews = make_feedback(tmp_path / "feedback", count=3)
    result = run_script("feedback.py", "-n", tmp_path / "feedback", env=lab.env)
    assert result.returncode == 0, result.stderr
    assert posts(lab) == [] and site_reviews(lab) == []
    sent = [json.loads(line) for line in result.stdout.splitlines()]
    assert sent == [read_review(review.path).as_json() for review in reviews]
    assert sent[1]["name"] == "José Núñez"
    assert "dry run: 3 reviews to do, 0 skipped, 0 failed" in result.stderr


def test_server_down_is_one_line(start_lab, tmp_path, run_script) -> None:
    lab = start_lab(no_smtp=True)
    env = lab.env
    lab.stop()
    make_feedback(tmp_path / "feedback", count=2)
    result = run_script("feedback.py", tmp_path / "feedback", env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cannot reach the catalog at {lab.url}/feedback/: ")


def test_missing_folder_is_bad_usage(run_script, tmp_path) -> None:
    result = run_script("feedback.py", tmp_path / "nowhere", "--url", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert result.stderr.strip() == f"{tmp_path / 'nowhere'}: no such folder of review files"


def test_reading_utf8_bom_and_cr_line_ends(tmp_path) -> None:
    folder = write_files(
        tmp_path,
        {"a.TXT": b"\xef\xbb\xbfTitle\rName\r2026-12-31\rOne\r\rtwo.\r", "b.txt": b"T\x00i"},
    )
    reviews, errors = read_reviews(folder)
    assert [review.as_json() for review in reviews] == [
        {"title": "Title", "name": "Name", "date": "2026-12-31", "feedback": "One two."}
    ]
    assert [str(error) for error in errors] == [
        f"{folder}/b.txt: is not a text file (it has NUL bytes; UTF-16?): save it as UTF-8 text"
    ]


def test_a_url_that_lists_other_rows_is_one_line_and_sends_nothing(lab, tmp_path, run_script):
    # The course's URLs are prefixes: /fruits/x/feedback/ is the list of fruits, which have
    # no title. A mistyped --url must not be a traceback, nor a review posted as a fruit.
    fruit = {"name": "Fig", "weight": 5, "description": "Sweet.", "image_name": "fig.jpeg"}
    requests.post(f"{lab.url}/fruits/", json=fruit, timeout=10).raise_for_status()
    make_feedback(tmp_path / "feedback", count=2)
    env = {k: v for k, v in lab.env.items() if k != "CATALOG_URL"}

    result = run_script(
        "feedback.py", "--url", f"{lab.url}/fruits/x", tmp_path / "feedback", env=env
    )

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{lab.url}/fruits/x/feedback/ did not list the catalog's rows (a row has no 'title'); "
        "is the URL right?"
    ]
    assert [r["method"] for r in lab.requests() if r["method"] == "POST"] == ["POST"]  # the fig
