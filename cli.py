"""What every script does alike: flags, logging, progress, the summary line, exit status, files.

``../shared/CONVENTIONS.md`` is the user's side of this module: settings come
from a flag, then the environment, then the lab's default; ``-v``/``-q`` and
logging to stderr; ``--version``; a progress bar only at a terminal; a one-line
summary and the exit status; output files written atomically and synced;
Ctrl-C and SIGTERM (one line, exit 130 or 143); one run at a time (locks).

It imports only the standard library, and at the start only what every run needs:
``health_check.py`` runs it every minute, and a healthy run must cost little more
than the course's five lines of psutil (benchmarks/bench_health_check.py). So
logging is imported at the first message shown (``log`` below), pathlib and
typing where they are used, shutil not at all.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator

# Names for the type hints only (the hints are not evaluated: `from __future__ import
# annotations`), so that importing cli.py does not import pathlib, typing or logging.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from pathlib import Path
    from typing import Any, TypeVar

    T = TypeVar("T")

__version__ = "1.1.0"

# Exit statuses of the conventions (health_check.py uses Nagios' own).
EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
# Another run holds the lock, nothing was done: sysexits.h's EX_TEMPFAIL, "try again later",
# which mail and cron wrappers know; 1 would say items failed, 2 that the command is wrong.
EXIT_BUSY = 75
# Stopped by Ctrl-C (SIGINT) or SIGTERM: 128 + the signal's number, as a shell reports it.
EXIT_SIGINT, EXIT_SIGTERM = 128 + signal.SIGINT, 128 + signal.SIGTERM


class UsageError(Exception):
    """Bad usage or configuration: the script says why and exits 2, having done nothing."""


# --- third-party packages ----------------------------------------------------------

# The modules a script may need: (the package's name, Debian and Ubuntu's package for it).
PACKAGES = {
    "PIL": ("Pillow", "python3-pil"),
    "requests": ("requests", "python3-requests"),
    "urllib3": ("urllib3", "python3-urllib3"),
    "reportlab": ("ReportLab", "python3-reportlab"),
    "psutil": ("psutil", "python3-psutil"),
    "tqdm": ("tqdm", "python3-tqdm"),
}


def require(*modules: str, status: int = EXIT_USAGE) -> None:
    """Exit with one line saying how to get them if this Python lacks any of ``modules``.

    Called by a script before it imports them, so that ``./changeImage.py`` run by a
    Python without Pillow says what to install instead of showing a traceback (also
    for ``--help``). It only looks for the modules (importlib.util.find_spec), it
    imports none of them: nothing to pay when they are all there.
    """
    import importlib.util

    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    if not missing:
        return
    from pathlib import Path

    names = []
    for module in missing:
        package = PACKAGES[module][0]
        names.append(package if package == module else f"{package} (python3 module {module})")
    apt = " ".join(PACKAGES[m][1] for m in missing)
    script = Path(sys.argv[0]).resolve()
    print(
        f"{script.name}: needs {' and '.join(names)}, which this Python ({sys.executable}) "
        f"lacks: sudo apt install {apt}, or run it with the project's virtual environment "
        f"({_venv_command(script)})",
        file=sys.stderr,
    )
    raise SystemExit(status)


def _venv_command(script: Path) -> str:
    """``make install; .venv/bin/python run.py``, with the script's folder if not here."""
    from pathlib import Path

    venv = script.parent / ".venv"
    if (venv / "bin" / "python").exists() and Path(sys.prefix).resolve() != venv.resolve():
        return f"{venv}/bin/python {script}"  # installed: this is just the wrong Python
    if script.parent == Path.cwd():
        return f"make install; .venv/bin/python {script.name}"
    return f"make -C {script.parent} install; {venv}/bin/python {script}"


# --- the script's process ------------------------------------------------------------


