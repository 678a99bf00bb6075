"""The chain under an operator's real conditions: signals, overlapping runs, links, full disks.

Real processes get real signals; the lab is slowed (its ``delay`` fault) so that
a run is caught in the middle; a full disk is a small tmpfs.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from PIL import Image
from pypdf import PdfReader

from tests.conftest import start, wait_for

ROOT = Path(__file__).resolve().parent.parent
COUNT = 12  # items of the upload and run.py runs: several rounds at 2 in flight
# Seconds the lab takes to answer while a run is stopped: it is still at the last requests
# when the run ends, and a run started at once must not send those again.
SLOW = 1.0


def interrupt(process: subprocess.Popen, stop: signal.Signals) -> tuple[str, str, float]:
    """Send ``stop`` (Ctrl-C twice, 0.2 s apart, as an impatient operator does); the output
    and how long the process took to end."""
    sent = time.monotonic()
    process.send_signal(stop)
    if stop == signal.SIGINT:
        time.sleep(0.2)
        if process.poll() is None:
            process.send_signal(stop)
    try:
        stdout, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    return stdout, stderr, time.monotonic() - sent


def assert_one_interrupted_line(process, stderr: str, stop: signal.Signals, elapsed: float):
    assert process.returncode == 128 + stop
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted"), stderr
    assert lines[0].endswith("; run again to do the rest")
    assert elapsed < 3


def left_sending() -> list[str]:
    """The files that say a run is sending (catalog.py): each run removes its own."""
    folder = Path(os.environ["XDG_STATE_HOME"]) / "fruit-store" / "sending"
    return sorted(path.name for path in folder.glob("*")) if folder.exists() else []


def make_jpegs(folder: Path, count: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"{index:03d}.jpeg" for index in range(1, count + 1)]
    for index, name in enumerate(names):
        Image.new("RGB", (60, 40), (20 * index % 256, 100, 200)).save(folder / name)
    return names


def make_descriptions(folder: Path, count: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"Fruit {index}" for index in range(1, count + 1)]
    for index, name in enumerate(names, 1):
        (folder / f"{index:03d}.txt").write_text(f"{name}\n{index} lbs\nA fruit.\n")
    return names


def temporaries(folder: Path) -> list[str]:
    return [path.name for path in folder.iterdir() if path.name.endswith(".tmp")]


# --- Ctrl-C and SIGTERM ---------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_change_image_stops_at_once_and_a_rerun_does_the_rest(
    make_supplier_data, run_script, tmp_path, stop
):
    images = make_supplier_data(16, seed=7) / "images"
    process = start("changeImage.py", images, "--jobs", "2", env=dict(os.environ), cwd=tmp_path)
    wait_for(lambda: any(images.glob("*.jpeg")))
    workers = psutil.Process(process.pid).children(recursive=True)
    _, stderr, elapsed = interrupt(process, stop)

    assert_one_interrupted_line(process, stderr, stop, elapsed)
    assert temporaries(images) == []
    _, alive = psutil.wait_procs(workers, timeout=3)
    assert alive == []
    for jpeg in images.glob("*.jpeg"):  # what is there is whole
        with Image.open(jpeg) as image:
            image.load()

    rerun = run_script("changeImage.py", images)
    assert rerun.returncode == 0, rerun.stderr
    done, skipped = (int(word) for word in rerun.stderr.split()[0:4:3])
    assert done > 0 and done + skipped == 16
    assert len(list(images.glob("*.jpeg"))) == 16


def test_change_image_killed_leaves_no_worker_and_no_lock(make_supplier_data, run_script, tmp_path):
    images = make_supplier_data(16, seed=7) / "images"
    process = start("changeImage.py", images, "--jobs", "2", env=dict(os.environ), cwd=tmp_path)
    wait_for(lambda: any(images.glob("*.jpeg")))
    workers = psutil.Process(process.pid).children(recursive=True)
    assert workers
    process.kill()
    process.communicate()

    _, alive = psutil.wait_procs(workers, timeout=3)
    assert alive == []
    rerun = run_script("changeImage.py", images, timeout=30)  # no lock left: it does not wait
    assert rerun.returncode == 0, rerun.stderr
    assert len(list(images.glob("*.jpeg"))) == 16
    assert temporaries(images) == []


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_upload_stops_without_waiting_for_answers(start_lab, run_script, tmp_path, stop):
    lab = start_lab(delay=SLOW)
    images = tmp_path / "supplier-data" / "images"
    names = make_jpegs(images, COUNT)
    process = start("supplier_image_upload.py", "-j", "2", images, env=lab.env, cwd=tmp_path)
    wait_for(lambda: lab.images())
    _, stderr, elapsed = interrupt(process, stop)

    assert_one_interrupted_line(process, stderr, stop, elapsed)
    assert len(lab.images()) < COUNT
    assert left_sending() == []  # stopped, not killed: unanswered.json says which requests
    lab.set_faults(delay=0)
    rerun = run_script("supplier_image_upload.py", images, env=lab.env)
    assert rerun.returncode == 0, rerun.stderr
    time.sleep(SLOW + 0.5)  # the stopped run's last requests are done by now
    assert lab.images() == sorted(names)  # each once: no 001_AbC12x9.jpeg


@pytest.mark.parametrize(
    ("stop", "jobs"), [(signal.SIGINT, "2"), (signal.SIGTERM, "2"), (signal.SIGTERM, "1")]
)
def test_run_py_stops_without_waiting_for_answers(start_lab, run_script, tmp_path, stop, jobs):
    lab = start_lab()
    data = tmp_path / "supplier-data"
    make_jpegs(data / "images", COUNT)
    fruits = make_descriptions(data / "descriptions", COUNT)
    assert run_script("supplier_image_upload.py", data / "images", env=lab.env).returncode == 0
    lab.set_faults(delay=SLOW)
    process = start("run.py", "-j", jobs, data / "descriptions", env=lab.env, cwd=tmp_path)
    wait_for(lambda: lab.fruits())
    _, stderr, elapsed = interrupt(process, stop)

    assert_one_interrupted_line(process, stderr, stop, elapsed)
    lab.set_faults(delay=0)
    rerun = run_script("run.py", data / "descriptions", env=lab.env)
    assert rerun.returncode == 0, rerun.stderr
    time.sleep(SLOW + 0.5)  # the stopped run's last requests are done by now
    assert sorted(row["name"] for row in lab.fruits()) == sorted(fruits)  # each once


@pytest.mark.parametrize("script", ["supplier_image_upload.py", "run.py"])
def test_a_run_started_right_after_one_killed_sends_nothing_twice(
    start_lab, run_script, tmp_path, script
):
    """kill -9 (the OOM killer, a timeout's KILL) lets the run write nothing down: the
    server is still at its last requests, and the next run must not send those again."""
    lab = start_lab()
    data = tmp_path / "supplier-data"
    names = make_jpegs(data / "images", COUNT)
    fruits = make_descriptions(data / "descriptions", COUNT)
    if script == "run.py":
        assert run_script("supplier_image_upload.py", data / "images", env=lab.env).returncode == 0
    folder, done = (
        (data / "descriptions", lab.fruits) if script == "run.py" else (data / "images", lab.images)
    )
    lab.set_faults(delay=SLOW)
    process = start(script, "-j", "2", folder, env=lab.env, cwd=tmp_path)
    wait_for(lambda: len(done()) >= 2)
    time.sleep(SLOW / 5)  # the next two have gone: the server is at them for most of SLOW
    process.kill()
    process.communicate(timeout=15)
    assert left_sending() == [f"{process.pid}.json"]

    lab.set_faults(delay=0)
    rerun = run_script(script, folder, env=lab.env)
    assert rerun.returncode == 0, rerun.stderr
    assert "killed" in rerun.stderr  # one line says why it waits before looking
    assert left_sending() == []
    time.sleep(SLOW + 0.5)  # the killed run's last requests are done by now
    if script == "run.py":
        assert sorted(row["name"] for row in lab.fruits()) == sorted(fruits)  # each once
    else:
        assert lab.images() == sorted(names)  # each once: no 001_AbC12x9.jpeg


def sending_file(pid: int, url: str, age: float = 0.0, **entry) -> Path:
    """What a run sending to ``url`` keeps while it sends (catalog.py), its last answer
    ``age`` seconds ago; ``entry`` adds to it or changes it."""
    from cli import state_folder, write_state

    path = Path(state_folder()) / "sending" / f"{pid}.json"
    write_state(path, "sending", {"urls": [url], "slowest": 0.5, **entry})
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_a_run_still_sending_or_killed_long_ago_makes_nobody_wait(caplog) -> None:
    import logging

    from catalog import wait_if_a_killed_run_was_sending

    url = "http://127.0.0.1:9/fruits/"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    running = sending_file(os.getppid(), url)  # alive: it sees to its own requests
    killed_long_ago = sending_file(int(gone.stdout), url, age=120)
    with caplog.at_level(logging.INFO, logger="fruit-store"):
        wait_if_a_killed_run_was_sending(url)
    assert caplog.records == []  # no wait, which always says so
    assert running.exists()
    assert not killed_long_ago.exists()  # the server is long done: removed unread


def started_at(pid: int) -> int:
    """When process ``pid`` started, in clock ticks after boot: field 22 of /proc/PID/stat."""
    return int(Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[19])


def test_a_killed_runs_pid_taken_by_another_process_still_makes_the_next_run_wait(caplog):
    """PIDs are reused: the process that has the killed run's PID now is not that run,
    and its start time tells."""
    import logging

    from catalog import wait_if_a_killed_run_was_sending

    url = "http://127.0.0.1:9/upload/"
    with subprocess.Popen(["sleep", "30"]) as other:  # has the PID now
        try:
            killed = sending_file(other.pid, url, slowest=0.1, started=started_at(other.pid) - 1)
            running = sending_file(os.getppid(), url, started=started_at(os.getppid()))
            with caplog.at_level(logging.INFO, logger="fruit-store"):
                begun = time.monotonic()
                wait_if_a_killed_run_was_sending(url)
                waited = time.monotonic() - begun
        finally:
            other.kill()
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert f"(pid {other.pid})" in caplog.text  # the killed run only, not the running one
    # Until the server must be done: 2 x 0.1 s + 1 s from its last answer, which may have
    # been up to half a second after its file's time (it is set twice a second at most).
    assert 0.8 < waited < 5
    assert not killed.exists() and running.exists()


def test_a_run_killed_nearly_a_timeout_ago_is_waited_for_from_its_last_answer(caplog):
    """The file's time is set at most twice a second: the killed run's last answer, and a
    request it sent then, may be half a second later than the file says. The server may be
    at that request until the read timeout (60 s) after it."""
    import logging

    from catalog import HTTP_TIMEOUT, MARKED_EVERY, wait_if_a_killed_run_was_sending

    url = "http://127.0.0.1:9/fruits/"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    age = HTTP_TIMEOUT[1] - 1.3
    sending_file(int(gone.stdout), url, age=age, slowest=0.1)
    with caplog.at_level(logging.INFO, logger="fruit-store"):
        begun = time.monotonic()
        wait_if_a_killed_run_was_sending(url)
        waited = time.monotonic() - begun
    assert "may have left requests with it" in caplog.text
    assert waited >= HTTP_TIMEOUT[1] - age + MARKED_EVERY - 0.1  # 1.8 s, not 1.3 s


def test_a_run_writes_when_it_started_to_tell_itself_from_a_later_process(lab, tmp_path):
    """What the test above relies on: the file a run keeps while sending says when it started."""
    from cli import state_folder

    images = tmp_path / "supplier-data" / "images"
    make_jpegs(images, 2)
    lab.set_faults(delay=1.0)
    process = start("supplier_image_upload.py", images, env=lab.env, cwd=tmp_path)
    sending = Path(state_folder()) / "sending" / f"{process.pid}.json"
    wait_for(sending.exists)
    entry = json.loads(sending.read_text())["sending"]
    assert entry["started"] == started_at(process.pid)
    process.kill()
    process.communicate(timeout=15)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_report_email_stops_while_the_mail_server_is_silent(lab, run_script, tmp_path, stop):
    data = tmp_path / "supplier-data"
    make_descriptions(data / "descriptions", 3)
    pdf = tmp_path / "report.pdf"
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never says hello
        env = dict(lab.env, SMTP_PORT=str(silent.getsockname()[1]), MAIL_TO="s@example.com")
        # --from-files: the course's report of the files; the catalog is not the point here.
        process = start(
            "report_email.py", "--from-files", "--pdf", pdf, data / "descriptions", env=env,
            cwd=tmp_path,
        )  # fmt: skip
        wait_for(pdf.exists)
        time.sleep(0.3)
        _, stderr, elapsed = interrupt(process, stop)

    assert process.returncode == 128 + stop
    assert "Traceback" not in stderr and stderr.splitlines()[-1].startswith("interrupted")
    assert elapsed < 3
    assert temporaries(tmp_path) == []
    rerun = run_script(
        "report_email.py", "--from-files", "--pdf", pdf, data / "descriptions", env=lab.env
    )
    assert rerun.returncode == 0, rerun.stderr
    assert len(lab.messages()) == 1


def test_the_catalog_going_down_stops_the_upload_with_one_line(start_lab, tmp_path):
    # Each image left used to be tried, 6 s of connection retries and one error line each.
    lab = start_lab(delay=0.1)
    images = tmp_path / "supplier-data" / "images"
    make_jpegs(images, 40)
    upload = start("supplier_image_upload.py", "-j", "2", images, env=lab.env, cwd=tmp_path)
    wait_for(lambda: len(lab.requests()) >= 4)
    lab.stop()
    _, stderr = upload.communicate(timeout=60)

    assert upload.returncode == 1
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    [unsent] = [line for line in lines if "not sent: the catalog stopped answering" in line]
    left = int(unsent.split()[0])
    assert unsent == f"{left} more images not sent: the catalog stopped answering; run again later"
    # A line for each image that was on its way (2 at a time), one for the rest, the summary.
    failed = [line for line in lines if line.startswith(str(images))]
    assert 1 <= len(failed) <= 4 and left >= 10
    done = 40 - len(failed) - left
    assert lines[-1] == f"{done} images done, 0 skipped, {len(failed) + left} failed"


# --- two runs at once -----------------------------------------------------------------------


def test_a_second_upload_exits_and_a_waiting_one_sends_nothing_twice(
    start_lab, run_script, tmp_path
):
    lab = start_lab(delay=0.2)
    images = tmp_path / "supplier-data" / "images"
    names = make_jpegs(images, COUNT)
    first = start("supplier_image_upload.py", "-j", "2", images, env=lab.env, cwd=tmp_path)
    wait_for(lambda: lab.requests())
    second = run_script("supplier_image_upload.py", "-q", images, env=lab.env)
    waiting = start("supplier_image_upload.py", "-q", "--wait", images, env=lab.env, cwd=tmp_path)
    first_out = first.communicate(timeout=60)
    waiting_out = waiting.communicate(timeout=60)

    assert second.returncode == 75
    assert second.stderr == (
        f"another supplier_image_upload.py is working on {images} (pid {first.pid}); "
        "exiting (--wait to wait for it)\n"
    )
    assert first.returncode == 0, first_out
    assert waiting.returncode == 0, waiting_out
    assert waiting_out[1].startswith("waiting for another supplier_image_upload.py")
    assert lab.images() == sorted(names)
    posts = [r for r in lab.requests() if r["method"] == "POST"]
    assert len(posts) == COUNT


def test_a_cron_run_and_a_login_shells_run_at_once_send_each_image_once(
    start_lab, run_script, tmp_path
):
    # Cron has no XDG_RUNTIME_DIR, a login shell has one, and either may have its own
    # XDG_STATE_HOME: the locks were placed by them, and both runs uploaded everything.
    lab = start_lab(delay=0.2)
    images = tmp_path / "supplier-data" / "images"
    names = make_jpegs(images, COUNT)
    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    # Where the locks really go (the tests' FRUIT_STORE_LOCKS would keep them together).
    mine = {k: v for k, v in lab.env.items() if k != "FRUIT_STORE_LOCKS"}
    shell = dict(mine, XDG_RUNTIME_DIR=str(runtime), XDG_STATE_HOME=str(tmp_path / "state"))
    first = start("supplier_image_upload.py", "-j", "2", images, env=shell, cwd=tmp_path)
    wait_for(lambda: lab.requests())
    cron = {k: v for k, v in mine.items() if not k.startswith("XDG_")}
    cron["HOME"] = str(tmp_path / "elsewhere")
    second = run_script("supplier_image_upload.py", "-q", images, env=cron)
    first.communicate(timeout=60)

    assert second.returncode == 75, second.stderr
    assert f"another supplier_image_upload.py is working on {images}" in second.stderr
    assert first.returncode == 0
    assert lab.images() == sorted(names)
    assert len([r for r in lab.requests() if r["method"] == "POST"]) == COUNT


def test_a_second_run_py_exits_and_each_fruit_is_sent_once(start_lab, run_script, tmp_path):
    lab = start_lab()
    data = tmp_path / "supplier-data"
    make_jpegs(data / "images", COUNT)
    fruits = make_descriptions(data / "descriptions", COUNT)
    assert run_script("supplier_image_upload.py", data / "images", env=lab.env).returncode == 0
    lab.set_faults(delay=0.2)
    first = start("run.py", "-j", "2", data / "descriptions", env=lab.env, cwd=tmp_path)
    wait_for(lambda: lab.fruits())
    second = run_script("run.py", data / "descriptions", env=lab.env)
    first.communicate(timeout=60)

    assert second.returncode == 75
    assert f"another run.py is working on {data / 'descriptions'}" in second.stderr
    assert first.returncode == 0
    assert sorted(row["name"] for row in lab.fruits()) == sorted(fruits)


# --- links out of the supplier's folder -------------------------------------------------------


def test_links_out_of_the_folder_never_reach_the_catalog_or_the_mail(lab, run_script, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    Image.new("RGB", (90, 60), "red").save(outside / "secret.tif")
    Image.new("RGB", (60, 40), "red").save(outside / "secret.jpeg")
    (outside / "secret.txt").write_text("Secret\n5 lbs\nClassified text.\n")
    data = tmp_path / "supplier-data"
    images, descriptions = data / "images", data / "descriptions"
    images.mkdir(parents=True)
    for name in ("001", "002"):
        Image.new("RGB", (90, 60), "blue").save(images / f"{name}.tif")
    (images / "inside.tif").symlink_to("001.tif")  # inside the folder: followed
    (images / "secret.tif").symlink_to(outside / "secret.tif")
    (images / "loop.tif").symlink_to("loop2.tif")
    (images / "loop2.tif").symlink_to("loop.tif")
    make_descriptions(descriptions, 2)
    (descriptions / "secret.txt").symlink_to(outside / "secret.txt")
    env = dict(lab.env, SUPPLIER_DATA=str(data), MAIL_TO="s@example.com")

    converted = run_script("changeImage.py", env=env)
    assert converted.returncode == 0, converted.stderr
    assert sorted(p.name for p in images.glob("*.jpeg")) == ["001.jpeg", "002.jpeg", "inside.jpeg"]
    warnings = converted.stderr.splitlines()[:-1]
    assert len(warnings) == 3  # secret.tif, and one for each link of the loop
    assert any("secret.tif: a link to" in line and "outside" in line for line in warnings)
    assert sum("loop of symbolic links" in line for line in warnings) == 2

    (images / "hidden.jpeg").symlink_to(outside / "secret.jpeg")
    uploaded = run_script("supplier_image_upload.py", env=env)
    assert uploaded.returncode == 0, uploaded.stderr
    assert lab.images() == ["001.jpeg", "002.jpeg", "inside.jpeg"]
    assert "hidden.jpeg: a link to" in uploaded.stderr
    # The TIFFs' links were said by changeImage.py: the upload, which takes no TIFF, is quiet.
    assert "secret.tif" not in uploaded.stderr and "loop" not in uploaded.stderr

    sent = run_script("run.py", env=env)
    assert sent.returncode == 0, sent.stderr
    assert sorted(row["name"] for row in lab.fruits()) == ["Fruit 1", "Fruit 2"]
    pdf = tmp_path / "report.pdf"
    mailed = run_script("report_email.py", "--pdf", pdf, env=env)
    assert mailed.returncode == 0, mailed.stderr
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Fruit 1" in text and "Secret" not in text and "Classified" not in text
    message = lab.messages()[0]
    assert "Secret" not in message.as_string() and "Classified" not in message.as_string()


# --- a full disk ----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 256 kB tmpfs, unmounted afterwards."""
    folder = tmp_path / "small"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", folder], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", "-l", folder], check=False)


