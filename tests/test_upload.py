"""Tests for supplier_image_upload.py: every JPEG reaches the catalog once, whatever happens."""

import logging
import os
import re
import socket
import time
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageDraw

import supplier_image_upload
from catalog import (
    _IndexRows,
    catalog_image_name,
    catalog_session,
    check_catalog_url,
    image_poster,
    listed_images,
    media_url,
)
from cli import UsageError
from supplier_image_upload import find_images

SCRIPT = "supplier_image_upload.py"
NAMES = ["001.jpeg", "002.jpeg", "003.jpeg", "004.jpeg"]


def make_jpegs(folder: Path, names: list[str], shade: int = 0) -> list[Path]:
    """Small real JPEGs with different content each (the upload does not care about size)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, name in enumerate(names):
        image = Image.new("RGB", (60, 40), ((40 * index + shade) % 256, 120, 200))
        ImageDraw.Draw(image).ellipse((2 * index, 4, 30 + 3 * index, 36), fill=(240, 30, shade))
        image.save(folder / name, quality=90)
        paths.append(folder / name)
    return paths


def upload_posts(lab) -> list[dict]:
    return [r for r in lab.requests() if r["method"] == "POST" and r["path"] == "/upload/"]


def upload_directly(lab, path: Path) -> None:
    """Put an image on the server the way the course's example_upload.py does."""
    with path.open("rb") as image:
        requests.post(f"{lab.url}/upload/", files={"file": image}, timeout=10).raise_for_status()


def assert_each_once(lab, folder: Path, names: list[str]) -> None:
    """The server has exactly these images (under their catalog names), each byte for byte
    the local file."""
    assert lab.images() == sorted(catalog_image_name(name) for name in names)
    for name in names:
        stored = lab.media_images / catalog_image_name(name)
        assert stored.read_bytes() == (folder / name).read_bytes()


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "supplier-data" / "images"
    make_jpegs(folder, NAMES)
    return folder


# --- whole runs against the lab --------------------------------------------------------