def imports_done() -> None:
    """Keep the garbage collector off what the imports made; a script calls it before main().

    Modules, classes and functions live as long as the process, yet every full
    collection walks them again, and so does Python's exit: with requests loaded,
    that is 15 ms of a run that uploads nothing. ``gc.freeze()`` (as long-running
    servers use it before they fork) puts them aside: each script's process starts
    and ends 5 to 18 ms sooner, and a healthy run of health_check.py costs 4 ms less
    CPU. Only from the ``__main__`` block: a test that imports a script leaves its own
    process's collector as it is.
    """
    import gc

    gc.freeze()


# --- settings and command line -------------------------------------------------


def env_default(variable: str, default: str) -> str:
    """The environment's value for a setting, or the lab's default."""
    return os.environ.get(variable) or default


def make_parser(doc: str | None, dry_run: bool = True) -> argparse.ArgumentParser:
    """An argparse parser with the script's docstring as help and the shared flags."""
    summary, _, epilog = (doc or "").strip().partition("\n")
    parser = argparse.ArgumentParser(
        description=summary,
        epilog=epilog.strip() or None,
        formatter_class=HelpFormatter,
    )
    if dry_run:
        parser.add_argument(
            "-n", "--dry-run", action="store_true", help="say what would be done, change nothing"
        )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument(
        "-v", "--verbose", action="store_true", help="say what is done for each item"
    )
    loudness.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    return parser


def positive_int(text: str) -> int:
    """An argparse type: a whole number, 1 or more (``--jobs``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows the defaults and keeps the docstring's example as it is written."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
        **options: Any,
    ) -> None:
        # argparse would find the width with shutil.get_terminal_size(), and it makes a
        # formatter for every add_argument (Python 3.11+): importing shutil (and with it
        # bz2, lzma, fnmatch) cost every health_check.py run 2 ms of CPU, for a width that
        # only --help and a usage error use.
        if width is None:
            width = terminal_columns() - 2  # argparse's own margin
        super().__init__(prog, indent_increment, max_help_position, width, **options)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False) or isinstance(action, argparse._StoreConstAction):
            return action.help  # "(default: False)" on a switch says nothing
        return super()._get_help_string(action)


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: $COLUMNS, else stdout's terminal's, else 80."""
    with contextlib.suppress(KeyError, ValueError):
        columns = int(os.environ["COLUMNS"])
        if columns > 0:
            return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):  # no stdout, or not a terminal
        return 80


# --- messages ------------------------------------------------------------------------

# logging's levels (fixed numbers), known here without importing logging.
DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40


