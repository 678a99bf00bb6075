"""health_check.py against the lab's real mail server.

Problems are forced with thresholds no machine meets (--max-cpu -1, --min-disk
101, --min-memory far above the machine's memory); a healthy run uses
thresholds every machine meets. A wrong answer for ``localhost`` is made in a
private mount namespace with its own /etc/hosts, never on the machine's own.
"""

import fcntl
import getpass
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import cli
import health_check
from tests.conftest import start

ROOT = Path(__file__).resolve().parent.parent

BODY = "Please check your system and resolve the issue as soon as possible."
SENDER = "automation@example.com"
RECIPIENT = f"{getpass.getuser()}@example.com"
FAST = ("--cpu-sample", "0.1")
HEALTHY = ("--max-cpu", "101", "--min-disk", "0", "--min-memory", "0")
BUSY_CPU = ("--max-cpu", "-1", "--min-disk", "0", "--min-memory", "0")
HUGE_MEMORY_MB = "10000000"  # 10 TB


@pytest.fixture
def mail(start_lab):
    """The lab's mail server alone: health_check.py needs no catalog."""
    return start_lab(no_http=True)


@pytest.fixture
def check(run_script, tmp_path):
    """check(*args, env=...) runs health_check.py with a state file in tmp_path."""
    state = tmp_path / "state.json"

    def run(*args, env, state=state):
        return run_script("health_check.py", *FAST, "--state", state, *args, env=env, timeout=60)

    run.state = state
    return run


def subjects(lab) -> list[str]:
    return [message["Subject"] for message in lab.messages()]


def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the course's alerts ---------------------------------------------------------------


def test_default_thresholds_give_the_course_subjects():
    args = health_check.parse_args(["--disk-path", "/", "--disk-path", "/tmp/"])
    results = health_check.run_checks(
        args.max_cpu, args.min_disk, args.min_memory, args.disk_path, 0.01
    )
    assert [f"Error - {result.problem}" for result in results] == [
        "Error - CPU usage is over 80%",
        "Error - Available disk space is less than 20%",
        "Error - Available disk space on /tmp is less than 20%",
        "Error - Available memory is less than 500MB",
        "Error - localhost cannot be resolved to 127.0.0.1",
    ]


def test_each_forced_problem_sends_its_email(mail, check):
    result = check(
        "--max-cpu", "-1", "--min-disk", "101", "--min-memory", HUGE_MEMORY_MB, env=mail.env
    )

    assert result.returncode == 2, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("CRITICAL - CPU usage ") and lines[0].endswith("% > -1%")
    assert lines[1].startswith("CRITICAL - available disk space on / ")
    assert lines[1].endswith("% < 101%")
    assert lines[2].startswith("CRITICAL - available memory ")
    assert lines[2].endswith(f" MB < {HUGE_MEMORY_MB} MB")
    assert_no_traceback(result)

    messages = mail.messages()
    assert [message["Subject"] for message in messages] == [
        "Error - CPU usage is over -1%",
        "Error - Available disk space is less than 101%",
        f"Error - Available memory is less than {HUGE_MEMORY_MB}MB",
    ]
    for message in messages:
        assert message["From"] == SENDER
        assert message["To"] == RECIPIENT
        assert not message.is_multipart()  # no attachment
        assert message.get_content().strip() == BODY
    assert [event["rcpt_tos"] for event in mail.smtp_events()] == [[RECIPIENT]] * 3


def test_a_healthy_machine_is_quiet(mail, check):
    result = check(*HEALTHY, env=mail.env)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert mail.messages() == []
    assert not check.state.exists()  # nothing to remember: nothing written


def test_a_lasting_problem_is_emailed_once_until_repeat_after(mail, check):
    first = check(*BUSY_CPU, env=mail.env)
    second = check(*BUSY_CPU, env=mail.env)
    assert subjects(mail) == ["Error - CPU usage is over -1%"]
    # Still reported on stdout every run, and still a problem.
    assert first.returncode == second.returncode == 2
    assert second.stdout.startswith("CRITICAL - CPU usage ")

    check(*BUSY_CPU, "--repeat-after", "0", env=mail.env)
    assert subjects(mail) == ["Error - CPU usage is over -1%"] * 2


