#!/usr/bin/env python3
"""Check CPU, disk, memory and localhost; email an alert for each problem found.

The course lab's four checks, each with its own email (From automation@example.com,
To <login>@example.com, body "Please check your system and resolve the issue as
soon as possible."):

    CPU usage over 80%                    Error - CPU usage is over 80%
    available disk space lower than 20%   Error - Available disk space is less than 20%
    available memory less than 500MB      Error - Available memory is less than 500MB
    localhost not resolving to 127.0.0.1  Error - localhost cannot be resolved to 127.0.0.1

Made to run from cron every minute: quiet when all is well; one line per problem
on stdout, Nagios style; an alert is emailed once, again every --repeat-after
minutes while the problem lasts, and a "Resolved - ..." email once it has stayed
cleared --clear-after minutes. What was sent is remembered in the --state file.

    $ ./health_check.py --min-disk 40 --min-memory 30000
    CRITICAL - available disk space on / 31.6% < 40%
    CRITICAL - available memory 23521 MB < 30000 MB
    sent "Error - Available disk space is less than 40%" to root@example.com
    sent "Error - Available memory is less than 30000MB" to root@example.com
    $ echo $?
    2
    $ ./health_check.py --min-disk 40 --min-memory 30000     # a minute later: no new email
    CRITICAL - available disk space on / 31.6% < 40%
    CRITICAL - available memory 23518 MB < 30000 MB
    $ ./health_check.py --clear-after 0                       # the course's thresholds
    sent "Resolved - Available disk space is less than 40%" to root@example.com
    sent "Resolved - Available memory is less than 30000MB" to root@example.com

Exit status (Nagios plugin convention): 0 all checks passed, 2 a problem was
found, 3 a check could not be made, an email could not be sent or the state
could not be saved (a problem found wins: 2), or bad usage.
Mail settings: SMTP_HOST, SMTP_PORT, SMTP_SECURITY, SMTP_USER, SMTP_PASSWORD,
MAIL_FROM, MAIL_TO (see emails.py).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import socket
import sys
import time
from collections import namedtuple
from collections.abc import Iterator

from cli import (
    StateError,
    atomic_output,
    imports_done,
    log,
    make_parser,
    read_state,
    require,
    setup_logging,
    state_folder,
    try_lock,
    unlock,
    write_state,
)

# Names for the type hints only (not evaluated: `from __future__ import annotations`).
# A healthy run, every minute, imports neither pathlib nor typing (see cli.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, NoReturn

try:
    import psutil
except ImportError:
    # One line, not a traceback, if this Python lacks psutil; 3: Nagios' "could not check".
    # (Asked only now, as psutil is imported at once anyway: require()'s importlib.util
    # would cost every run 1 ms of CPU.)
    require("psutil", status=3)
    raise  # psutil is there but does not load: its traceback says why

# Nagios plugin exit statuses.
OK, CRITICAL, UNKNOWN = 0, 2, 3
STATUS_NAMES = {OK: "OK", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}

BODY = "Please check your system and resolve the issue as soon as possible."
MB = 1024 * 1024  # the course's "MB": psutil's bytes / (1024 * 1024)
STATE_VERSION = 1
# Shorter than this, --interval is a typing mistake (and an email storm if something is wrong).
MIN_INTERVAL = 1.0  # seconds


# collections.namedtuple rather than typing.NamedTuple: importing typing was 2 ms of CPU.
class Result(namedtuple("Result", "check status problem detail value path", defaults=(None, None))):
    """What one check found.

    check: "cpu", "disk", "memory" or "localhost"
    status: OK, CRITICAL or UNKNOWN
    problem: the alert's subject without "Error - ": "CPU usage is over 80%"
    detail: the Nagios line without its status: "CPU usage 95.2% > 80%"
    value: what was measured (percent, or bytes for memory), or None
    path: the disk checked, or None
    """

    @property
    def key(self) -> str:
        """Its name in the state file: "cpu", "disk:/var", ..."""
        return f"{self.check}:{self.path}" if self.path else self.check


def number(value: float) -> str:
    """80.0 -> "80", 90.5 -> "90.5", 2048.0 -> "2048": thresholds as the user typed them."""
    value = float(value)
    return str(int(value)) if value.is_integer() else str(value)


# --- the checks ---------------------------------------------------------------------


def check_cpu(max_percent: float, sample_seconds: float) -> Result:
    """CPU usage of the whole machine over ``sample_seconds``; a problem when above the limit."""
    usage = psutil.cpu_percent(interval=sample_seconds)
    problem = f"CPU usage is over {number(max_percent)}%"
    if usage > max_percent:
        return Result(
            "cpu", CRITICAL, problem, f"CPU usage {usage:.1f}% > {number(max_percent)}%", usage
        )
    return Result("cpu", OK, problem, f"CPU usage {usage:.1f}% <= {number(max_percent)}%", usage)


def printable(path: str) -> str:
    """A path as text that can be printed, mailed and written as UTF-8: bytes that are not
    UTF-8 in its name (``/mnt/caf\\xe9``) are shown as escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def check_disk(path: str, min_percent: float) -> Result:
    """Free space of the file system holding ``path``, as the course measures it.

    ``free / total * 100`` with psutil's ``free``, the space an ordinary user can
    still write (the blocks reserved for root are not counted as free), as ``df``'s Avail.
    """
    shown = printable(path)
    where = "" if path == "/" else f" on {shown}"
    problem = f"Available disk space{where} is less than {number(min_percent)}%"
    try:
        usage = psutil.disk_usage(path)
    except OSError as error:
        reason = error.strerror or str(error)
        detail = f"cannot check the disk space of {shown}: {reason} (check --disk-path)"
        return Result("disk", UNKNOWN, problem, detail, None, shown)
    if not usage.total:  # /proc, /sys: nothing to fill, nothing to measure
        detail = f"{shown} has no disk space to check (a virtual file system?): check --disk-path"
        return Result("disk", UNKNOWN, problem, detail, None, shown)
    free = usage.free / usage.total * 100
    detail = f"available disk space on {shown} {free:.1f}%"
    if free < min_percent:
        return Result("disk", CRITICAL, problem, f"{detail} < {number(min_percent)}%", free, shown)
    return Result("disk", OK, problem, f"{detail} >= {number(min_percent)}%", free, shown)