class LazyLogger:
    """The scripts' logger, ``logging.getLogger(name)``, with logging imported when needed.

    ``health_check.py`` runs every minute and a healthy run shows no message, yet
    importing and setting up logging was a sixth of its CPU. So setup_logging(lazy=True)
    leaves its work to the first message to be shown, and until then a message below
    the level asked for is dropped here, as the logger would drop it. From the first
    message on (or any other use: ``log.setLevel``, ``log.handlers``) this object hands
    over to the logger: its methods are put on this object, so that the records are
    made by logging itself (all but the first of a lazy set-up, which names cli.py as
    where it was logged: the scripts' format shows the message alone).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._set_up: Callable[[], None] | None = None  # setup_logging's work, left for later
        self._level = 0  # the level setup_logging asked for, while its work waits

    def set_up_later(self, set_up: Callable[[], None], level: int) -> None:
        self._set_up, self._level = set_up, level

    def logger(self) -> logging.Logger:
        """The logger itself, logging imported and set up (once) as setup_logging said."""
        import logging

        set_up, self._set_up = self._set_up, None
        if set_up is not None:
            set_up()
        logger = logging.getLogger(self.name)
        for method in ("debug", "info", "warning", "error", "log"):
            setattr(self, method, getattr(logger, method))
        return logger

    def __getattr__(self, name: str) -> Any:
        return getattr(self.logger(), name)  # isEnabledFor, setLevel, exception, ...

    def log(self, level: int, message: object, *args: object, **options: Any) -> None:
        if level >= self._level:
            self.logger().log(level, message, *args, **options)

    def debug(self, message: object, *args: object, **options: Any) -> None:
        self.log(DEBUG, message, *args, **options)

    def info(self, message: object, *args: object, **options: Any) -> None:
        self.log(INFO, message, *args, **options)

    def warning(self, message: object, *args: object, **options: Any) -> None:
        self.log(WARNING, message, *args, **options)

    def error(self, message: object, *args: object, **options: Any) -> None:
        self.log(ERROR, message, *args, **options)


log = LazyLogger("fruit-store")


# What a message cannot show as it is: a line break would split it, a terminal's control
# sequence in a file name would act on the terminal (C0 and C1 controls, DEL), a direction
# override would show the rest of the line reversed. Written as Python's escapes: \n,
# \x1b, \u202e, a tab kept, and a real backslash doubled (``a\\nb`` is not a line break).
_CONTROLS = (*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
LOG_ESCAPES = {code: ascii(chr(code))[1:-1] for code in _CONTROLS if code != ord("\t")}
LOG_ESCAPES[ord("\\")] = "\\\\"


def setup_logging(args: argparse.Namespace, lazy: bool = False) -> None:
    """Messages to stderr: warnings and the summary by default, more with -v, errors with -q.

    ``lazy``: import and set up logging only when the first message is to be shown
    (see LazyLogger), for a script whose libraries log nothing (health_check.py): a
    library's message before the script's first one would not be filtered and
    formatted as below.
    """
    level = DEBUG if args.verbose else ERROR if args.quiet else INFO

    def set_up() -> None:
        import logging

        class OneLine(logging.Formatter):
            """A message is one line, whatever a file name holds: ``bad\\nname.txt``."""

            def format(self, record: logging.LogRecord) -> str:
                return super().format(record).translate(LOG_ESCAPES)

        # Libraries speak at INFO and above only: -v is about our work, not every TIFF tag read.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(OneLine("%(message)s"))
        logging.basicConfig(level=max(level, INFO), handlers=[handler], force=True)
        logging.getLogger(log.name).setLevel(level)
        # urllib3 logs each retry as a warning; the script's own one line says what matters.
        logging.getLogger("urllib3").setLevel(WARNING if args.verbose else ERROR)

    log.set_up_later(set_up, level)
    # Once logging is imported (by a library, or pytest), there is nothing to save: now.
    if not lazy or "logging" in sys.modules:
        log.logger()
    handle_stop_signals()


def progress(items: Iterable[T], total: int, what: str) -> Iterable[T]:
    """A tqdm progress bar when a person watches stderr; the items unchanged under cron.

    The items handled are counted for the line an interrupt prints.
    """
    _progress.update(what=what, total=total, count=0)
    items = _counted(items)
    if not sys.stderr.isatty() or not log.isEnabledFor(INFO) or total < 2:
        return items
    try:
        from tqdm import tqdm
    except ImportError:  # a bare lab machine: the work matters, the bar does not
        return items

    return tqdm(items, total=total, unit=what, leave=False, file=sys.stderr)


def finish(done: int, skipped: int, failed: int, what: str, dry_run: bool = False) -> int:
    """Log the one-line summary and return the exit status: 0 all done, 1 some failed.

    In a dry run ``done`` is what a real run would do: "dry run: 3 images to do, ...".
    """
    if dry_run:
        log.info("dry run: %d %s to do, %d skipped, %d failed", done, what, skipped, failed)
    else:
        log.info("%d %s done, %d skipped, %d failed", done, what, skipped, failed)
    return EXIT_SOME_FAILED if failed else EXIT_OK


def plural(number: int, noun: str) -> str:
    """``plural(1, "fruit")`` -> ``1 fruit``, ``plural(3, "fruit")`` -> ``3 fruits``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _counted(items: Iterable[T]) -> Iterator[T]:
    for item in items:
        yield item
        _progress["count"] += 1  # resumed once the caller has handled the item