def test_a_changed_threshold_is_a_new_alert(mail, check):
    check(*BUSY_CPU, env=mail.env)
    check("--max-cpu", "-2", "--min-disk", "0", "--min-memory", "0", env=mail.env)
    assert subjects(mail) == ["Error - CPU usage is over -1%", "Error - CPU usage is over -2%"]


def test_a_cleared_problem_gets_one_resolved_email_once_it_stays_cleared(mail, check):
    check(*BUSY_CPU, env=mail.env)
    cleared = check(*HEALTHY, env=mail.env)
    assert (cleared.returncode, cleared.stdout, cleared.stderr) == (0, "", "")
    assert subjects(mail) == ["Error - CPU usage is over -1%"]  # --clear-after: 5 minutes
    # Six minutes later, as cron's sixth run would find it:
    state = json.loads(check.state.read_text())
    state["alerts"]["cpu"]["cleared"] -= 6 * 60
    check.state.write_text(json.dumps(state))
    later = check(*HEALTHY, env=mail.env)
    again = check(*HEALTHY, env=mail.env)

    assert later.returncode == again.returncode == 0
    assert later.stdout == again.stdout == ""
    messages = mail.messages()
    assert [message["Subject"] for message in messages] == [
        "Error - CPU usage is over -1%",
        "Resolved - CPU usage is over -1%",
    ]
    resolved = messages[1]
    assert (resolved["From"], resolved["To"]) == (SENDER, RECIPIENT)
    assert not resolved.is_multipart()
    assert "has cleared: CPU usage " in resolved.get_content()
    cleared_at = time.strftime(
        "%Y-%m-%d %H:%M:%S %z", time.localtime(state["alerts"]["cpu"]["cleared"])
    )
    assert f"Cleared:    {cleared_at}" in resolved.get_content()
    assert json.loads(check.state.read_text())["alerts"] == {}


@pytest.mark.parametrize("cleared", [None, "yesterday", True, -math.inf, math.nan])
def test_a_damaged_alert_in_the_state_is_dropped_not_a_traceback(mail, check, cleared):
    check(*BUSY_CPU, env=mail.env)
    state = json.loads(check.state.read_text())
    state["alerts"]["cpu"]["cleared"] = cleared
    check.state.write_text(json.dumps(state))

    result = check(*HEALTHY, env=mail.env)

    assert result.returncode == 0
    assert_no_traceback(result)
    assert subjects(mail) == ["Error - CPU usage is over -1%"]  # forgotten, not resolved


def test_a_value_hovering_at_its_threshold_keeps_one_alert_open(mail, check):
    # Over, under, over...: an Error and a Resolved email every minute before.
    for _minute in range(3):
        assert check(*BUSY_CPU, env=mail.env).returncode == 2
        assert check(*HEALTHY, env=mail.env).returncode == 0
    assert subjects(mail) == ["Error - CPU usage is over -1%"]

    check(*HEALTHY, "--clear-after", "0", env=mail.env)
    assert subjects(mail) == ["Error - CPU usage is over -1%", "Resolved - CPU usage is over -1%"]


def test_mail_server_down_then_back(start_lab, check):
    port = free_port()  # nothing listens there yet
    env = {name: value for name, value in os.environ.items() if not name.startswith("MAIL_")}
    env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))

    failed = check(*BUSY_CPU, env=env)
    assert failed.returncode == 2  # the problem found still decides the status
    assert failed.stdout.startswith("CRITICAL - CPU usage ")
    assert_no_traceback(failed)
    [error] = failed.stderr.splitlines()
    assert 'cannot send "Error - CPU usage is over -1%"' in error
    assert f"127.0.0.1:{port}" in error and "tried again on the next run" in error

    mail = start_lab(no_http=True, smtp_port=port)
    sent = check(*BUSY_CPU, env=env)  # within --repeat-after: only sent since it failed
    assert sent.returncode == 2
    assert subjects(mail) == ["Error - CPU usage is over -1%"]

    # A resolution that cannot be sent: could not do the job (3), tried again later.
    mail.stop()
    unresolved = check(*HEALTHY, "--clear-after", "0", env=env)
    assert unresolved.returncode == 3 and unresolved.stdout == ""
    assert 'cannot send "Resolved - CPU usage is over -1%"' in unresolved.stderr
    assert_no_traceback(unresolved)
    mail = start_lab(no_http=True, smtp_port=port)
    assert check(*HEALTHY, "--clear-after", "0", env=env).returncode == 0
    assert subjects(mail) == ["Resolved - CPU usage is over -1%"]


