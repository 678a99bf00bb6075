"""run.py against the real catalog: every fruit once, bad files reported, faults survived."""

import json
import logging
import os
import re
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from PIL import Image

from catalog import catalog_image_name, catalog_session, check_catalog_url, endpoint, post_once
from cli import UsageError
from lab.control import Lab
from run import upload
from supplier_data import fruit_key, read_description, read_descriptions


def write_descriptions(folder: Path, texts: dict[str, str | bytes], lab: Lab | None = None) -> Path:
    """A descriptions/ folder with the given files; with ``lab``, each fruit's picture is
    put in images/ beside it and on the lab's server, as supplier_image_upload.py would."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_bytes(text.encode() if isinstance(text, str) else text)
    if lab is not None:
        give_pictures(lab, folder, texts)
    return folder


def give_pictures(lab: Lab | None, folder: Path, names, shade: int = 0) -> None:
    """A small JPEG per description file in images/, uploaded to the lab under its catalog
    name (by hand, not by supplier_image_upload.py); with ``lab`` None, not uploaded."""
    images = folder.parent / "images"
    images.mkdir(exist_ok=True)
    for number, name in enumerate(names):
        picture = images / catalog_image_name(Path(name).stem + ".jpeg")
        Image.new("RGB", (30 + number, 20), (shade, 100, 200)).save(picture)
        if lab is None:
            continue
        with picture.open("rb") as data:
            answer = requests.post(
                f"{lab.url}/upload/", files={"file": (picture.name, data)}, timeout=10
            )
        assert answer.status_code == 201


def fruity(count: int) -> dict[str, str]:
    return {f"{n:03d}.txt": f"Fruit {n}\n{n} lbs\nFruit number {n}.\n" for n in range(1, count + 1)}


def rows(lab) -> list[tuple]:
    return [(f["name"], f["weight"], f["description"], f["image_name"]) for f in lab.fruits()]


def posts(lab) -> list[dict]:
    return [r for r in lab.requests() if r["method"] == "POST" and r["path"] == "/fruits/"]


def assert_each_once(lab, count: int) -> None:
    names = Counter(f["name"] for f in lab.fruits())
    assert names == {f"Fruit {n}": 1 for n in range(1, count + 1)}


def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.stderr + result.stdout


def test_chain_of_generated_data(lab, make_supplier_data, run_script) -> None:
    data = make_supplier_data(count=3)
    env = lab.env | {"SUPPLIER_DATA": str(data)}
    # Only the TIFFs are there: no fruit is sent to show a broken picture.
    early = run_script("run.py", env=env)
    assert early.returncode == 1
    assert f"{data}/descriptions/001.txt: not sent: 001.jpeg is not on the server" in early.stderr
    assert "0 fruits done, 0 skipped, 3 failed" in early.stderr
    assert posts(lab) == []

    assert run_script("changeImage.py", env=env).returncode == 0
    assert run_script("supplier_image_upload.py", env=env).returncode == 0
    result = run_script("run.py", env=env)
    assert result.returncode == 0, result.stderr
    expected = [
        (f.name, f.weight, f.description, f.image_name)
        for f in read_descriptions(data / "descriptions")[0]
    ]
    in_file_order = sorted(rows(lab), key=lambda row: row[3])  # 4 at a time: any order
    assert in_file_order == expected
    assert [(name, weight, image) for name, weight, _, image in in_file_order] == [
        ("Watermelon", 500, "001.jpeg"),
        ("Açaí", 100, "002.jpeg"),
        ("Lime", 210, "003.jpeg"),
    ]
    assert "it’s refreshing" in in_file_order[0][2]
    assert result.stderr.strip().endswith("3 fruits done, 0 skipped, 0 failed")
    assert result.stdout == ""


def test_every_weight_form_end_to_end(lab, tmp_path, run_script) -> None:
    forms = ["501 lbs", "502lbs", "503 lb", "Weight: 504 lbs", "weight:505 LBS", "506"]
    folder = write_descriptions(
        tmp_path / "descriptions",
        {f"{n:03d}.txt": f"Fruit {n}\n{form}\nText.\n" for n, form in enumerate(forms, 1)},
        lab,
    )
    # One at a time: the catalog lists them in the files' order.
    result = run_script("run.py", "--quiet", "--jobs", "1", folder, env=lab.env)
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
            "013.txt": "Kiwi\n250 lbs\n\n",
        },
        lab,
    )
    result = run_script("run.py", folder, env=lab.env)
    assert result.returncode == 1
    assert_no_traceback(result)
    for where in ["002.txt:2:", "003.txt:2:", "004.txt:2:", "005.txt:2:", "006.txt:"]:
        assert f"{folder}/{where}" in result.stderr
    for where in ["007.txt:1:", "008.txt:3:", "009.txt:1:", "010.txt:3:", "013.txt:3:"]:
        assert f"{folder}/{where}" in result.stderr
    assert f"{folder}/002.txt:2: weight 'heavy' is not a whole number of pounds" in result.stderr
    assert sorted(f["name"] for f in lab.fruits()) == ["Café cherry", "Lime", "Plum"]
    assert f"{folder}/013.txt:3: the description is blank" in result.stderr
    assert "3 fruits done, 0 skipped, 10 failed" in result.stderr


def test_second_run_posts_nothing(lab, tmp_path, run_script) -> None:
    folder = write_descriptions(tmp_path / "descriptions", fruity(3), lab)
    assert run_script("run.py", folder, env=lab.env).returncode == 0
    before = len(posts(lab))
    again = run_script("run.py", folder, env=lab.env)
    assert again.returncode == 0, again.stderr
    assert len(posts(lab)) == before == 3
    assert "0 fruits done, 3 skipped, 0 failed" in again.stderr
    assert_each_once(lab, 3)


def test_new_files_are_added_to_what_is_there(lab, tmp_path, run_script) -> None:
    folder = write_descriptions(tmp_path / "descriptions", fruity(2), lab)
    run_script("run.py", folder, env=lab.env)
    write_descriptions(folder, {n: t for n, t in fruity(4).items() if n >= "003"}, lab)
    dry = run_script("run.py", "--dry-run", folder, env=lab.env)
    assert [json.loads(line)["name"] for line in dry.stdout.splitlines()] == ["Fruit 3", "Fruit 4"]
    result = run_script("run.py", folder, env=lab.env)
    assert "2 fruits done, 2 skipped, 0 failed" in result.stderr
    assert_each_once(lab, 4)


@pytest.mark.parametrize("jobs", ["1", "4"])
def test_survives_503s(start_lab, tmp_path, run_script, jobs) -> None:
    lab = start_lab(fault_seed=7)
    folder = write_descriptions(tmp_path / "descriptions", fruity(8), lab)
    lab.set_faults(fail_rate=0.3)
    result = run_script("run.py", "--jobs", jobs, folder, env=lab.env)
    assert_no_traceback(result)
    assert any(r["fault"] == "503" for r in posts(lab))
    # A request that met six 503s in a row is named and left for the next run.
    again = run_script("run.py", folder, env=lab.env)
    assert again.returncode == 0, result.stderr + again.stderr
    assert_each_once(lab, 8)
    assert sum(r["status"] == 201 for r in posts(lab)) == 8  # the second run sent none


@pytest.mark.parametrize("drop_rate", [1.0, 0.5])
def test_survives_commit_then_drop(start_lab, tmp_path, run_script, drop_rate) -> None:
    lab = start_lab(fault_seed=3)
    folder = write_descriptions(tmp_path / "descriptions", fruity(6), lab)
    lab.set_faults(drop_rate=drop_rate)
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


def test_a_proxys_504_is_not_sent_again_while_the_server_may_still_be_at_it(
    start_lab, tmp_path, run_script
):
    lab = start_lab(fault_seed=3)
    folder = write_descriptions(tmp_path / "descriptions", fruity(6), lab)
    lab.set_faults(gateway_rate=0.5)
    first = run_script("run.py", folder, env=lab.env)
    again = run_script("run.py", folder, env=lab.env)  # at once: it waits, then looks

    assert first.returncode == 1
    assert_no_traceback(first)
    assert "the server may still be at it: the next run waits for it" in first.stderr
    assert again.returncode == 0, again.stderr
    assert any(r["fault"] == "504" for r in posts(lab))
    assert len(posts(lab)) == 6  # each POST created its fruit, none was sent again
    assert_each_once(lab, 6)


def test_a_504_whose_wait_cannot_be_written_down_says_so_in_one_line(
    start_lab, tmp_path, run_script
):
    lab = start_lab()
    folder = write_descriptions(tmp_path / "descriptions", fruity(1), lab)
    lab.set_faults(gateway_rate=1.0)
    state = tmp_path / "state-is-a-file"
    state.write_text("")

    result = run_script("run.py", folder, env={**lab.env, "XDG_STATE_HOME": str(state)})

    assert result.returncode == 1
    assert_no_traceback(result)
    last = result.stderr.splitlines()[-1]
    assert re.fullmatch(
        r"cannot write down the requests left unanswered \(Not a directory\): wait \d+ s "
        r"before running again",
        last,
    ), result.stderr


def test_a_504_whose_wait_cannot_be_written_down_is_still_waited_for(
    start_lab, tmp_path, run_script
):
    # A full disk, say, for unanswered/ only: the run's sending/ file is kept, and the next
    # run waits for the server as after a kill -9, then looks.
    lab = start_lab()
    folder = write_descriptions(tmp_path / "descriptions", fruity(1), lab)
    state = tmp_path / "state"
    (state / "fruit-store").mkdir(parents=True)
    (state / "fruit-store" / "unanswered").write_text("")
    env = {**lab.env, "XDG_STATE_HOME": str(state)}
    lab.set_faults(gateway_rate=1.0)
    first = run_script("run.py", folder, env=env)
    assert "cannot write down the requests left unanswered" in first.stderr
    lab.set_faults(gateway_rate=0)

    again = run_script("run.py", folder, env=env)

    assert again.returncode == 0, again.stderr
    assert "waiting" in again.stderr.splitlines()[0]
    assert len(posts(lab)) == 1
    assert_each_once(lab, 1)


def test_a_file_renamed_while_its_504_is_pending_waits_and_is_refused(
    start_lab, tmp_path, run_script
):
    # The next run listed the catalog at once, before the server had done the first
    # run's request: the renamed file went in as a second product with the same picture.
    lab = start_lab()
    folder = write_descriptions(tmp_path / "descriptions", fruity(1), lab)
    lab.set_faults(gateway_rate=1.0)
    first = run_script("run.py", folder, env=lab.env)
    assert first.returncode == 1 and "the server may still be at it" in first.stderr
    lab.set_faults(gateway_rate=0)
    (folder / "001.txt").write_text("Fruit one, renamed\n1 lbs\nFruit number 1.\n")

    again = run_script("run.py", folder, env=lab.env)

    assert again.returncode == 1
    lines = again.stderr.splitlines()
    assert lines[0].startswith("1 request left unanswered at ")
    assert "may still be with the server: waiting " in lines[0]
    assert lines[1] == (
        f"{folder / '001.txt'}: not sent: the catalog has another fruit with 001.jpeg "
        "(Fruit 1, 1 lbs), from an earlier delivery or version of this file: change or remove it "
        "there first"
    )
    assert rows(lab) == [("Fruit 1", 1, "Fruit number 1.", "001.jpeg")]


def test_exactly_once_with_503s_and_drops_and_many_in_flight(start_lab, tmp_path, run_script):
    # 20 ms per answer: a server a network hop away, to which several POSTs go at once.
    lab = start_lab(fault_seed=11, delay=0.02)
    folder = write_descriptions(tmp_path / "descriptions", fruity(40), lab)
    lab.set_faults(fail_rate=0.3, drop_rate=0.3)
    first = run_script("run.py", "--jobs", "8", folder, env=lab.env)
    assert_no_traceback(first)
    again = run_script("run.py", "--jobs", "8", folder, env=lab.env)
    assert again.returncode == 0, first.stderr + again.stderr
    assert {r["fault"] for r in posts(lab)} >= {"503", "drop"}
    assert max(r["in_flight"] for r in posts(lab)) >= 2
    assert_each_once(lab, 40)
    assert sum(r["status"] == 201 for r in posts(lab)) == 40


def test_a_far_server_gets_more_requests_at_once(start_lab, tmp_path, run_script) -> None:
    lab = start_lab(delay=0.02)
    folder = write_descriptions(tmp_path / "descriptions", fruity(60), lab)
    result = run_script("run.py", folder, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert_each_once(lab, 60)
    # catalog.Pace: from 2 in flight, one more while that brings more answers per second
    # (here: the pictures' checks, then the POSTs).
    assert max(r["in_flight"] for r in lab.requests()) >= 4


def test_dry_run_sends_nothing(lab, tmp_path, run_script) -> None:
    folder = write_descriptions(
        tmp_path / "descriptions", fruity(2) | {"003.txt": "Açaí\n100 lbs\nIt’s dark.\n"}, lab
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
        failed = upload(
            catalog_session(lab.url, retries=0), endpoint(lab.url, "fruits"), fruits, jobs=1
        )
    assert failed == 3
    assert [record.message for record in caplog.records] == [
        f"{fruits[0].path}: not uploaded: cannot reach the catalog at {lab.url}/fruits/: "
        "connection failed"[: len(caplog.records[0].message)],
        "2 more fruits not sent: the catalog stopped answering; run again later",
    ] or caplog.records[0].message.startswith(f"{fruits[0].path}: not uploaded: cannot reach")
    assert caplog.records[1].message.startswith("2 more fruits not sent")


@pytest.mark.parametrize("form", ["", "/", "/fruits/", "/fruits", "/upload", "/upload/"])
def test_url_in_every_form_a_student_writes_it(lab, tmp_path, run_script, form) -> None:
    folder = write_descriptions(tmp_path / "descriptions", fruity(2), lab)
    env = lab.env | {"CATALOG_URL": "http://unused.invalid"}
    result = run_script("run.py", "--url", lab.url + form, folder, env=env)
    assert result.returncode == 0, result.stderr
    assert {r["path"] for r in posts(lab)} == {"/fruits/"}
    assert_each_once(lab, 2)


def test_https_to_a_plain_http_server_says_so(lab, tmp_path, run_script) -> None:
    folder = write_descriptions(tmp_path / "descriptions", fruity(1))
    url = lab.url.replace("http://", "https://")
    result = run_script("run.py", "--url", url, folder, env=lab.env)
    assert result.returncode == 1
    assert_no_traceback(result)
    [line] = result.stderr.splitlines()
    assert "TLS failed" in line
    assert "write the URL with http://" in line


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
    problem = post_once(
        catalog_session(lab.url, retries=1),
        endpoint(lab.url, "fruits"),
        read_description(path).as_json(),
        is_there=lambda: False,
    )
    assert problem == "HTTP 503 Service Unavailable: Service Unavailable (lab fault injection)"
    assert lab.fruits() == []


def test_no_answer_in_the_read_timeout_is_not_sent_again(start_lab, tmp_path, short_read_timeout):
    # The service takes longer than the read timeout (0.3 s here, 60 s in a run), then
    # saves: sent again at once, after a look that finds nothing yet, it was there twice.
    catalog = short_read_timeout
    lab = start_lab(post_delay=1.0, no_smtp=True)
    path = write_descriptions(tmp_path / "descriptions", fruity(1)) / "001.txt"

    with catalog_session(lab.url) as session:
        [problem] = catalog.post_all(
            session, endpoint(lab.url, "fruits"), [read_description(path).as_json()], fruit_key
        )

    assert problem == (
        "no answer in 0.3 s: not in the catalog yet, but the server may still be at it: the "
        "next run waits for it, then looks before sending"
    )
    # Should unanswered/ not be written, the next run waits for so slow a server all the same.
    sending = catalog.read_state(catalog._sending["path"], "sending", "sending")
    assert sending["slowest"] >= 0.3
    catalog._save_unanswered()  # as at the run's exit: the next run waits for the server
    [until] = catalog._unanswered_left(time.time())[endpoint(lab.url, "fruits")].values()
    assert until > time.time() + 0.1  # a read timeout more than it waited, not already past
    time.sleep(1.5)  # a POST sent again would be done by now too
    assert len(posts(lab)) == 1 and len(lab.fruits()) == 1


def test_fruit_whose_picture_is_missing_or_another_is_held_back(lab, tmp_path, run_script):
    folder = write_descriptions(tmp_path / "descriptions", fruity(3))
    give_pictures(lab, folder, ["001.txt", "002.txt"])
    # The server's 002.jpeg was left by an earlier delivery: this one's is another picture.
    (folder.parent / "images" / "002.jpeg").write_bytes(b"not the same picture at all")
    result = run_script("run.py", folder, env=lab.env)
    assert result.returncode == 1
    assert_no_traceback(result)
    assert f"{folder}/003.txt: not sent: 003.jpeg is not on the server" in result.stderr
    assert "run supplier_image_upload.py" in result.stderr
    assert f"{folder}/002.txt: not sent: the server has another picture named 002.jpeg" in (
        result.stderr
    )
    assert "remove it on the server" in result.stderr
    assert [f["name"] for f in lab.fruits()] == ["Fruit 1"]
    assert "1 fruits done, 0 skipped, 2 failed" in result.stderr


def picture_gets(lab) -> list[str]:
    """The pictures the lab was asked for one by one (not its listing of them)."""
    return [
        r["path"]
        for r in lab.requests()
        if r["method"] == "GET" and r["path"].startswith("/media/images/") and r["path"][14:]
    ]


def test_pictures_uploaded_from_here_are_not_fetched_again(lab, tmp_path, run_script) -> None:
    folder = write_descriptions(tmp_path / "descriptions", fruity(4))
    give_pictures(None, folder, fruity(4))
    images = folder.parent / "images"
    assert run_script("supplier_image_upload.py", images, env=lab.env).returncode == 0

    result = run_script("run.py", folder, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert_each_once(lab, 4)
    assert sorted(f["image_name"] for f in lab.fruits()) == [f"00{n}.jpeg" for n in range(1, 5)]
    # The upload made sure of each picture: neither run.py nor a second upload fetch one.
    again = run_script("supplier_image_upload.py", images, env=lab.env)
    assert "0 images done, 4 skipped, 0 failed" in again.stderr
    assert picture_gets(lab) == []


def test_a_picture_changed_on_the_server_since_is_fetched_again(lab, tmp_path, run_script):
    folder = write_descriptions(tmp_path / "descriptions", fruity(3))
    give_pictures(None, folder, fruity(3))
    images = folder.parent / "images"
    assert run_script("supplier_image_upload.py", images, env=lab.env).returncode == 0
    late = (folder / "002.txt").rename(tmp_path / "002.txt")  # its description comes later
    assert run_script("run.py", folder, env=lab.env).returncode == 0
    # Then someone replaced the server's 002.jpeg by another picture (so, another date).
    replaced = lab.media_images / "002.jpeg"
    replaced.write_bytes((images / "001.jpeg").read_bytes())
    os.utime(replaced, (replaced.stat().st_mtime - 3600,) * 2)
    late.rename(folder / "002.txt")

    result = run_script("run.py", folder, env=lab.env)
    assert result.returncode == 1
    assert f"{folder}/002.txt: not sent: the server has another picture named 002.jpeg" in (
        result.stderr
    )
    assert sorted(f["name"] for f in lab.fruits()) == ["Fruit 1", "Fruit 3"]
    assert picture_gets(lab) == ["/media/images/002.jpeg"]


def test_without_a_listing_each_picture_is_fetched(start_lab, tmp_path, run_script) -> None:
    lab = start_lab(no_media_index=True)
    folder = write_descriptions(tmp_path / "descriptions", fruity(3))
    give_pictures(None, folder, fruity(3))
    assert run_script("supplier_image_upload.py", folder.parent / "images", env=lab.env)
    gets_by_upload = len(picture_gets(lab))
    result = run_script("run.py", folder, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert_each_once(lab, 3)
    # Nothing tells whether a picture is still the one uploaded: each is fetched.
    assert len(picture_gets(lab)) - gets_by_upload == 3


def test_a_damaged_record_of_pictures_costs_requests_only(lab, tmp_path, run_script) -> None:
    folder = write_descriptions(tmp_path / "descriptions", fruity(2))
    give_pictures(None, folder, fruity(2))
    record = Path(os.environ["XDG_STATE_HOME"]) / "fruit-store" / "server_images.json"
    record.parent.mkdir(parents=True)
    record.write_text('{"version": 1, "servers": {"', encoding="utf-8")
    assert run_script("supplier_image_upload.py", folder.parent / "images", env=lab.env)
    record.write_text("not json", encoding="utf-8")

    result = run_script("run.py", folder, env=lab.env)
    assert result.returncode == 0
    assert f"{record}: cannot read the state" in result.stderr
    assert_each_once(lab, 2)
    assert picture_gets(lab) == ["/media/images/001.jpeg", "/media/images/002.jpeg"]
    assert json.loads(record.read_text(encoding="utf-8"))["servers"][lab.url]  # mended


def test_check_catalog_url() -> None:
    assert check_catalog_url("http://localhost/") == "http://localhost"
    assert check_catalog_url("https://catalog.example.com:8443/shop") == (
        "https://catalog.example.com:8443/shop"
    )
    for bad in ["", "localhost", "ftp://host", "http://", "http://host:x"]:
        with pytest.raises(UsageError):
            check_catalog_url(bad)


def test_a_file_changed_after_it_was_sent_is_not_sent_as_a_second_fruit(lab, tmp_path, run_script):
    # Renamed, it became a second product with the same picture; reweighed, it was skipped
    # without a word, the catalog keeping the old weight.
    folder = write_descriptions(tmp_path / "descriptions", fruity(4), lab)
    assert run_script("run.py", folder, env=lab.env).returncode == 0
    (folder / "001.txt").write_text("Watermelon (seedless)\n1 lbs\nFruit number 1.\n")
    (folder / "002.txt").write_text("Fruit 2\n999 lbs\nFruit number 2.\n")
    (folder / "003.txt").write_text("Fruit 3\n3 lbs\n  Fruit   number 3.  \n")  # only spaces

    result = run_script("run.py", folder, env=lab.env)

    assert result.returncode == 1
    assert_no_traceback(result)
    assert result.stderr.splitlines() == [
        f"{folder / '001.txt'}: not sent: the catalog has another fruit with 001.jpeg "
        "(Fruit 1, 1 lbs), from an earlier delivery or version of this file: change or remove it "
        "there first",
        f"{folder / '002.txt'}: the catalog's Fruit 2 (2 lbs) is not as this file says now: not "
        "sent again (change it in the catalog if the file is right)",
        "0 fruits done, 3 skipped, 1 failed",
    ]
    assert_each_once(lab, 4)
    assert len(posts(lab)) == 4


def test_a_file_name_with_a_line_break_is_named_on_one_line(lab, tmp_path, run_script):
    # A line break, a real backslash and an n, a terminal escape that would clear the screen.
    # And a direction override, which would show the rest of the line reversed.
    names = ["bad\nname.txt", "bad\\nname.txt", "clear\x1b[2J.txt", "evil\u202etxt.exe.txt"]
    folder = write_descriptions(tmp_path / "descriptions", dict.fromkeys(names, "Fig\nheavy\nx\n"))

    result = run_script("run.py", folder, env=lab.env)

    assert result.returncode == 1
    why = ":2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')"
    assert result.stderr.splitlines() == [
        f"{folder}/bad\\nname.txt{why}",
        f"{folder}/bad\\\\nname.txt{why}",
        f"{folder}/clear\\x1b[2J.txt{why}",
        f"{folder}/evil\\u202etxt.exe.txt{why}",
        "0 fruits done, 0 skipped, 4 failed",
    ]