def check_memory(min_mb: float) -> Result:
    """Memory available to new programs without swapping (psutil's ``available``), in MiB."""
    available = psutil.virtual_memory().available
    problem = f"Available memory is less than {number(min_mb)}MB"
    # Rounded down, so that 499.7 MB never reads "500 MB < 500 MB".
    detail = f"available memory {available // MB} MB"
    if available / MB < min_mb:
        return Result("memory", CRITICAL, problem, f"{detail} < {number(min_mb)} MB", available)
    return Result("memory", OK, problem, f"{detail} >= {number(min_mb)} MB", available)


def check_localhost() -> Result:
    """``localhost`` must resolve to 127.0.0.1; not resolving at all is the same problem."""
    problem = "localhost cannot be resolved to 127.0.0.1"
    try:
        address = socket.gethostbyname("localhost")
    except (OSError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        return Result("localhost", CRITICAL, problem, f"localhost cannot be resolved: {reason}")
    if address != "127.0.0.1":
        return Result(
            "localhost", CRITICAL, problem, f"localhost resolves to {address}, not 127.0.0.1"
        )
    return Result("localhost", OK, problem, "localhost resolves to 127.0.0.1")


def run_checks(
    max_cpu: float,
    min_disk: float,
    min_memory: float,
    disk_paths: list[str],
    cpu_sample: float,
) -> list[Result]:
    """Every check, in the course's order: CPU, disk(s), memory, localhost."""
    results = [check_cpu(max_cpu, cpu_sample)]
    results += [check_disk(path, min_disk) for path in disk_paths]
    results += [check_memory(min_memory), check_localhost()]
    return results


def overall_status(results: list[Result]) -> int:
    """A problem found (2) wins over a check that could not be made (3)."""
    statuses = {result.status for result in results}
    return CRITICAL if CRITICAL in statuses else UNKNOWN if UNKNOWN in statuses else OK


def nagios_line(result: Result) -> str:
    return f"{STATUS_NAMES[result.status]} - {result.detail}"


# --- what has been sent: the state file ----------------------------------------------


def default_state_path() -> str:
    """``$XDG_STATE_HOME/fruit-store/health_check.json``, by default under ~/.local/state.

    RuntimeError when there is no home folder (a user with no passwd entry).
    """
    return os.path.join(state_folder(), "health_check.json")


def load_alerts(path: str) -> dict[str, dict[str, Any]]:
    """The open alerts by check: {"cpu": {"subject": ..., "since": t, "sent": t or None}}.

    cli.read_state: a missing or damaged file is a fresh start; StateError if not a file.
    """
    alerts = read_state(path, "alerts", "health_check.py")
    return {key: alert for key, alert in alerts.items() if valid_alert(alert)}


def valid_alert(alert: object) -> bool:
    def is_time(value: object) -> bool:
        return (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        )

    return (
        isinstance(alert, dict)
        and isinstance(alert.get("subject"), str)
        and is_time(alert.get("since"))
        and (alert.get("sent") is None or is_time(alert.get("sent")))
        and ("cleared" not in alert or is_time(alert["cleared"]))
    )


def save_alerts(path: str, alerts: dict[str, dict[str, Any]]) -> None:
    write_state(path, "alerts", alerts, STATE_VERSION)


@contextlib.contextmanager
def state_lock(path: str) -> Iterator[bool]:
    """Yield False when another run holds the state (say, one stuck on a slow mail server).

    cli.py's lock, keyed by the state's path. Best effort: when the lock file cannot
    even be created (a full disk, which is one of the problems checked), the run
    goes on unlocked.
    """
    try:
        fd, _holder = try_lock("health_check.py", path)
    except OSError as error:
        log.debug("%s: cannot lock the state (%s): going on without the lock", path, error)
        yield True
        return
    if fd is None:
        yield False
        return
    try:
        yield True
    finally:
        unlock(fd)


# --- which emails are due --------------------------------------------------------------


class Notice(namedtuple("Notice", "key subject body")):
    """One email this run owes: the check's key in the state file, the subject, the body."""


def notices_due(
    results: list[Result],
    alerts: dict[str, dict[str, Any]],
    now: float,
    repeat_after: float,
    clear_after: float = 0,
) -> list[Notice]:
    """New alerts, alerts not repeated for ``repeat_after`` seconds, and resolutions.

    An alert that could never be sent is tried again on every run. A cleared
    problem gets a "Resolved" email only if its alert did go out, with the
    subject that went out, and only once it has stayed cleared ``clear_after``
    seconds (as monit's "for N cycles"): a value that hovers at its threshold
    keeps one alert open instead of an Error and a Resolved email every run.
    A check that could not be made changes nothing.
    """
    due = []
    for result in results:
        alert = alerts.get(result.key)
        if result.status == CRITICAL:
            subject = f"Error - {result.problem}"
            if (
                alert is None
                or alert["subject"] != subject  # a threshold changed: a new alert
                or alert["sent"] is None
                or now - alert["sent"] >= repeat_after
            ):
                due.append(Notice(result.key, subject, BODY))
        elif (
            result.status == OK
            and alert is not None
            and alert["sent"] is not None
            and now - alert.get("cleared", now) >= clear_after
        ):
            subject = "Resolved - " + alert["subject"].removeprefix("Error - ")
            body = resolved_body(alert, result, now)
            due.append(Notice(result.key, subject, body))
    return due


def resolved_body(alert: dict[str, Any], result: Result, now: float) -> str:
    def when(timestamp: float) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(timestamp))

    return (
        f'The problem reported as "{alert["subject"]}" on {socket.gethostname()} '
        f"has cleared: {result.detail}.\n\n"
        f"First seen: {when(alert['since'])}\n"
        f"Cleared:    {when(alert.get('cleared', now))}\n\n"
        "No action is needed.\n"
    )


