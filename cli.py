"""What every script does alike: flags, logging, progress, the summary line, exit status, files.

``../shared/CONVENTIONS.md`` is the user's side of this module: settings come
from a flag, then the environment, then the lab's default; ``-v``/``-q`` and
logging to stderr; ``--version``; a progress bar only at a terminal; a one-line
summary and the exit status; output files written atomically.

It imports only the standard library: ``health_check.py`` runs it every minute.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

__version__ = "1.1.0"

log = logging.getLogger("fruit-store")

# Exit statuses of the conventions (health_check.py uses Nagios' own).
EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


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
    venv = script.parent / ".venv"
    if (venv / "bin" / "python").exists() and Path(sys.prefix).resolve() != venv.resolve():
        return f"{venv}/bin/python {script}"  # installed: this is just the wrong Python
    if script.parent == Path.cwd():
        return f"make install; .venv/bin/python {script.name}"
    return f"make -C {script.parent} install; {venv}/bin/python {script}"


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

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False) or isinstance(action, argparse._StoreConstAction):
            return action.help  # "(default: False)" on a switch says nothing
        return super()._get_help_string(action)


def setup_logging(args: argparse.Namespace) -> None:
    """Messages to stderr: warnings and the summary by default, more with -v, errors with -q."""
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.INFO
    # Libraries speak at INFO and above only: -v is about our work, not every TIFF tag read.
    logging.basicConfig(
        level=max(level, logging.INFO), format="%(message)s", stream=sys.stderr, force=True
    )
    log.setLevel(level)
    # urllib3 logs each retry as a warning; the script's own one line says what matters.
    logging.getLogger("urllib3").setLevel(logging.WARNING if args.verbose else logging.ERROR)


T = TypeVar("T")


def progress(items: Iterable[T], total: int, what: str) -> Iterable[T]:
    """A tqdm progress bar when a person watches stderr; the items unchanged under cron."""
    if not sys.stderr.isatty() or not log.isEnabledFor(logging.INFO) or total < 2:
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


# --- files ---------------------------------------------------------------------


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary name beside ``path``; rename it into place only if the block succeeds.

    A killed run leaves at most a hidden ``.NAME.*.tmp`` file, never a half-written ``path``.
    """
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o644 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