def test_a_jpeg_that_does_not_fit_fails_and_is_done_once_there_is_room(
    small_disk, run_script, tmp_path
):
    source = tmp_path / "images"
    source.mkdir()
    Image.effect_noise((600, 400), 80).convert("RGB").save(source / "001.tif")
    filler = small_disk / "filler"
    filler.write_bytes(b"x" * (244 * 1024))  # 12 kB left: less than the JPEG (~160 kB)

    full = run_script("changeImage.py", source, "--dest", small_disk)
    assert full.returncode == 1
    assert "Traceback" not in full.stderr
    error = full.stderr.splitlines()[0]
    assert f"{small_disk / '001.jpeg'}" in error and "No space left on device" in error
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]  # no JPEG, no temporary

    filler.unlink()
    again = run_script("changeImage.py", source, "--dest", small_disk)
    assert again.returncode == 0, again.stderr
    with Image.open(small_disk / "001.jpeg") as image:
        image.load()
        assert image.size == (600, 400)


# --- a folder that cannot be read --------------------------------------------------------------


def without_dac_override() -> list[str]:
    """Run as root without the power to read what its permissions forbid: as a user would."""
    if os.geteuid() != 0:
        return []  # already an ordinary user
    probe = subprocess.run(
        ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "true"], capture_output=True
    )
    if probe.returncode != 0:
        pytest.skip("cannot drop root's file permission override here (setpriv)")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.parametrize("locked", ["supplier-data", "subfolders"])