def update_alerts(
    alerts: dict[str, dict[str, Any]],
    results: list[Result],
    sent: set[str],
    now: float,
) -> dict[str, dict[str, Any]]:
    """The state after this run, given the keys of the notices that were sent."""
    updated = dict(alerts)
    for result in results:
        alert = alerts.get(result.key)
        if result.status == CRITICAL:
            subject = f"Error - {result.problem}"
            same = alert is not None and alert["subject"] == subject
            updated[result.key] = {
                "subject": subject,
                "since": alert["since"] if alert is not None else now,
                "sent": now if result.key in sent else alert["sent"] if same else None,
            }
        elif result.status == OK and alert is not None:
            if result.key in sent or alert["sent"] is None:
                # Cleared: forget it once its resolution went out, or if no alert ever did.
                del updated[result.key]
            elif "cleared" not in alert:  # its Resolved email waits for --clear-after
                updated[result.key] = {**alert, "cleared": now}
    return updated


def send_notices(notices: list[Notice]) -> tuple[set[str], bool]:
    """Send each notice; return the keys sent, and whether all went out.

    The first failure stops the run's sending: the next notices would most
    likely fail the same way, each after its own timeout. They are all tried
    again on the next run, since they are not marked as sent.
    """
    import emails  # only when there is something to send: most runs have nothing

    sent: set[str] = set()
    all_sent = True
    try:
        sender, recipient = emails.default_sender(), emails.default_recipient()
        for notice in notices:
            message = emails.generate_error_report(sender, recipient, notice.subject, notice.body)
            try:
                emails.send_email(message)
                log.info('sent "%s" to %s', notice.subject, recipient)
            except emails.MailPartlyRefused as error:  # sent: again would be twice for the others
                log.error('health_check.py: sent "%s", but %s', notice.subject, error)
                all_sent = False
            sent.add(notice.key)
    except emails.MailError as error:  # MailConfigError too: no login name, a bad password
        unsent = [notice.subject for notice in notices if notice.key not in sent]
        log.error(
            'health_check.py: cannot send "%s"%s: %s; it will be tried again on the next run',
            unsent[0],
            f" (and {len(unsent) - 1} more)" if len(unsent) > 1 else "",
            error,
        )
        return sent, False
    return sent, all_sent