@pytest.mark.parametrize("jobs", ["1", "8"])
def test_uploads_every_jpeg(lab, run_script, images: Path, jobs: str) -> None:
    result = run_script(SCRIPT, "--jobs", jobs, images, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert_each_once(lab, images, NAMES)
    assert len(upload_posts(lab)) == len(NAMES)
    assert "4 images done, 0 skipped, 0 failed" in result.stderr


def test_default_folder_comes_from_supplier_data(lab, run_script, images: Path) -> None:
    env = dict(lab.env, SUPPLIER_DATA=str(images.parent))
    result = run_script(SCRIPT, env=env)
    assert result.returncode == 0, result.stderr
    assert_each_once(lab, images, NAMES)


def test_the_environments_proxy_settings_are_obeyed(lab, run_script, images: Path) -> None:
    """The session reads them once (catalog_session), not at each request: still obeyed."""
    with socket.socket() as probe:  # a proxy that is not there: nothing listens on the port
        probe.bind(("127.0.0.1", 0))
        no_proxy_there = f"http://127.0.0.1:{probe.getsockname()[1]}"
    env = {k: v for k, v in lab.env.items() if k.lower() not in ("http_proxy", "no_proxy")}
    through_proxy = run_script(SCRIPT, images, env=dict(env, http_proxy=no_proxy_there))
    assert through_proxy.returncode == 1
    assert through_proxy.stderr.startswith("cannot reach the catalog at ")
    assert "cannot connect to the proxy (Connection refused): check http_proxy" in (
        through_proxy.stderr
    )
    assert lab.requests() == []

    env.update(http_proxy=no_proxy_there, no_proxy="127.0.0.1")
    direct = run_script(SCRIPT, images, env=env)
    assert direct.returncode == 0, direct.stderr
    assert_each_once(lab, images, NAMES)


def test_second_run_uploads_nothing(lab, run_script, images: Path) -> None:
    assert run_script(SCRIPT, images, env=lab.env).returncode == 0
    posts = len(upload_posts(lab))

    again = run_script(SCRIPT, images, env=lab.env)
    assert again.returncode == 0, again.stderr
    assert len(upload_posts(lab)) == posts
    assert_each_once(lab, images, NAMES)
    assert "0 images done, 4 skipped, 0 failed" in again.stderr


def test_rerun_after_half_way_uploads_the_rest(lab, run_script, tmp_path, images: Path) -> None:
    # The first run got through half the folder (same files, same names).
    half = tmp_path / "half"
    half.mkdir()
    for name in NAMES[:2]:
        (half / name).write_bytes((images / name).read_bytes())
    assert run_script(SCRIPT, half, env=lab.env).returncode == 0

    result = run_script(SCRIPT, images, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert "2 images done, 2 skipped, 0 failed" in result.stderr
    assert len(upload_posts(lab)) == len(NAMES)
    assert_each_once(lab, images, NAMES)


def test_503_answers_are_retried(start_lab, run_script, images: Path) -> None:
    # One upload at a time, so the seeded faults fall on the same requests every time.
    lab = start_lab(fail_rate=0.5, fault_seed=3)
    result = run_script(SCRIPT, "--jobs", "1", images, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert_each_once(lab, images, NAMES)
    assert any(r["fault"] == "503" and r["path"] == "/upload/" for r in lab.requests())


@pytest.mark.parametrize("drop_rate", [1.0, 0.5])
def test_answer_lost_after_commit_is_not_sent_twice(
    start_lab, run_script, images: Path, drop_rate: float
) -> None:
    lab = start_lab(drop_rate=drop_rate, fault_seed=1)
    result = run_script(SCRIPT, "-v", images, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert_each_once(lab, images, NAMES)
    dropped = [r for r in upload_posts(lab) if r["fault"] == "drop"]
    assert dropped, "the fault injection did not drop any answer"
    assert len(upload_posts(lab)) == len(NAMES)
    assert "the answer was lost, the image is there" in result.stderr


@pytest.mark.parametrize("gateway_rate", [1.0, 0.5])
def test_a_proxys_504_is_not_sent_again_while_the_server_may_still_be_at_it(
    start_lab, run_script, images: Path, gateway_rate: float
) -> None:
    # nginx answers 504 when the service is slower than its timeout, and the service goes
    # on and stores the image. urllib3's Retry sent the POST again at once: 001.jpeg and
    # 001_AbC12x9.jpeg. Looked up at once, it is not there yet either.
    lab = start_lab(gateway_rate=gateway_rate, fault_seed=1)
    first = run_script(SCRIPT, images, env=lab.env)
    again = run_script(SCRIPT, images, env=lab.env)  # at once: it waits for them, then looks

    assert first.returncode == 1
    assert "Traceback" not in first.stderr
    late = [line for line in first.stderr.splitlines() if "may still be at it" in line]
    assert late and all(": HTTP 504 Gateway Timeout: 504 Gateway Time-out: " in x for x in late)
    assert again.returncode == 0, again.stderr
    assert_each_once(lab, images, NAMES)
    assert any(r["fault"] == "504" for r in upload_posts(lab))
    assert len(upload_posts(lab)) == len(NAMES)  # none was sent twice


def test_force_does_not_send_again_when_the_answer_is_lost(start_lab, run_script, images) -> None:
    # With --force the script cannot tell a new copy from an old one, so it does not retry...
    lab = start_lab(drop_rate=1.0)
    forced = run_script(SCRIPT, "--force", images, env=lab.env)
    assert forced.returncode == 1
    assert "it may have arrived; running again will look before sending" in forced.stderr
    assert_each_once(lab, images, NAMES)
    # ...and a normal run finds every image there.
    again = run_script(SCRIPT, images, env=lab.env)
    assert again.returncode == 0, again.stderr
    assert "0 images done, 4 skipped, 0 failed" in again.stderr
    assert len(upload_posts(lab)) == len(NAMES)


def test_different_image_of_same_name_is_a_conflict(lab, run_script, tmp_path, images) -> None:
    other = make_jpegs(tmp_path / "other", ["001.jpeg"], shade=99)[0]
    upload_directly(lab, other)

    result = run_script(SCRIPT, images, env=lab.env)
    assert result.returncode == 1
    assert "001.jpeg: the server has a different 001.jpeg" in result.stderr
    assert "--force" in result.stderr
    assert "3 images done, 0 skipped, 1 failed" in result.stderr
    assert lab.images() == NAMES
    assert (lab.media_images / "001.jpeg").read_bytes() == other.read_bytes()

    # --force uploads without asking: the server keeps both, the new ones under other names.
    forced = run_script(SCRIPT, "--force", images, env=lab.env)
    assert forced.returncode == 0, forced.stderr
    assert len(lab.images()) == 2 * len(NAMES)
    assert (lab.media_images / "001.jpeg").read_bytes() == other.read_bytes()


LONG = "x" * 96 + ".jpeg"


@pytest.mark.parametrize("lang_c", [False, True])
def test_odd_names_are_sent_under_the_name_the_server_keeps(
    start_lab, run_script, tmp_path: Path, lang_c: bool
) -> None:
    # lang_c: the lab machine's Apache answers 500 to a non-ASCII name.
    lab = start_lab(lang_c=lang_c)
    # ★.apple.jpeg: not .apple.jpeg, which Apache's listing hides (uploaded on every run).
    names = ["fraîse des bois.jpeg", "pomme d'api.jpeg", "my fruit.jpeg", LONG, "★.apple.jpeg"]
    folder = tmp_path / "images"
    make_jpegs(folder, names)
    first = run_script(SCRIPT, "-v", folder, env=lab.env)
    assert first.returncode == 0, first.stderr
    assert "fraîse des bois.jpeg: uploaded as fraise_des_bois.jpeg" in first.stderr
    assert lab.images() == sorted(
        [
            "fraise_des_bois.jpeg",
            "pomme_dapi.jpeg",
            "my_fruit.jpeg",
            "x" * 88 + ".jpeg",
            "apple.jpeg",
        ]
    )
    again = run_script(SCRIPT, folder, env=lab.env)
    assert again.returncode == 0, again.stderr
    assert "0 images done, 5 skipped, 0 failed" in again.stderr
    assert_each_once(lab, folder, names)


def test_two_files_with_one_catalog_name_are_both_refused(lab, run_script, tmp_path) -> None:
    folder = tmp_path / "images"
    make_jpegs(folder, ["my fruit.jpeg", "my_fruit.jpeg", "001.jpeg", "日本.jpeg"])
    result = run_script(SCRIPT, folder, env=lab.env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        f"{folder}/my fruit.jpeg: my fruit.jpeg and my_fruit.jpeg would all be my_fruit.jpeg"
        in (result.stderr)
    )
    assert f"{folder}/my_fruit.jpeg: " in result.stderr
    assert f"{folder}/日本.jpeg: " in result.stderr
    assert "1 images done, 0 skipped, 3 failed" in result.stderr
    assert lab.images() == ["001.jpeg"]


def image_fetches(lab) -> list[str]:
    return [
        r["path"]
        for r in lab.requests()
        if r["path"].startswith("/media/images/") and r["path"] != "/media/images/"
    ]


def test_without_a_listing_each_image_is_asked_for(start_lab, run_script, images: Path) -> None:
    lab = start_lab(no_media_index=True)
    assert run_script(SCRIPT, images, env=lab.env).returncode == 0
    again = run_script(SCRIPT, images, env=lab.env)
    assert again.returncode == 0, again.stderr
    assert "0 images done, 4 skipped, 0 failed" in again.stderr
    assert len(image_fetches(lab)) == 2 * len(NAMES)  # no listing: each image on each run
    assert_each_once(lab, images, NAMES)


def test_a_page_that_hides_the_listing_is_no_listing(lab, run_script, images: Path) -> None:
    # An index.html put in the folder to hide its listing (Apache then serves that page):
    # read as an empty listing, every image was uploaded again on every run.
    lab.media_images.mkdir(parents=True, exist_ok=True)
    page = "<html><head><title>Fruit pictures</title></head><body>Nothing here</body></html>"
    (lab.media_images / "index.html").write_text(page)
    assert requests.get(f"{lab.url}/media/images/", timeout=10).text == page

    assert run_script(SCRIPT, images, env=lab.env).returncode == 0
    again = run_script(SCRIPT, images, env=lab.env)

    assert again.returncode == 0, again.stderr
    assert "0 images done, 4 skipped, 0 failed" in again.stderr
    assert len(upload_posts(lab)) == len(NAMES)
    assert sorted(lab.images()) == sorted([*NAMES, "index.html"])


def test_with_a_listing_only_names_there_are_asked_for(lab, run_script, images: Path) -> None:
    upload_directly(lab, images / NAMES[0])
    result = run_script(SCRIPT, images, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert image_fetches(lab) == [f"/media/images/{NAMES[0]}"]
    assert "3 images done, 1 skipped, 0 failed" in result.stderr


def test_listing_rows_give_each_name_its_date_and_size(lab, images: Path) -> None:
    upload_directly(lab, images / NAMES[0])
    with catalog_session(lab.url) as session:
        rows = listed_images(session, lab.url)
    assert list(rows) == [NAMES[0]]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d +[\d.]+[KM]?", rows[NAMES[0]])
    # nginx's autoindex: the date and size follow the link on the same line of a <pre>.
    nginx = (
        '<html><body><h1>Index of /media/images/</h1><hr><pre><a href="../">../</a>\n'
        '<a href="001.jpeg">001.jpeg</a>          22-Nov-2026 04:07       23456\n'
        '<a href="my%20fruit.jpeg">my fruit.jpeg</a>     22-Nov-2026 04:08       12345\n'
        "</pre><hr></body></html>"
    )
    assert _IndexRows.rows_in(nginx) == {
        "001.jpeg": "22-Nov-2026 04:07 23456",
        "my fruit.jpeg": "22-Nov-2026 04:08 12345",
    }


def test_same_size_but_another_picture_is_a_conflict(lab, run_script, tmp_path) -> None:
    # Plain pictures of one size make JPEGs of one size: the content tells them apart.
    ours, theirs = tmp_path / "ours" / "001.jpeg", tmp_path / "theirs" / "001.jpeg"
    for path, colour in ((ours, (200, 0, 0)), (theirs, (0, 0, 200))):
        path.parent.mkdir()
        Image.new("RGB", (60, 40), colour).save(path, quality=90)
    assert ours.stat().st_size == theirs.stat().st_size
    upload_directly(lab, theirs)
    result = run_script(SCRIPT, ours.parent, env=lab.env)
    assert result.returncode == 1
    assert "001.jpeg: the server has a different 001.jpeg" in result.stderr
    assert lab.images() == ["001.jpeg"]


def test_only_visible_jpeg_files_are_uploaded(lab, run_script, images: Path) -> None:
    make_jpegs(images, [".hidden.jpeg", "._001.jpeg", "005.jpg", "006.JPEG"])
    Image.new("RGB", (6, 4)).save(images / "007.png")
    (images / "notes.txt").write_text("not an image\n")
    (images / "folder.jpeg").mkdir()

    result = run_script(SCRIPT, images, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert lab.images() == NAMES


def test_dry_run_uploads_nothing(lab, run_script, images: Path) -> None:
    result = run_script(SCRIPT, "--dry-run", images, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(images / name) for name in NAMES]
    assert lab.images() == []
    assert upload_posts(lab) == []

    # After a partial upload it lists only what is missing.
    upload_directly(lab, images / NAMES[0])
    result = run_script(SCRIPT, "-n", images, env=lab.env)
    assert result.stdout.splitlines() == [str(images / name) for name in NAMES[1:]]


def test_error_answer_is_reported_with_its_status(lab, run_script, images: Path) -> None:
    result = run_script(SCRIPT, "--url", f"{lab.url}/nowhere", images, env=lab.env)
    assert result.returncode == 1
    assert f"001.jpeg: {lab.url}/nowhere/upload/: HTTP 404 Not Found" in result.stderr
    assert "0 images done, 0 skipped, 4 failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert lab.images() == []


def test_course_style_upload_url_is_accepted(lab, run_script, images: Path) -> None:
    result = run_script(SCRIPT, "--url", f"{lab.url}/upload/", images, env=lab.env)
    assert result.returncode == 0, result.stderr
    assert_each_once(lab, images, NAMES)


def test_server_down_gives_one_line(start_lab, run_script, images: Path) -> None:
    lab = start_lab(no_smtp=True)
    lab.stop()
    result = run_script(SCRIPT, images, env=lab.env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"cannot reach the catalog at {lab.url}/: connection failed")
    assert "CATALOG_URL" in line


def test_usage_errors_exit_2(run_script, tmp_path: Path, images: Path) -> None:
    missing = run_script(SCRIPT, tmp_path / "nowhere")
    assert missing.returncode == 2
    assert "nowhere: no such folder" in missing.stderr
    assert run_script(SCRIPT, images / "001.jpeg").returncode == 2  # a file, not a folder
    assert run_script(SCRIPT, "--url", "localhost:8000", images).returncode == 2
    assert run_script(SCRIPT, "--jobs", "0", images).returncode == 2


# --- functions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost",
        "http://localhost/",
        "http://localhost/upload/",
        "http://localhost/upload",
        "http://localhost/fruits/",
    ],
)
def test_catalog_base(url: str) -> None:
    assert check_catalog_url(url) == "http://localhost"


def test_catalog_base_keeps_a_path_prefix() -> None:
    assert check_catalog_url("https://example.com/shop/") == "https://example.com/shop"


def test_catalog_base_refuses_what_is_not_a_url() -> None:
    with pytest.raises(UsageError, match="CATALOG_URL"):
        check_catalog_url("localhost")


@pytest.mark.parametrize("where", ["--url", "CATALOG_URL"])
def test_a_password_in_the_catalog_url_is_refused_unshown(lab, run_script, images, where) -> None:
    # It was printed in every message and kept as a key of the state files (mode 644).
    url = lab.url.replace("http://", "http://admin:s3cret@")
    env = dict(lab.env, CATALOG_URL=url) if where == "CATALOG_URL" else lab.env
    args = ["--url", url] if where == "--url" else []

    result = run_script(SCRIPT, *args, images, env=env)

    assert result.returncode == 2
    assert result.stderr == (
        "the catalog URL has a password in it, which would show in ps and in every message: "
        "put the login in ~/.netrc (machine HOST login USER password ...)\n"
    )
    assert lab.images() == []
    with pytest.raises(UsageError) as error:
        check_catalog_url("http://admin:s3cret@[::1")
    assert "s3cret" not in str(error.value)


def test_media_url_is_quoted() -> None:
    assert (
        media_url("http://h", "fraîse des bois.jpeg")
        == "http://h/media/images/fra%C3%AEse%20des%20bois.jpeg"
    )


def test_find_images_sorted(tmp_path: Path) -> None:
    for name in ["010.jpeg", "002.jpeg", ".x.jpeg", "001.jpg", "a.txt"]:
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in find_images(tmp_path)] == ["002.jpeg", "010.jpeg"]


def test_find_images_takes_files_and_links_inside_only(tmp_path: Path, caplog) -> None:
    """What the folder's listing says a name is decides, and a link is followed only inside."""
    images, outside = tmp_path / "images", tmp_path / "outside"
    images.mkdir()
    outside.mkdir()
    (images / "001.jpeg").write_bytes(b"x")
    (images / "002.jpeg").symlink_to("001.jpeg")  # inside: taken
    (outside / "secret.jpeg").write_bytes(b"s")
    (images / "003.jpeg").symlink_to(outside / "secret.jpeg")  # out of the folder
    (images / "004.jpeg").symlink_to("nothing.jpeg")  # a link to nothing
    (images / "005.jpeg").mkdir()  # a folder with an image's name
    os.mkfifo(images / "006.jpeg")  # a FIFO: reading it would hang
    (images / "007.jpeg").symlink_to("005.jpeg")  # a link to a folder
    with caplog.at_level(logging.WARNING):
        found = find_images(images)
    assert [path.name for path in found] == ["001.jpeg", "002.jpeg"]
    warned = caplog.text
    assert "003.jpeg: a link to" in warned and "outside" in warned
    assert "004.jpeg: a link to nothing" in warned


def test_an_image_that_became_a_link_out_of_the_folder_is_not_sent(lab, tmp_path: Path) -> None:
    # As if swapped between the listing and the read: what is opened is looked at.
    (secret,) = make_jpegs(tmp_path / "private", ["secret.jpeg"])
    images = tmp_path / "images"
    images.mkdir()
    (images / "001.jpeg").symlink_to(secret)
    image = supplier_image_upload.Image(images / "001.jpeg", "001.jpeg")

    with catalog_session(lab.url, pool_size=2) as session:
        post_image = image_poster(session, lab.url)
        result = supplier_image_upload.upload_image(post_image, lab.url, image, None)

    assert (result.outcome, result.message) == (
        supplier_image_upload.FAILED,
        f"cannot read it: it is now a link to {secret}, outside {images}",
    )
    assert upload_posts(lab) == []


def test_no_answer_in_the_read_timeout_is_not_uploaded_again(
    start_lab, tmp_path, short_read_timeout
):
    # The service takes longer than the read timeout (0.3 s here, 60 s in a run), then
    # stores it: sent again after a look that found nothing yet, it was stored twice.
    catalog = short_read_timeout
    lab = start_lab(post_delay=1.0, no_smtp=True)
    (path,) = make_jpegs(tmp_path / "images", ["001.jpeg"])

    with catalog_session(lab.url) as session:
        server = catalog.ServerImages(session, lab.url)
        post_image = image_poster(session, lab.url)
        image = supplier_image_upload.Image(path, "001.jpeg")
        result = supplier_image_upload.upload_image(post_image, lab.url, image, server)

    assert (result.outcome, result.message) == (
        supplier_image_upload.FAILED,
        "no answer in 0.3 s: not in the catalog yet, but the server may still be at it: the "
        "next run waits for it, then looks before sending",
    )
    time.sleep(1.5)  # an upload sent again would be stored by now too
    assert len(upload_posts(lab)) == 1 and lab.images() == ["001.jpeg"]


def test_a_server_error_on_the_listing_stops_the_run_in_one_line(start_lab, run_script, images):
    # Asked image by image instead, each would wait out the same retries.
    lab = start_lab(fail_rate=1.0, no_smtp=True)
    result = run_script(SCRIPT, images, env=lab.env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"cannot read the catalog's pictures at {lab.url}/media/images/: HTTP 503 Service "
        "Unavailable: Service Unavailable (lab fault injection); try again later"
    ]
    assert {r["path"] for r in lab.requests()} == {"/media/images/"}


def test_a_retry_after_of_an_hour_waits_seconds() -> None:
    from urllib3 import HTTPResponse

    from catalog import RETRY_AFTER_MAX, _catalog_retry

    retry = _catalog_retry()(total=5, status_forcelist=(503,))
    answer = HTTPResponse(status=503, headers={"Retry-After": "3600"})
    assert retry.get_retry_after(answer) == RETRY_AFTER_MAX


def test_each_upload_sends_the_cookies_the_session_has_then(lab, tmp_path: Path) -> None:
    # The request is prepared once: cookies a load balancer sets during the run still go.
    (path,) = make_jpegs(tmp_path, ["001.jpeg"])
    with catalog_session(lab.url) as session:
        post_image = image_poster(session, lab.url)
        session.cookies.set("AWSALB", "node2")  # as its Set-Cookie would
        answer = post_image(path.read_bytes(), "001.jpeg")
    assert answer.status_code == 201
    assert answer.request.headers["Cookie"] == "AWSALB=node2"


def test_a_state_folder_that_cannot_be_written_is_said_once(lab, run_script, images, tmp_path):
    # The next run could not know that a killed one was sending: the user must.
    state = tmp_path / "state-is-a-file"
    state.write_text("")
    result = run_script(SCRIPT, images, env={**lab.env, "XDG_STATE_HOME": str(state)})
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "this run is sending" in line]
    assert said == [
        "cannot write down that this run is sending (Not a directory): if it is killed, wait "
        "60 s before running it again"
    ]
    assert_each_once(lab, images, NAMES)
