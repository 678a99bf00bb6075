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
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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


def check_catalog_url(url: str) -> str:
    """The catalog URL without its trailing slash if it can be used; UsageError if not."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise UsageError(f"catalog URL {url!r} is not usable ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"catalog URL {url!r} is not usable: write it like http://localhost "
            "(check --url or CATALOG_URL)"
        )
    return url.rstrip("/")


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


def add_folder_argument(parser: argparse.ArgumentParser, subfolder: str, what: str) -> None:
    """The optional positional folder every script takes: $SUPPLIER_DATA/<subfolder> by default."""
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=supplier_data_dir() / subfolder,
        help=f"folder of {what} ($SUPPLIER_DATA/{subfolder})",
    )


def add_url_argument(parser: argparse.ArgumentParser, extra: str = "") -> None:
    """--url, the catalog's base URL, for the scripts that talk to it."""
    parser.add_argument(
        "--url", default=catalog_url(), help=f"base URL of the catalog{extra} ($CATALOG_URL)"
    )


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


# --- description files -----------------------------------------------------------
#
# One fruit per ``descriptions/NNN.txt``, positional as on the course's lab:
#
#     Watermelon                  line 1: the name
#     Weight: 500 lbs             line 2: the weight in pounds
#     Watermelons are large ...   line 3 and after: the description
#
# Everything the catalog would refuse is found here, before anything is sent,
# and reported as ``FILE:LINE: what is wrong (what to do)``.

# The catalog's limits (its Django model), in characters.
NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 5000
IMAGE_NAME_MAX_LENGTH = 100
# The largest weight every database's integer column holds.
WEIGHT_MAX = 2**31 - 1
WEIGHT_EXAMPLE = "write it like '500 lbs'"

_WEIGHT_LABEL = re.compile(r"^weight\s*:?\s*", re.IGNORECASE)
# [0-9], not \d: \d also takes Arabic or Devanagari digits.
_WEIGHT = re.compile(r"(-?)\s*([0-9]+)\s*(?:lbs?|pounds?)?", re.IGNORECASE)


@dataclass(frozen=True)
class Description:
    """One fruit read from a description file, as the catalog stores it."""

    path: Path
    name: str
    weight: int  # pounds
    description: str
    image_name: str  # the file's stem + ".jpeg": 001.txt -> 001.jpeg

    def as_json(self) -> dict:
        """The JSON object POSTed to ``/fruits/``."""
        return {
            "name": self.name,
            "weight": self.weight,
            "description": self.description,
            "image_name": self.image_name,
        }


class DescriptionError(ValueError):
    """A description file the catalog would refuse: ``PATH:LINE: message``."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line  # None when the problem is the whole file
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


def parse_weight(text: str) -> int:
    """``500 lbs``, ``500lbs``, ``500 lb``, ``Weight: 500 lbs``, ``500`` -> 500 (pounds).

    Anything but a whole number of pounds is refused with a ValueError saying
    why: a weight is never guessed or rounded.
    """
    shown = _shorten(text.strip())
    value = _WEIGHT_LABEL.sub("", text.strip(), count=1)
    if not value:
        raise ValueError(f"the weight is missing ({WEIGHT_EXAMPLE})")
    match = _WEIGHT.fullmatch(value)
    if match is None:
        raise ValueError(f"weight {shown!r} is not a whole number of pounds ({WEIGHT_EXAMPLE})")
    if match[1]:
        raise ValueError(f"weight {shown!r} is negative ({WEIGHT_EXAMPLE})")
    weight = int(match[2])
    if weight > WEIGHT_MAX:
        raise ValueError(f"weight {shown!r} is too large (at most {WEIGHT_MAX} lbs)")
    return weight


def read_description(path: Path) -> Description:
    """Read one description file; DescriptionError (file and line) if the catalog would refuse it.

    Line 1 is the name and line 2 the weight, exactly: a blank line before the
    name is an error, not skipped, since a shifted file may be a broken one.
    The description lines are joined by single spaces; blank lines and the
    spaces around each line are dropped. UTF-8 (with or without BOM) is
    expected; Windows-1252 is accepted too; CRLF or CR line ends work.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DescriptionError(path, None, f"cannot read the file ({error.strerror})") from None
    lines = [line.strip() for line in _split_lines(_decode(path, data))]
    if not any(lines):
        raise DescriptionError(
            path, None, "the file is empty (write the name on line 1, the weight on line 2)"
        )
    name = lines[0]
    if not name:
        raise DescriptionError(
            path, 1, "line 1 is blank: the name must be on line 1 (remove the blank lines above it)"
        )
    if len(name) > NAME_MAX_LENGTH:
        raise DescriptionError(
            path,
            1,
            f"the name is {len(name)} characters long; the catalog takes at most "
            f"{NAME_MAX_LENGTH} (shorten it)",
        )
    try:
        weight = parse_weight(lines[1] if len(lines) > 1 else "")
    except ValueError as error:
        raise DescriptionError(path, 2, str(error)) from None
    description = " ".join(line for line in lines[2:] if line)
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise DescriptionError(
            path,
            3,
            f"the description is {len(description)} characters long; the catalog takes at most "
            f"{DESCRIPTION_MAX_LENGTH} (shorten it)",
        )
    image_name = path.stem + ".jpeg"
    if len(image_name) > IMAGE_NAME_MAX_LENGTH:
        raise DescriptionError(
            path,
            None,
            f"the image name {image_name!r} is longer than the catalog's "
            f"{IMAGE_NAME_MAX_LENGTH} characters (give the file a shorter name)",
        )
    return Description(path, name, weight, description, image_name)


def read_descriptions(folder: Path) -> tuple[list[Description], list[DescriptionError]]:
    """Every ``*.txt`` file of ``folder`` (sorted by name): the good ones, and the errors.

    The suffix may be in capitals (``001.TXT``); hidden files (an editor's
    ``.001.txt.swp`` or ``.#001.txt``) are left alone. UsageError if
    ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder of description files")
    paths = sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() == ".txt" and not path.name.startswith(".") and path.is_file()
    )
    descriptions, errors = [], []
    for path in paths:
        try:
            descriptions.append(read_description(path))
        except DescriptionError as error:
            errors.append(error)
    return descriptions, errors


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 text (a BOM is dropped), else Windows-1252 text, else a DescriptionError.

    Strict decoding both ways: never a replacement character in the catalog.
    """
    if b"\x00" in data:
        # UTF-16 (Notepad's "Unicode") or a binary file: every other byte would be garbage.
        raise DescriptionError(
            path, None, "is not a text file (it has NUL bytes; UTF-16?): save it as UTF-8 text"
        )
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = error.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise DescriptionError(
            path,
            data.count(b"\n", 0, bad) + 1,
            f"byte 0x{data[bad]:02x} is neither UTF-8 nor Windows-1252 text (save the file as "
            "UTF-8)",
        ) from None
    log.debug("%s: not UTF-8, read as Windows-1252", path)
    return text


def _split_lines(text: str) -> list[str]:
    """Lines as an editor counts them: LF, CRLF or CR ends (not str.splitlines's extra ones)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _shorten(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