# --- Prometheus textfile ------------------------------------------------------------------

METRICS = {
    "cpu": ("fruitstore_health_cpu_percent", "CPU usage of the machine over the sample, percent."),
    "disk": (
        "fruitstore_health_disk_free_percent",
        "Disk space available to unprivileged users, percent of the file system's size.",
    ),
    "memory": (
        "fruitstore_health_memory_available_bytes",
        "Memory available to new programs without swapping.",
    ),
}


def prometheus_text(results: list[Result], now: float) -> str:
    """The results in Prometheus' text exposition format, for node_exporter's textfile collector."""
    lines = []

    def family(name: str, help_text: str, samples: list[tuple[dict[str, str], float]]) -> None:
        if samples:
            lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} gauge"])
            lines.extend(
                f"{name}{labels_text(labels)} {sample_value(value)}" for labels, value in samples
            )

    for check, (name, help_text) in METRICS.items():
        samples = [
            (labels_of(result, with_check=False), result.value)
            for result in results
            if result.check == check and result.value is not None
        ]
        family(name, help_text, samples)
    family(
        "fruitstore_health_check_ok",
        "1 if the check passed, 0 if it found a problem or could not be made.",
        [(labels_of(result), float(result.status == OK)) for result in results],
    )
    family(
        "fruitstore_health_check_status",
        "Nagios status of the check: 0 OK, 2 problem found, 3 could not be made.",
        [(labels_of(result), float(result.status)) for result in results],
    )
    family(
        "fruitstore_health_last_run_timestamp_seconds",
        "When health_check.py last ran, seconds since the epoch.",
        [({}, now)],
    )
    return "\n".join(lines) + "\n"