def test_a_damaged_state_file_is_not_fatal(mail, check):
    check.state.write_text("{not json")
    result = check(*BUSY_CPU, env=mail.env)

    assert result.returncode == 2
    assert_no_traceback(result)
    assert f"{check.state}: cannot read the state" in result.stderr
    assert subjects(mail) == ["Error - CPU usage is over -1%"]
    assert "cpu" in json.loads(check.state.read_text())["alerts"]


def test_a_run_overlapping_another_sends_nothing(mail, check):
    # As if the previous minute's run were still waiting on a slow mail server.
    check.state.parent.mkdir(parents=True, exist_ok=True)
    with open(cli.lock_path("health_check.py", check.state), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = check(*BUSY_CPU, env=mail.env)

    assert result.returncode == 2
    assert result.stdout.startswith("CRITICAL - CPU usage ")  # the checks still ran
    assert "another health_check.py is running" in result.stderr
    assert mail.messages() == []
    assert check(*BUSY_CPU, env=mail.env).returncode == 2  # the next run sends it
    assert subjects(mail) == ["Error - CPU usage is over -1%"]


def test_dry_run_sends_nothing_and_remembers_nothing(mail, check, tmp_path):
    result = check(*BUSY_CPU, "--dry-run", "--textfile", tmp_path / "h.prom", env=mail.env)

    assert result.returncode == 2
    assert result.stdout.splitlines()[1] == 'would send "Error - CPU usage is over -1%"'
    assert mail.messages() == []
    assert not check.state.exists() and not (tmp_path / "h.prom").exists()


# --- localhost -------------------------------------------------------------------------


def namespace_command(hosts_file) -> list[str]:
    """Run a command with ``hosts_file`` seen as /etc/hosts, in a private mount namespace."""
    user = [] if os.geteuid() == 0 else ["--map-root-user"]
    script = 'mount --bind "$0" /etc/hosts && exec "$@"'
    return ["unshare", "--mount", *user, "sh", "-c", script, str(hosts_file)]


def test_localhost_resolving_elsewhere(mail, tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("10.11.12.13 localhost\n")
    wrapper = namespace_command(hosts)
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([*wrapper, "cat", "/etc/hosts"], capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout != hosts.read_text():
        pytest.skip(f"no private mount namespace here: {probe.stderr.strip()}")

    result = subprocess.run(
        [*wrapper, sys.executable, str(ROOT / "health_check.py"), *FAST, *HEALTHY,
         "--state", str(tmp_path / "state.json")],
        env=mail.env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 2, result.stderr
    assert result.stdout == "CRITICAL - localhost resolves to 10.11.12.13, not 127.0.0.1\n"
    [message] = mail.messages()
    assert message["Subject"] == "Error - localhost cannot be resolved to 127.0.0.1"
    assert (message["From"], message["To"]) == (SENDER, RECIPIENT)
    assert message.get_content().strip() == BODY
    assert socket.gethostbyname("localhost") == "127.0.0.1"  # the machine's own is untouched


def test_localhost_not_resolving_at_all(mail, check, tmp_path):
    # Where no mount namespace can be made, the resolver itself is made to fail:
    # a sitecustomize.py, loaded by Python at start, only in this test's process.
    (tmp_path / "sitecustomize.py").write_text(
        "import socket\n"
        "def gethostbyname(name, _real=socket.gethostbyname):\n"
        "    if name == 'localhost':\n"
        "        raise socket.gaierror(socket.EAI_NONAME, 'Name or service not known')\n"
        "    return _real(name)\n"
        "socket.gethostbyname = gethostbyname\n"
    )
    result = check(*HEALTHY, env={**mail.env, "PYTHONPATH": str(tmp_path)})

    assert result.returncode == 2
    assert result.stdout == ("CRITICAL - localhost cannot be resolved: Name or service not known\n")
    assert subjects(mail) == ["Error - localhost cannot be resolved to 127.0.0.1"]


# --- checks that cannot be made, the textfile, cost, --interval -------------------------


def test_a_disk_path_that_does_not_exist_is_unknown(mail, check, tmp_path):
    missing = tmp_path / "no-such-disk"
    result = check(*HEALTHY, "--disk-path", missing, env=mail.env)

    assert result.returncode == 3
    assert result.stdout == (
        f"UNKNOWN - cannot check the disk space of {missing}: "
        "No such file or directory (check --disk-path)\n"
    )
    assert_no_traceback(result)
    assert mail.messages() == []

    # A problem found wins over a check that could not be made.
    both = check(*BUSY_CPU, "--disk-path", missing, "--dry-run", env=mail.env)
    assert both.returncode == 2
    assert [line.split(" - ")[0] for line in both.stdout.splitlines()[:2]] == [
        "CRITICAL",
        "UNKNOWN",
    ]


def parse_prometheus(text: str) -> tuple[dict, dict]:
    """The text exposition format: ({name: (help, type)}, {(name, labels): value})."""
    meta, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, help_text = line[7:].split(" ", 1)
            meta[name] = (help_text, None)
        elif line.startswith("# TYPE "):
            name, kind = line[7:].split(" ")
            assert name in meta, f"TYPE before HELP for {name}"
            meta[name] = (meta[name][0], kind)
        else:
            series, value = line.rsplit(" ", 1)
            name, _, labels = series.partition("{")
            assert meta.get(name, (None, None))[1] == "gauge", f"no HELP/TYPE for {name}"
            pairs = tuple(
                tuple(pair.split("=", 1)) for pair in labels.rstrip("}").split(",") if pair
            )
            samples[name, tuple((key, json.loads(quoted)) for key, quoted in pairs)] = float(value)
    return meta, samples


def test_textfile_for_prometheus(mail, check, tmp_path):
    textfile = tmp_path / "metrics" / "health.prom"
    textfile.parent.mkdir()
    result = check(
        *BUSY_CPU, "--disk-path", "/", "--disk-path", tmp_path, "--textfile", textfile,
        env=mail.env,
    )  # fmt: skip
    assert result.returncode == 2

    _, samples = parse_prometheus(textfile.read_text())
    prefix = "fruitstore_health_"
    assert 0 <= samples[prefix + "cpu_percent", ()] <= 100
    assert samples[prefix + "memory_available_bytes", ()] > 0
    for path in ("/", str(tmp_path)):
        assert 0 <= samples[prefix + "disk_free_percent", (("path", path),)] <= 100
    assert {key: value for key, value in samples.items() if key[0] == prefix + "check_ok"} == {
        (prefix + "check_ok", (("check", "cpu"),)): 0,
        (prefix + "check_ok", (("check", "disk"), ("path", "/"))): 1,
        (prefix + "check_ok", (("check", "disk"), ("path", str(tmp_path)))): 1,
        (prefix + "check_ok", (("check", "memory"),)): 1,
        (prefix + "check_ok", (("check", "localhost"),)): 1,
    }
    assert samples[prefix + "check_status", (("check", "cpu"),)] == 2
    last_run = samples[prefix + "last_run_timestamp_seconds", ()]
    assert abs(last_run - textfile.stat().st_mtime) < 60
    assert os.listdir(textfile.parent) == ["health.prom"]  # no temporary file left


def test_label_values_are_escaped():
    result = health_check.Result("disk", 0, "", "", 50.0, 'C:\\odd "name"\n')
    text = health_check.prometheus_text([result], now=1.0)
    assert 'fruitstore_health_disk_free_percent{path="C:\\\\odd \\"name\\"\\n"} 50' in text
    assert "fruitstore_health_last_run_timestamp_seconds 1\n" in text


def test_it_stays_light(mail, check):
    """Run every minute: no ReportLab, Pillow or requests, even when it sends an email."""
    result = check(*BUSY_CPU, env={**mail.env, "PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 2 and subjects(mail) == ["Error - CPU usage is over -1%"]

    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert {"psutil", "emails", "smtplib"} <= imported  # the measurement saw the imports
    assert not imported & {"reportlab", "PIL", "requests", "urllib3", "tqdm"}


def test_a_healthy_run_imports_only_what_it_needs(check):
    """The every-minute case: logging waits for a message to show, pathlib and typing are
    not needed, argparse's width comes without shutil (benchmarks/bench_health_check.py)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    result = check(*HEALTHY, env=env)
    assert result.returncode == 0 and result.stdout == ""
    # What the course's five lines import too (psutil 5.9.0 imports shutil) is not counted.
    plain = subprocess.run(
        [sys.executable, "-c", "import psutil, socket"], env=env, capture_output=True, text=True
    )

    def imported(stderr: str) -> set[str]:
        return {
            line.split("|")[-1].strip()
            for line in stderr.splitlines()
            if line.startswith("import time:")
        }

    extra = imported(result.stderr) - imported(plain.stderr)
    assert {"argparse", "cli"} <= extra  # the measurement saw the imports
    assert not extra & {"logging", "pathlib", "typing", "shutil", "json", "tempfile"}


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_interval_runs_until_stopped(mail, tmp_path, stop):
    process = start(
        "health_check.py", *FAST, *HEALTHY, "--verbose", "--interval", "1",
        "--state", tmp_path / "state.json", env=mail.env, cwd=tmp_path,
    )  # fmt: skip
    try:
        runs = 0
        for line in process.stderr:  # -v logs each check; wait for two runs
            runs += line.startswith("OK - CPU usage")
            if runs == 2:
                break
        process.send_signal(stop)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()

    assert runs == 2
    assert process.returncode == 0
    assert stdout == ""
    assert "Traceback" not in stderr
    assert f"stopped by {stop.name}" in stderr


# --- settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("--cpu-sample", "0"),
        ("--cpu-sample", "inf"),
        ("--cpu-sample", "nan"),
        ("--repeat-after", "-1"),
        ("--clear-after", "-1"),
        ("--interval", "0"),
        ("--interval", "0.001"),
        ("--interval", "inf"),
        ("--max-cpu", "nan"),
    ],
)
def test_bad_usage_is_unknown(run_script, args):
    result = run_script("health_check.py", *args)
    assert result.returncode == 3
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_the_state_lives_in_xdg_state_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert Path(health_check.default_state_path()) == tmp_path / "fruit-store" / "health_check.json"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Path(health_check.default_state_path()) == (
        tmp_path / ".local" / "state" / "fruit-store" / "health_check.json"
    )


def test_thresholds_read_as_typed():
    assert [health_check.number(value) for value in (80.0, 90.5, 2048.0, -1.0)] == [
        "80",
        "90.5",
        "2048",
        "-1",
    ]
    assert math.isclose(health_check.MB, 1024 * 1024)


# --- bad environments: one line, the Nagios status, never a traceback or a hang -----------


def test_a_run_longer_than_the_interval_says_it_is_late_and_goes_on(mail, tmp_path):
    process = start(
        "health_check.py", "--cpu-sample", "1.2", *HEALTHY, "--interval", "1",
        "--state", tmp_path / "state.json", env=mail.env, cwd=tmp_path,
    )  # fmt: skip
    try:
        late = next(line for line in process.stderr if "longer than --interval" in line)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()

    assert "starting the next one now" in late
    assert process.returncode == 0
    assert "Traceback" not in stderr and "stopped by SIGTERM" in stderr


def test_a_password_smtp_cannot_send_is_one_line(mail, check):
    env = dict(mail.env, SMTP_USER="me", SMTP_PASSWORD="pässwörd", SMTP_ALLOW_PLAIN_LOGIN="yes")
    result = check(*BUSY_CPU, env=env)

    assert result.returncode == 2
    assert_no_traceback(result)
    assert "SMTP_PASSWORD has characters other than ASCII" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert mail.messages() == []


def test_a_state_path_that_is_a_fifo_does_not_hang(mail, check):
    os.mkfifo(check.state)
    result = check(*BUSY_CPU, env=mail.env)  # run_script's timeout would fail a hang

    assert result.returncode == 2
    assert_no_traceback(result)
    assert f"{check.state}: not a regular file" in result.stderr
    assert mail.messages() == []
    assert stat_is_fifo(check.state)  # left as it was


def test_a_state_path_that_is_a_folder_sends_nothing(mail, check):
    # It used to read as a damaged file, "starting afresh": the alert went out every run.
    check.state.mkdir()
    for _run in range(2):
        result = check(*BUSY_CPU, env=mail.env)

        assert result.returncode == 2
        assert_no_traceback(result)
        assert f"{check.state}: not a regular file (a folder," in result.stderr
    assert mail.messages() == []


def test_an_alert_some_recipients_refused_is_sent_once(start_lab, check):
    lab = start_lab(no_http=True, smtp_reject=["nobody@example.com"])
    env = dict(lab.env, MAIL_TO=f"{RECIPIENT}, nobody@example.com")
    first = check(*BUSY_CPU, env=env)
    second = check(*BUSY_CPU, env=env)

    assert first.returncode == second.returncode == 2
    assert_no_traceback(first)
    [line] = first.stderr.splitlines()
    assert line.startswith('health_check.py: sent "Error - CPU usage is over -1%", but ')
    assert "refused the recipient nobody@example.com (550" in line
    assert second.stderr == ""  # sent: not again, and the refusal was said once
    assert subjects(lab) == ["Error - CPU usage is over -1%"]
    assert [event["rcpt_tos"] for event in lab.smtp_events() if event["event"] == "delivered"] == [
        [RECIPIENT]
    ]


@pytest.mark.parametrize(
    "env, says",
    [
        ({"SMTP_HOST": "mail..example.com"}, "SMTP_HOST='mail..example.com' is not a host name"),
        ({"MAIL_TO": "ops@example.com;boss@example.com"}, "is not a list of addresses"),
    ],
)
def test_mail_settings_smtplib_would_choke_or_guess_at_are_one_line(mail, check, env, says):
    result = check(*BUSY_CPU, env=dict(mail.env, **env))

    assert result.returncode == 2
    assert_no_traceback(result)
    [line] = result.stderr.splitlines()
    assert says in line and line.endswith("it will be tried again on the next run")
    assert mail.smtp_events() == []


def test_a_file_system_with_no_size_is_unknown(mail, check):
    result = check(*HEALTHY, "--disk-path", "/proc", env=mail.env)

    assert result.returncode == 3
    assert result.stdout == (
        "UNKNOWN - /proc has no disk space to check (a virtual file system?): check --disk-path\n"
    )
    assert mail.messages() == []


def stat_is_fifo(path: Path) -> bool:
    import stat

    return stat.S_ISFIFO(os.lstat(path).st_mode)


def test_a_disk_path_that_is_not_utf8_is_written_escaped(mail, check, tmp_path):
    folder = os.path.join(os.fsencode(tmp_path), b"caf\xe9")
    os.mkdir(folder)
    textfile = tmp_path / "health.prom"
    result = check(
        *HEALTHY, "--disk-path", os.fsdecode(folder), "--textfile", textfile, env=mail.env
    )

    assert result.returncode == 0
    assert_no_traceback(result)
    assert f'path="{tmp_path}/caf\\\\xe9"' in textfile.read_text(encoding="utf-8")


def test_a_user_without_passwd_entry_is_one_line(mail, as_nobody):
    env = {k: v for k, v in mail.env.items() if k not in ("HOME", "USER", "LOGNAME", "MAIL_TO")}
    env = {k: v for k, v in env.items() if not k.startswith("XDG_")}
    command = [*as_nobody, str(ROOT / "health_check.py"), *FAST, *BUSY_CPU]
    result = subprocess.run(command, env=env, cwd="/", capture_output=True, text=True, timeout=60)

    assert result.returncode == 3
    assert_no_traceback(result)
    assert "no home folder for the state file" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_textfile_that_cannot_be_written_is_one_line(mail, check, tmp_path):
    textfile = tmp_path / "no-such-folder" / "health.prom"
    result = check(*HEALTHY, "--textfile", textfile, env=mail.env)

    assert result.returncode == 3
    assert result.stderr == (
        f"health_check.py: cannot write {textfile} (No such file or directory): check "
        "--textfile and its folder\n"
    )