# --- interrupts --------------------------------------------------------------------
#
# The first Ctrl-C or SIGTERM raises KeyboardInterrupt in the main thread: the
# `with` blocks on its way out remove temporary files and free locks, then
# the top (sys.excepthook) prints one line and leaves at once with os._exit,
# without waiting for threads stuck in a 60 s HTTP read (a POST whose answer is
# lost that way is looked up by the next run before it sends again). Should
# the way out itself block, a watchdog ends the process STOP_GRACE seconds
# later, and a second signal ends it at once: never a hang.

STOP_GRACE = 1.5  # seconds
_progress: dict = {"what": "", "total": 0, "count": 0}
_temporaries: set[str] = set()  # atomic_output's files not yet renamed, removed on any exit
_stop = {"status": 0}
_at_stop: list[Callable[[], None]] = []  # see at_stop()
_said = threading.Lock()


def handle_stop_signals() -> None:
    """Ctrl-C and SIGTERM stop the script as the conventions say (setup_logging calls this)."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _on_stop_signal)
    signal.signal(signal.SIGTERM, _on_stop_signal)
    sys.excepthook = _excepthook


def _on_stop_signal(signum: int, frame: object) -> None:
    if _stop["status"]:  # the second signal: do not wait for anything
        exit_interrupted()
    _stop["status"] = 128 + signum
    threading.Thread(target=_watchdog, daemon=True).start()
    raise KeyboardInterrupt


def _watchdog() -> None:
    time.sleep(STOP_GRACE)
    exit_interrupted()


def _excepthook(kind: type[BaseException], error: BaseException, traceback: object) -> None:
    if issubclass(kind, KeyboardInterrupt):
        exit_interrupted()
    sys.__excepthook__(kind, error, traceback)


def interrupted_line() -> str:
    """``interrupted after 12 of 40 images; run again to do the rest``."""
    what, total, count = _progress["what"], _progress["total"], _progress["count"]
    where = f" after {count} of {plural(total, what.removesuffix('s'))}" if what else ""
    return f"interrupted{where}; run again to do the rest"


def at_stop(callback: Callable[[], None]) -> None:
    """Have ``callback()`` called, once, when a signal stops the run (it must be quick)."""
    if callback not in _at_stop:
        _at_stop.append(callback)


def exit_interrupted() -> None:
    """Say so in one line, remove our temporary files, and end the process now (130 or 143)."""
    status = _stop["status"] or EXIT_SIGINT
    if _said.acquire(blocking=False):  # one line, whichever thread gets here first
        # Straight to the file descriptor: the logging lock may be held by the interrupted code.
        start = "\r\x1b[K" if sys.stderr.isatty() else ""
        with contextlib.suppress(OSError):
            os.write(sys.stderr.fileno(), f"{start}{interrupted_line()}\n".encode())
        for callback in _at_stop:
            with contextlib.suppress(Exception):  # the way out must not fail
                callback()
    remove_temporaries()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    os._exit(status)


def remove_temporaries() -> None:
    """Remove atomic_output's files not yet renamed into place (before an os._exit)."""
    for temporary in list(_temporaries):
        with contextlib.suppress(OSError):
            os.unlink(temporary)


# --- one run at a time -----------------------------------------------------------------


def lock_folders() -> list[Path]:
    """Where lock files may live: the same folder for every run of this user, whatever
    its environment, and not the supplier's folder, which may be read-only.

    A cron job has no $XDG_RUNTIME_DIR and may have another $HOME or $XDG_STATE_HOME
    than a login shell: locks placed by those would not see each other, and both runs
    would send everything. So: ``.local/state/fruit-store/locks`` in the home of the
    user's passwd entry, else ``/tmp/fruit-store-locks-UID`` (``nobody`` has no home).
    ``$FRUIT_STORE_LOCKS`` chooses another folder (the tests do): then set it the same
    for every run, cron's and the shell's, or not at all.
    """
    import pwd  # here: health_check.py, every minute, takes a lock only to send
    from pathlib import Path

    folders = []
    if os.environ.get("FRUIT_STORE_LOCKS"):
        folders.append(Path(os.environ["FRUIT_STORE_LOCKS"]))
    with contextlib.suppress(KeyError):  # no passwd entry
        home = pwd.getpwuid(os.getuid()).pw_dir
        if home not in ("", "/"):
            folders.append(Path(home) / ".local" / "state" / "fruit-store" / "locks")
    folders.append(Path("/tmp") / f"fruit-store-locks-{os.getuid()}")
    return folders