def labels_of(result: Result, with_check: bool = True) -> dict[str, str]:
    labels = {"check": result.check} if with_check else {}
    if result.path is not None:
        labels["path"] = result.path
    return labels


def labels_text(labels: dict[str, str]) -> str:
    if not labels:
        return ""

    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{name}="{escape(value)}"' for name, value in labels.items()) + "}"


def sample_value(value: float) -> str:
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return repr(float(value))  # repr gives the shortest exact form; NaN -> "nan" is accepted


def write_textfile(path: str | Path, results: list[Result], now: float) -> None:
    """Temporary file + rename: node_exporter never reads half a file (it skips the .tmp)."""
    with atomic_output(path) as temporary:
        temporary.write_text(prometheus_text(results, now), encoding="utf-8")


# --- one run, or one every --interval seconds ----------------------------------------------


def run_once(args: argparse.Namespace) -> int:
    """Check, print the problems, write the textfile, send what is due; the Nagios status."""
    results = run_checks(
        args.max_cpu, args.min_disk, args.min_memory, args.disk_path, args.cpu_sample
    )
    now = time.time()
    status = overall_status(results)
    for result in results:
        if result.status == OK:
            log.debug("%s", nagios_line(result))
        else:
            print(nagios_line(result), flush=True)
        if result.status == UNKNOWN:
            log.error("health_check.py: %s", result.detail)

    if args.textfile:
        if args.dry_run:
            log.info("would write the metrics to %s", args.textfile)
        else:
            try:
                write_textfile(args.textfile, results, now)
            except OSError as error:
                log.error(
                    "health_check.py: cannot write %s (%s): check --textfile and its folder",
                    args.textfile,
                    error.strerror or error,
                )
                status = degraded(status)

    if not notify(args, results, now):
        status = degraded(status)
    return status


def degraded(status: int) -> int:
    """The status once part of the job failed: UNKNOWN, unless a problem was found."""
    return status if status == CRITICAL else UNKNOWN


def notify(args: argparse.Namespace, results: list[Result], now: float) -> bool:
    """Send the emails that are due and record them; False if any of it failed."""
    if args.dry_run:
        try:
            alerts = load_alerts(args.state)
        except StateError as error:
            log.error("health_check.py: %s", error)
            return False
        for notice in notices_due(
            results, alerts, now, args.repeat_after * 60, args.clear_after * 60
        ):
            print(f'would send "{notice.subject}"', flush=True)
        return True
    try:
        alerts = load_alerts(args.state)
    except StateError as error:
        log.error("health_check.py: %s: this run sent no email", error)
        return False
    if not notices_due(results, alerts, now, args.repeat_after * 60, args.clear_after * 60) and (
        update_alerts(alerts, results, set(), now) == alerts
    ):
        return True  # nothing to send or record, the common case: no lock, no write
    with state_lock(args.state) as locked:
        if not locked:
            log.error(
                "health_check.py: another health_check.py is running with %s (a slow mail "
                "server?): this run sent no email",
                args.state,
            )
            return False
        try:
            alerts = load_alerts(args.state)
        except StateError as error:
            log.error("health_check.py: %s: this run sent no email", error)
            return False
        notices = notices_due(results, alerts, now, args.repeat_after * 60, args.clear_after * 60)
        sent, all_sent = send_notices(notices) if notices else (set(), True)
        updated = update_alerts(alerts, results, sent, now)
        if updated == alerts:
            return all_sent  # nothing changed: a healthy machine writes nothing every minute
        try:
            save_alerts(args.state, updated)
        except OSError as error:
            log.error(
                "health_check.py: cannot save the state to %s (%s): alerts may be sent again",
                args.state,
                error,
            )
            return False
    return all_sent