@pytest.mark.parametrize(
    "script", ["changeImage.py", "supplier_image_upload.py", "run.py", "report_email.py"]
)
def test_an_unreadable_folder_is_one_line(lab, tmp_path, script, locked):
    prefix = without_dac_override()
    data = tmp_path / "supplier-data"
    make_jpegs(data / "images", 2)
    make_descriptions(data / "descriptions", 2)
    folders = [data] if locked == "supplier-data" else [data / "images", data / "descriptions"]
    env = dict(lab.env, SUPPLIER_DATA=str(data), MAIL_TO="s@example.com")
    env["REPORT_PDF"] = str(tmp_path / "report.pdf")
    for folder in folders:
        folder.chmod(0)
    try:
        result = subprocess.run(
            [*prefix, sys.executable, str(ROOT / script)],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        for folder in folders:
            folder.chmod(0o755)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "permission" in result.stderr.lower()  # what is wrong, and what to look at
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert lab.images() == [] and lab.fruits() == [] and lab.messages() == []


SAVE_UNANSWERED = """
import sys, time
import catalog
catalog._answers["slowest"] = 20.0  # the server may be at them a while: nothing expires here
start = float(sys.argv[2])
while time.time() < start:
    pass
for round in range(25):  # more left unanswered each time, saved each time
    catalog._unanswered.setdefault("http://catalog/fruits/", {})[f"{sys.argv[1]}-{round}"] = (
        time.monotonic()
    )
    catalog._save_unanswered()
"""


def test_runs_stopping_at_once_each_keep_their_unanswered_requests(tmp_path):
    """Runs stopped together (a SIGTERM to all, a shutdown) each write what they left
    unanswered: none may write over what another wrote, or the next run would not wait
    for those requests and could send them twice."""
    from catalog import _unanswered_left

    start_at = str(time.time() + 1.5)
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", SAVE_UNANSWERED, f"run{number}", start_at],
            cwd=ROOT,  # where catalog.py is
        )
        for number in range(6)
    ]
    assert [run.wait(timeout=60) for run in runs] == [0] * 6
    keys = set(_unanswered_left(time.time())["http://catalog/fruits/"])
    assert keys == {f"run{number}-{round}" for number in range(6) for round in range(25)}