def lock_path(script: str, path: str | Path) -> Path:
    """The lock file of ``script`` working on ``path`` (by its real path), its folder made.

    The first of lock_folders() that is ours and can be made; OSError if none.
    """
    import hashlib

    digest = hashlib.sha256(os.fsencode(os.path.realpath(path))).hexdigest()[:16]
    problem: OSError = OSError("no folder for lock files")
    for folder in lock_folders():
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            info = os.lstat(folder)
        except OSError as error:
            problem = error
            continue
        # In a shared temporary folder, only a folder of our own (not another user's link).
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            return folder / f"{script}-{digest}.lock"
    raise problem


_held_locks: list[int] = []


def try_lock(script: str, path: str | Path, wait: bool = False) -> tuple[int | None, str]:
    """Lock ``script`` on ``path``: (the lock's descriptor, "") or (None, the holder's pid).

    ``flock`` on a file: the kernel frees it when the process ends, however it ends.
    With ``wait`` it waits for the holder, saying so in one line. OSError if the
    lock file cannot be made.
    """
    file = lock_path(script, path)
    # O_NONBLOCK: a FIFO put where the lock file goes must not hang the run.
    fd = os.open(file, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{file}: not a regular file: remove it")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            if not wait:
                os.close(fd)
                return None, holder
            log.error(
                "waiting for another %s working on %s (pid %s)", script, real_path(path), holder
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        with contextlib.suppress(
            OSError
        ):  # who holds it is for messages; a full disk is no reason to stop
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    _held_locks.append(fd)
    return fd, ""


def unlock(fd: int) -> None:
    with contextlib.suppress(ValueError):
        _held_locks.remove(fd)
    os.close(fd)


@contextlib.contextmanager
def single_run(script: str, path: Path, wait: bool = False) -> Iterator[None]:
    """Run the block as the only ``script`` working on ``path``, else exit EXIT_BUSY at once.

    One line either way, shown under -q too: ``another run.py is working on
    /path (pid 1234); exiting``, or with ``wait`` that it waits.
    """
    fd = hold_lock(script, path, wait)
    try:
        yield
    finally:
        unlock(fd)


def hold_lock(script: str, path: Path, wait: bool = False) -> int:
    """single_run() for the rest of the process (the kernel frees the lock when it ends).

    For a script's main(): one line in it instead of a block around all of it.
    """
    try:
        fd, holder = try_lock(script, path, wait)
    except OSError as error:
        log.error("%s: cannot take the lock for %s (%s)", script, path, error.strerror or error)
        raise SystemExit(EXIT_USAGE) from None
    if fd is None:
        log.error(
            "another %s is working on %s (pid %s); exiting (--wait to wait for it)",
            script,
            real_path(path),
            holder,
        )
        raise SystemExit(EXIT_BUSY)
    return fd


def add_wait_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        action="store_true",
        help=f"when another run works on the same folder, wait for it (else exit {EXIT_BUSY})",
    )


def real_path(path: str | Path) -> str:
    return os.path.realpath(path)


def _close_locks_in_child() -> None:
    # A forked worker must not keep its parent's lock alive after the parent is gone.
    for fd in _held_locks:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held_locks.clear()


os.register_at_fork(after_in_child=_close_locks_in_child)


# --- files ---------------------------------------------------------------------


@contextlib.contextmanager
def atomic_output(path: str | Path, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary name beside ``path``; rename it into place only if the block succeeds.

    The file is flushed to the disk (fsync) before the rename, and the folder after
    it, so that a crash leaves the old file or the new one. ``durable=False`` skips the
    two fsyncs (5 ms here) for a file whose loss in a crash costs nothing: a reader still
    sees the old file or the new one, never half of one. A killed run leaves at
    most a hidden ``.NAME.*.tmp`` file, never a half-written ``path``. An OSError
    with an error number (no space, I/O error, read-only) is raised naming ``path``,
    and the temporary file is removed. A ``path`` that is a folder, a symlink, a
    device or a FIFO is left as it is (OSError).
    """
    import tempfile
    from pathlib import Path

    path = Path(path)
    with contextlib.suppress(FileNotFoundError):
        # The rename would put a file where a symlink, a device (/dev/null) or a FIFO was.
        if not stat.S_ISREG(os.lstat(path).st_mode):
            why = "not a plain file but a folder, symlink or device"
            raise OSError(errno.EEXIST, why, str(path))
    temporary = None
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        _temporaries.add(temporary)
        os.close(fd)
        yield Path(temporary)
        if durable:
            sync_file(temporary)
        os.chmod(temporary, 0o644 & ~_umask())
        os.replace(temporary, path)
        _temporaries.discard(temporary)
        if durable:
            sync_folder(path.parent)
    except OSError as error:
        _remove(temporary)
        if error.errno is None or error.filename == str(path):
            raise
        raise OSError(error.errno, error.strerror, str(path)) from None
    except BaseException:
        _remove(temporary)
        raise


def _remove(temporary: str | None) -> None:
    if temporary is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        _temporaries.discard(temporary)


def sync_file(path: str | Path) -> None:
    """Have the kernel write ``path``'s data to the disk now: a late I/O error shows here."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_folder(path: str | Path) -> None:
    """Make a rename in ``path`` durable (some file systems cannot sync a folder: fine)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- small JSON state files (alerts sent, reports sent, pictures seen) ---------------------


def state_folder() -> str:
    """``$XDG_STATE_HOME/fruit-store``, by default ``~/.local/state/fruit-store``.

    RuntimeError when there is no home folder (a user with no passwd entry and no $HOME).
    """
    base = os.environ.get("XDG_STATE_HOME")
    if not base:
        # os.path, not Path.home(): health_check.py looks here every minute, without pathlib.
        home = os.path.expanduser("~")
        if home.startswith("~"):  # no $HOME, no passwd entry: Path.home()'s error
            raise RuntimeError("Could not determine home directory.")
        base = os.path.join(home, ".local", "state")
    return os.path.join(base, "fruit-store")


class StateError(Exception):
    """A state file that cannot be used at all (not a regular file): the run sends nothing."""


def read_state(path: str | Path, section: str, script: str) -> dict:
    """The ``section`` of a state file written by write_state, ``{}`` for a fresh start.

    A missing file is a fresh start. So is a damaged one, with a warning: losing it costs
    at most one message sent again, while refusing to run would cost all of them.
    StateError when the path is not a regular file (a FIFO, a folder): reading would
    hang, and writing would replace what someone put there.
    """
    try:
        # O_NONBLOCK: opening a FIFO does not wait for a writer; it is refused below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return {}
    except OSError as error:
        log.warning("%s: cannot read the state (%s): starting afresh", path, error.strerror)
        return {}
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # before open(), which refuses a folder
        os.close(fd)
        raise StateError(
            f"{path}: not a regular file (a folder, a FIFO or a device?): remove it, or "
            "choose another file with --state"
        )
    try:
        with open(fd, "rb") as file:
            import json  # here, not at the top: a machine that stays healthy has no state

            data = json.loads(file.read().decode("utf-8"))
    except (OSError, ValueError) as error:
        log.warning("%s: cannot read the state (%s): starting afresh", path, error)
        return {}
    entries = data.get(section) if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        log.warning("%s: not a %s state file: starting afresh", path, script)
        return {}
    return entries


def write_state(
    path: str | Path, section: str, entries: dict, version: int = 1, durable: bool = True
) -> None:
    """Write a state file atomically (fsynced unless not ``durable``, see atomic_output): a
    run killed halfway leaves the old one."""
    import json

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    text = json.dumps({"version": version, section: entries}, indent=2, sort_keys=True)
    with atomic_output(path, durable) as temporary:
        temporary.write_text(text + "\n", encoding="utf-8")