def run_forever(args: argparse.Namespace) -> int:
    """A run every ``args.interval`` seconds until SIGTERM or Ctrl-C, then exit 0.

    The stop signals are blocked and only taken between runs (sigtimedwait), so a
    stop never cuts a run in half: an email sent is always recorded as sent.
    """
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    next_run = time.monotonic()
    while True:
        run_once(args)
        # Runs start every interval, not interval after the last one ended; a late
        # run skips the ticks it missed rather than running several in a row.
        next_run += args.interval
        late = time.monotonic() - next_run
        if late > 0:
            log.warning(
                "health_check.py: the run took %.1f s longer than --interval %s s: "
                "starting the next one now",
                late,
                number(args.interval),
            )
            next_run = time.monotonic()
        received = signal.sigtimedwait(stop_signals, max(0.0, next_run - time.monotonic()))
        if received is not None:
            log.info("health_check.py: stopped by %s", signal.Signals(received.si_signo).name)
            return OK


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(__doc__)

    def usage_error(message: str) -> NoReturn:
        # Nagios reads a usage error as UNKNOWN (3); argparse would exit 2, "CRITICAL".
        parser.print_usage(sys.stderr)
        parser.exit(UNKNOWN, f"{parser.prog}: error: {message}\n")

    parser.error = usage_error  # type: ignore[method-assign]
    parser.add_argument(
        "--max-cpu",
        type=float,
        default=80,
        metavar="PERCENT",
        help="a problem when CPU usage is over this",
    )
    parser.add_argument(
        "--min-disk",
        type=float,
        default=20,
        metavar="PERCENT",
        help="a problem when available disk space is less than this",
    )
    parser.add_argument(
        "--min-memory",
        type=float,
        default=500,
        metavar="MB",
        help="a problem when available memory is less than this (MB of 1024*1024)",
    )
    parser.add_argument(
        "--disk-path",
        action="append",
        metavar="PATH",
        help="file system to check; repeat for several (default: /)",
    )
    parser.add_argument(
        "--cpu-sample",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how long to measure CPU usage",
    )
    parser.add_argument(
        "--repeat-after",
        type=float,
        default=60,
        metavar="MINUTES",
        help="email a lasting problem again after this long (0: every run)",
    )
    parser.add_argument(
        "--clear-after",
        type=float,
        default=5,
        metavar="MINUTES",
        help="send Resolved once a problem has stayed cleared this long; if it comes back "
        "before, its alert goes on (0: at once)",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="where the alerts sent are remembered ($XDG_STATE_HOME/fruit-store)",
    )
    parser.add_argument(
        "--textfile",
        metavar="PATH",
        help="also write the results for Prometheus (node_exporter textfile *.prom)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        help="check again every SECONDS until stopped (default: check once)",
    )
    args = parser.parse_args(argv)
    thresholds = {
        "--max-cpu": args.max_cpu,
        "--min-disk": args.min_disk,
        "--min-memory": args.min_memory,
    }
    for flag, value in thresholds.items():
        if not math.isfinite(value):
            parser.error(f"{flag} must be a number")
    if not 0 < args.cpu_sample < math.inf:
        parser.error("--cpu-sample must be a number of seconds more than 0")
    for flag, minutes in (
        ("--repeat-after", args.repeat_after),
        ("--clear-after", args.clear_after),
    ):
        if not minutes >= 0:
            parser.error(f"{flag} must be 0 minutes or more")
    if args.interval is not None and not MIN_INTERVAL <= args.interval < math.inf:
        parser.error(f"--interval must be a number of seconds, {number(MIN_INTERVAL)} or more")
    # One check per file system named, in the order given.
    args.disk_path = list(dict.fromkeys(os.path.normpath(p) for p in args.disk_path or ["/"]))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # logging imported at the first message only: a healthy run has none (see cli.LazyLogger).
    setup_logging(args, lazy=True)
    if args.state is None:
        try:
            args.state = default_state_path()
        except RuntimeError as error:  # no home folder, no passwd entry
            log.error(
                "health_check.py: no home folder for the state file (%s): set XDG_STATE_HOME "
                "or give --state",
                error,
            )
            return UNKNOWN
    # Ctrl-C or SIGTERM during a single run: cli.py says so in one line, exit 130 or 143.
    if args.interval is not None:
        return run_forever(args)
    return run_once(args)


if __name__ == "__main__":
    imports_done()
    sys.exit(main())
