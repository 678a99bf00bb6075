"""What the scripts share: where the supplier's data is and how every script behaves.

The supplier's drop is a folder (``$SUPPLIER_DATA``, default
``~/supplier-data``) with ``images/`` and ``descriptions/``. This module
owns that layout and the format of the description files, and the few
habits every script of the chain has in common (``../shared/CONVENTIONS.md``):
settings from flag, then environment, then the lab's default; ``-v``/``-q``
and logging to stderr; a progress bar only at a terminal; the one-line
summary and exit status; atomic writes; the catalog's HTTP session.

It imports only the standard library at the top: ``health_check.py`` runs it
every minute. ``requests`` and ``tqdm`` are imported where they are used.
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
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import requests

log = logging.getLogger("fruit-store")

# Exit statuses of the conventions (health_check.py uses Nagios' own).
EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2

DEFAULT_SUPPLIER_DATA = "~/supplier-data"
DEFAULT_CATALOG_URL = "http://localhost"
# (connect, read) seconds for every request to the catalog.
HTTP_TIMEOUT = (5, 60)


class UsageError(Exception):
    """Bad usage or configuration: the script says why and exits 2, having done nothing."""


# --- settings and command line -------------------------------------------------


def env_default(variable: str, default: str) -> str:
    """The environment's value for a setting, or the lab's default."""
    return os.environ.get(variable) or default


def supplier_data_dir() -> Path:
    return Path(env_default("SUPPLIER_DATA", DEFAULT_SUPPLIER_DATA)).expanduser()


def catalog_url() -> str:
    return env_default("CATALOG_URL", DEFAULT_CATALOG_URL)


def endpoint(base_url: str, name: str) -> str:
    """``http://host`` + ``fruits`` -> ``http://host/fruits/``: always the trailing slash,
    since Django answers a POST to ``/fruits`` with a redirect and the data is lost."""
    return f"{base_url.rstrip('/')}/{name.strip('/')}/"


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
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument(
        "-v", "--verbose", action="store_true", help="say what is done for each item"
    )
    loudness.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    return parser


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows the defaults and keeps the docstring's example as it is written."""


def setup_logging(args: argparse.Namespace) -> None:
    """Messages to stderr: warnings and the summary by default, more with -v, errors with -q."""
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)


T = TypeVar("T")


def progress(items: Iterable[T], total: int, what: str) -> Iterable[T]:
    """A tqdm progress bar when a person watches stderr; the items unchanged under cron."""
    if not sys.stderr.isatty() or not log.isEnabledFor(logging.INFO) or total < 2:
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, unit=what, leave=False, file=sys.stderr)


def finish(done: int, skipped: int, failed: int, what: str) -> int:
    """Log the one-line summary and return the exit status: 0 all done, 1 some failed."""
    log.info("%d %s done, %d skipped, %d failed", done, what, skipped, failed)
    return EXIT_SOME_FAILED if failed else EXIT_OK


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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_output(path) as temporary:
        temporary.write_bytes(data)


# --- the catalog web service -----------------------------------------------------


def catalog_session(pool_size: int = 10, retries: int = 5) -> requests.Session:
    """One keep-alive session for the catalog, retrying what is safe to retry.

    urllib3's ``Retry`` retries with backoff when the connection could not be
    made, and on 502/503/504 answers (the request was not handled). A request
    that was sent and got no answer is never retried here, because a POST may
    have been done: the caller looks at the server before trying again.
    """
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=retries,
        connect=retries,
        read=0,
        status=retries,
        other=0,
        backoff_factor=0.2,
        status_forcelist=(502, 503, 504),
        allowed_methods=None,  # every method: a 503 or a refused connection did nothing
        raise_on_status=False,  # the caller sees the last answer and reports it
    )
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def describe_http_error(error: Exception) -> str:
    """One line for a failed request: what happened, without the traceback's noise."""
    import requests

    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    if isinstance(error, requests.exceptions.Timeout):
        return "no answer in time"
    if isinstance(error, requests.exceptions.ConnectionError):
        reason = error.args[0] if error.args else error
        reason = getattr(reason, "reason", reason)
        return f"connection failed ({reason})"
    return str(error)


def describe_response(response: requests.Response) -> str:
    """``HTTP 400 Bad Request: {"weight": [...]}``, the server's text cut to one line."""
    text = " ".join(response.text.split())
    if len(text) > 300:
        text = text[:300] + "..."
    return f"HTTP {response.status_code} {response.reason}: {text}".rstrip(": ")
