"""Everything said to the catalog web service.

The session and its retries, the endpoints, the name an image has in the
catalog, what the server already has, and posting exactly once: every script
that talks to the catalog (``supplier_image_upload.py``, ``run.py``,
``report_email.py``, ``feedback.py``) does it through here.

``requests`` is imported where it is used, so that importing this module
costs nothing to a script that only needs a name rule.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import functools
import hashlib
import html
import json
import math
import os
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import unquote

from cli import (
    StateError,
    UsageError,
    at_stop,
    env_default,
    log,
    plural,
    positive_int,
    progress,
    read_state,
    state_folder,
    write_state,
)

if TYPE_CHECKING:
    import requests

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_CATALOG_URL = "http://localhost"
# The most requests in flight at once over the keep-alive session (--jobs): at 20 ms per
# answer, 8 keep the server busy where 4 left it waiting (benchmarks/README.md). Pace
# sends fewer when more would not be answered sooner.
DEFAULT_JOBS = 8
# (connect, read) seconds for every request to the catalog.
HTTP_TIMEOUT = (5, 60)


def catalog_url() -> str:
    return env_default("CATALOG_URL", DEFAULT_CATALOG_URL)


def check_catalog_url(url: str) -> str:
    """The catalog's base URL, ``http://host``, from any form a student writes it.

    ``http://host``, ``http://host/``, ``http://host/fruits/``, ``http://host/upload``
    (and ``/feedback/``) all give ``http://host``; a path before those is kept
    (``https://example.com/shop``). UsageError if it is not an HTTP URL, or if it
    holds a password, which would show in ``ps``, in every message and in the state.
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        if parts.password is not None:
            raise UsageError(
                "the catalog URL has a password in it, which would show in ps and in every "
                "message: put the login in ~/.netrc (machine HOST login USER password ...)"
            )
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        shown = re.sub(r"//[^/]*@", "//...@", url)  # a login, perhaps a password: not shown
        raise UsageError(f"catalog URL {shown!r} is not usable ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise UsageError(
            f"catalog URL {url!r} is not usable: write it like http://localhost "
            "(check --url or CATALOG_URL)"
        )
    base = url.strip().rstrip("/")
    for name in ENDPOINTS:
        base = base.removesuffix(f"/{name}")
    return base


# The service's endpoints; a URL given with one of them at its end means the service's base.
ENDPOINTS = ("fruits", "upload", "feedback")


def endpoint(base_url: str, name: str) -> str:
    """``http://host`` + ``fruits`` -> ``http://host/fruits/``: always the trailing slash,
    since the course's server (DEBUG on) answers a POST to ``/fruits`` with a 500 page."""
    return f"{base_url.rstrip('/')}/{name.strip('/')}/"


def media_url(base_url: str, name: str = "") -> str:
    """Where the service serves an uploaded image (quoted), or the folder of them."""
    from urllib.parse import quote

    return f"{base_url.rstrip('/')}/media/images/{quote(name)}"


def add_url_argument(parser: argparse.ArgumentParser, extra: str = "") -> None:
    """--url, the catalog's base URL, for the scripts that talk to it."""
    parser.add_argument(
        "--url", default=catalog_url(), help=f"base URL of the catalog{extra} ($CATALOG_URL)"
    )


def add_jobs_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """--jobs, the most requests in flight at once (``what``: "fruits sent")."""
    parser.add_argument(
        "-j",
        "--jobs",
        type=positive_int,
        default=DEFAULT_JOBS,
        help=f"most {what} at a time (fewer when more would not be faster)",
    )


# --- the name an image has in the catalog -------------------------------------------------

# The course's server keeps uploads in a FileField (upload_to="images/",
# max_length=100): Django cleans the name (get_valid_filename), and cuts a name
# whose "images/NAME" is over 100 characters, adding a random suffix. On the lab
# machine (Apache, LANG=C) a non-ASCII name is an HTTP 500.
IMAGE_NAME_MAX = 100 - len("images/")


def catalog_image_name(name: str) -> str:
    """The name the course's server stores an upload named ``name`` under, unchanged.

    ASCII only (accents transliterated: ``fraîse`` -> ``fraise``), spaces to
    ``_``, other characters dropped (as Django's ``get_valid_filename``), no leading
    dot, and the stem shortened so that the server does not cut it. ``my fruit.jpeg`` ->
    ``my_fruit.jpeg``, ``★.apple.jpeg`` -> ``apple.jpeg``. ValueError when nothing usable
    is left (``日本.jpeg``).
    """
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = _clean(suffix)
    # No leading dot: Apache's listing hides such a file (IndexIgnore .??*), and so does ours.
    stem = _clean(stem).lstrip(".")[: IMAGE_NAME_MAX - len(suffix) - 1].rstrip(".")
    if not stem.strip("._-"):
        raise ValueError(
            f"{name!r} has no letters or digits a web server keeps in a file name; "
            "rename it with Latin letters or digits"
        )
    return f"{stem}.{suffix}" if suffix else stem


# Letters NFKD does not take apart into an ASCII letter and an accent.
_TRANSLITERATION = str.maketrans(
    {"Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o", "ß": "ss", "Ł": "L",
     "ł": "l", "Đ": "D", "đ": "d", "Þ": "Th", "þ": "th", "ı": "i"}
)  # fmt: skip


def _clean(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATION))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^-\w.]", "", ascii_text.strip().replace(" ", "_"), flags=re.ASCII)


def catalog_session(base: str, pool_size: int = 10, retries: int = 5) -> requests.Session:
    """One keep-alive session for the catalog at ``base``, retrying what is safe to retry.

    urllib3's ``Retry`` retries with backoff when the connection could not be
    made, and on 502/503/504 answers, but a POST on a 503 only (it was not
    handled): a 502 or 504 from a proxy in front, like a request that was sent and
    got no answer, may have been done, so the caller looks at the server first.
    """
    import requests
    from requests.adapters import HTTPAdapter

    retry = _catalog_retry()(
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
    # requests reads the environment (proxy variables, REQUESTS_CA_BUNDLE, ~/.netrc) again
    # for every request: a fifth of its CPU per upload, taken from the server on 2 cores.
    # Every request goes to base, so read it once, for base, as requests would.
    found = session.merge_environment_settings(base, {}, None, None, None)
    session.proxies, session.verify = found["proxies"], found["verify"]
    session.auth = requests.utils.get_netrc_auth(base)
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # in_flight() sends as many at once as the answers' times say the server takes.
    session.pace = Pace(pool_size)
    session.hooks["response"] += [session.pace.observe, _note_answer_time]
    return session


# What a proxy in front of the service (nginx, Apache's mod_proxy) answers when the service
# failed or was slower than its timeout: the service may have done the work, or do it later.
MAYBE_DONE = (502, 504)
RETRY_AFTER_MAX = 5  # seconds: the longest a server's Retry-After makes a retry wait
MAY_STILL_ARRIVE = (
    "not in the catalog yet, but the server may still be at it: the next run waits for it, "
    "then looks before sending"
)


@functools.cache
def _catalog_retry() -> type:
    from urllib3.util.retry import Retry

    class CatalogRetry(Retry):
        """urllib3's Retry, except that a POST answered 502 or 504 is not sent again, and a
        Retry-After is waited for RETRY_AFTER_MAX seconds at most."""

        def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
            if method == "POST" and status_code in MAYBE_DONE:
                return False
            return super().is_retry(method, status_code, has_retry_after)

        def get_retry_after(self, response) -> float | None:
            # A server's "Retry-After: 3600" would hold the run, its lock and the chain for
            # hours, five times over: a few seconds, then the run says to try again later.
            seconds = super().get_retry_after(response)
            return None if seconds is None else min(seconds, RETRY_AFTER_MAX)

    return CatalogRetry


def describe_http_error(error: Exception) -> str:
    """One line for a failed request: what happened, without the traceback's noise."""
    import requests

    if isinstance(error, requests.exceptions.SSLError):
        # An https:// URL to a plain HTTP server: "wrong version number", "record layer failure".
        return (
            f"TLS failed ({_innermost(error)}): if the server speaks plain HTTP, "
            "write the URL with http://"
        )
    if isinstance(error, requests.exceptions.ProxyError):
        # urllib3 words it its own way in each version; the OS's reason is the same.
        found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(error))
        return (
            f"cannot connect to the proxy ({found.group(1) if found else _innermost(error)}): "
            "check http_proxy and https_proxy, or put the catalog's host in no_proxy"
        )
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    if isinstance(error, requests.exceptions.Timeout) or answer_late(error):
        return f"no answer in {HTTP_TIMEOUT[1]} s"
    if isinstance(error, requests.exceptions.ConnectionError):
        reason = error.args[0] if error.args else error
        reason = getattr(reason, "reason", reason)
        return f"connection failed ({reason})"
    return str(error)


def _innermost(error: BaseException) -> str:
    """The reason at the bottom of urllib3's wrapped errors, on one line."""
    while error.args and isinstance(error.args[0], BaseException):
        error = error.args[0]
    reason = getattr(error, "reason", None)
    return " ".join(str(reason if isinstance(reason, BaseException) else error).split())


def describe_response(response: requests.Response) -> str:
    """``HTTP 400 Bad Request: {"weight": [...]}``, the server's text cut to one line.

    Of an HTML error page (Django's debug pages, a proxy's), its title: ``Page not found
    at /fruit/``, ``IntegrityError at /fruits/``, ``504 Gateway Time-out``.
    """
    text = response.text
    if "html" in response.headers.get("Content-Type", ""):
        title = re.search(r"<title>(.*?)</title>", text, re.DOTALL | re.IGNORECASE)
        text = html.unescape(title.group(1)) if title else ""
    text = " ".join(text.split())
    if len(text) > 300:
        text = text[:300] + "..."
    return f"HTTP {response.status_code} {response.reason}: {text}".rstrip(": ")


class CatalogError(Exception):
    """The catalog could not be read or reached; str() is one line saying what to do."""


def answer_lost(error: Exception) -> bool:
    """True when a request went out and no answer came back (connection dropped, read
    timeout): the server may have done the work. False when no connection could be made."""
    import requests
    import urllib3

    if not isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return False
    if isinstance(error, (requests.ConnectTimeout, requests.exceptions.SSLError)):
        return False
    # NewConnectionError (refused, unknown host) is a ConnectTimeoutError in urllib3 2.
    return not isinstance(_urllib3_reason(error), urllib3.exceptions.ConnectTimeoutError)


def answer_late(error: Exception) -> bool:
    """True when a request went out and no answer came within the read timeout: the server
    may still be at it (requests words it as a ReadTimeout, or a ConnectionError after the
    session's Retry)."""
    import requests
    import urllib3

    return isinstance(error, requests.ReadTimeout) or isinstance(
        _urllib3_reason(error), urllib3.exceptions.ReadTimeoutError
    )


def _urllib3_reason(error: Exception) -> object:
    """What urllib3's MaxRetryError, inside requests' error, says went wrong (or None)."""
    return getattr(error.args[0], "reason", None) if error.args else None


# --- what the catalog has --------------------------------------------------------------------


def fetch_list(session: requests.Session, url: str) -> list[dict]:
    """The rows ``GET url`` lists (``/fruits/``, ``/feedback/``); CatalogError if it cannot tell."""
    import requests

    try:
        response = session.get(url, timeout=HTTP_TIMEOUT)
    except requests.RequestException as error:
        raise CatalogError(
            f"cannot reach the catalog at {url}: {describe_http_error(error)}; is it running?"
        ) from None
    if response.status_code != 200:
        hint = "try again later" if response.status_code >= 500 else "is the URL right?"
        raise CatalogError(
            f"cannot read the catalog at {url}: {describe_response(response)}; {hint}"
        )
    try:
        rows = response.json()
    except ValueError:
        rows = None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise CatalogError(f"{url} did not answer with a list; is the URL right?")
    return rows


def listed_keys(session: requests.Session, url: str, key: Callable[[dict], object]) -> set:
    """The ``key`` of each row ``GET url`` lists; CatalogError if the rows are not the
    catalog's (a field missing, or a list where a name should be)."""
    rows = fetch_list(session, url)
    try:
        return {key(row) for row in rows}
    except (KeyError, TypeError) as error:
        odd = f"a row has no {error}" if isinstance(error, KeyError) else "a row has odd values"
        raise CatalogError(
            f"{url} did not list the catalog's rows ({odd}); is the URL right?"
        ) from None


def keys_present(
    session: requests.Session, url: str, key: Callable[[dict], object], dry_run: bool, noun: str
) -> set | None:
    """The keys of the rows ``GET url`` lists, to send only what is not there yet.

    None when the list cannot be read, said in one line: an error, or in a dry run a
    warning (the dry run then shows every ``noun``, since it cannot tell).
    """
    wait_if_a_killed_run_was_sending(url)
    try:
        return listed_keys(session, url, key)
    except CatalogError as error:
        if dry_run:
            log.warning("%s (showing every %s)", error, noun)
        else:
            log.error("%s", error)
        return None


def listed_images(session: requests.Session, base_url: str) -> dict[str, str] | None:
    """The names in the server's listing of ``/media/images/`` (one request), each with
    what its row says after the name, date and size (``2026-11-22 04:07 23K``); None if
    the server offers no listing (Apache without ``Options Indexes`` answers 403, or serves
    an ``index.html`` there). CatalogError if the server cannot be reached, or answers
    with a server error."""
    import requests

    url = media_url(base_url)
    try:
        response = session.get(url, timeout=HTTP_TIMEOUT)
    except requests.RequestException as error:
        raise CatalogError(
            f"cannot reach the catalog at {base_url}/: {describe_http_error(error)}: "
            "is the service running? Check --url or CATALOG_URL"
        ) from None
    # After the session's retries: asked image by image instead, each would wait as long.
    if response.status_code >= 500:
        raise CatalogError(
            f"cannot read the catalog's pictures at {url}: {describe_response(response)}; "
            "try again later"
        )
    if response.status_code != 200 or "html" not in response.headers.get("Content-Type", ""):
        return None
    # Apache's and nginx's listings are "Index of /media/images/". Any other page (an
    # index.html put there to hide the listing, a catch-all) lists nothing it has.
    if not re.search(r"<title>\s*Index of ", response.text, re.IGNORECASE):
        return None
    return _IndexRows.rows_in(response.text)


class _IndexRows(HTMLParser):
    """The files an Apache (mod_autoindex) or nginx listing links to, and the text that
    follows each link up to the next one or the row's end: its date and size."""

    @classmethod
    def rows_in(cls, page: str) -> dict[str, str]:
        parser = cls()
        parser.rows: dict[str, list[str]] = {}
        parser.name = None  # the file whose row is being read
        parser.in_link = False
        parser.feed(page)
        return {name: " ".join("".join(text).split()) for name, text in parser.rows.items()}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "tr"):
            self.name = None
        href = dict(attrs).get("href") or ""
        if tag == "a" and href and not href.startswith(("?", "/", "#")) and "/" not in href:
            self.name, self.in_link = unquote(href), True
            self.rows[self.name] = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self.in_link = False
        elif tag == "tr":
            self.name = None

    def handle_data(self, data: str) -> None:
        if self.name is not None and not self.in_link:
            self.rows[self.name].append(data)


def image_digest(session: requests.Session, base_url: str, name: str) -> str | None:
    """SHA-256 of the image the server serves as ``name``, None when it has none.

    The whole picture, not its size: two plain JPEGs of one size are common.
    Raises CatalogError when the answer does not say, and requests' errors.
    """
    url = media_url(base_url, name)
    with session.get(url, timeout=HTTP_TIMEOUT, stream=True) as response:
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise CatalogError(
                f"cannot tell whether the server has {name} (GET {url}: "
                f"{describe_response(response)})"
            )
        digest = hashlib.sha256()
        for chunk in response.iter_content(64 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


class ServerImages:
    """What the server has in ``/media/images/``: one listing, then one GET per name asked
    that the listing has (without a listing, every name asked).

    With a ``record`` (a state file, ``known_images_path()``), what a run learns of the
    pictures' content is kept for the next run, as rsync's quick check keeps sizes and
    dates: a picture whose listing row (date to the minute, size) is what it was when
    its content was last fetched, or that this machine uploaded itself, is not fetched
    again. A row that changed means the picture is fetched. Without a listing the
    record is never trusted. Answers are remembered within a run; safe from threads.
    """

    def __init__(
        self, session: requests.Session, base_url: str, record: Path | None = None
    ) -> None:
        self.session, self.base_url, self.record = session, base_url, record
        wait_if_a_killed_run_was_sending(endpoint(base_url, "upload"))  # pictures on their way
        self.listing = listed_images(session, base_url)
        self._known = load_known_images(record, base_url) if record and self.listing else {}
        self._digests: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def digest(self, name: str, fresh: bool = False) -> str | None:
        """SHA-256 of ``name`` on the server, None if it is not there (``fresh``: ask again)."""
        if not fresh:
            with self._lock:
                if name in self._digests:
                    return self._digests[name]
            if self.listing is not None:
                if name not in self.listing:
                    return None
                known = self._known.get(name)
                # "": uploaded from here, not listed since: the first row seen is its own.
                if known and known["listed"] in ("", self.listing[name]):
                    return known["sha256"]
        digest = image_digest(self.session, self.base_url, name)
        with self._lock:
            self._digests[name] = digest
        return digest

    def uploaded(self, name: str, digest: str) -> None:
        """This run stored the picture of SHA-256 ``digest`` as ``name`` (a 201 for it)."""
        with self._lock:
            self._digests[name] = digest

    def save(self) -> None:
        """Keep what this run learnt in the record; pictures no longer listed are dropped.

        Two runs saving at once may lose what one of them learnt: it is fetched again.
        """
        if self.record is None or self.listing is None:
            return
        known = {
            name: {"sha256": entry["sha256"], "listed": self.listing[name]}
            for name, entry in self._known.items()
            if name in self.listing and entry["listed"] in ("", self.listing[name])
        }
        for name, digest in self._digests.items():
            if digest is not None:  # content fetched in this run, or uploaded by it
                known[name] = {"sha256": digest, "listed": self.listing.get(name, "")}
        if known != self._known:
            save_known_images(self.record, self.base_url, known)


def known_images_path() -> Path | None:
    """The record of ServerImages: ``$XDG_STATE_HOME/fruit-store/server_images.json``.

    None for a user without a home folder: every picture is then fetched.
    """
    try:
        return Path(state_folder()) / "server_images.json"
    except (RuntimeError, KeyError, OSError):
        return None


def load_known_images(path: Path, base_url: str) -> dict[str, dict[str, str]]:
    """What the record says of ``base_url``'s pictures: {name: {"sha256", "listed"}}.

    A damaged or odd record is an empty one (cli.read_state): it costs GETs, nothing else.
    """
    try:
        servers = read_state(path, "servers", "server images")
    except StateError as error:
        log.warning("%s", error)
        return {}
    pictures = servers.get(base_url)
    if not isinstance(pictures, dict):
        return {}
    return {
        name: entry
        for name, entry in pictures.items()
        if isinstance(entry, dict)
        and isinstance(entry.get("sha256"), str)
        and isinstance(entry.get("listed"), str)
    }


def save_known_images(path: Path, base_url: str, pictures: dict[str, dict[str, str]]) -> None:
    """Replace ``base_url``'s pictures in the record, the other servers' kept; never raises."""
    try:
        servers = read_state(path, "servers", "server images")
        servers[base_url] = pictures
        # A cache, not fsynced: one lost in a crash costs GETs (the server is listed anyway).
        write_state(path, "servers", servers, durable=False)
    except (StateError, OSError) as error:  # a cache: the next run fetches the pictures
        log.warning("%s: cannot keep what was learnt of the server's pictures (%s)", path, error)


# --- requests a stopped or killed run left unanswered ---------------------------------------
#
# Ctrl-C or SIGTERM ends a run at once (cli.py), leaving its last requests with the
# server, which may still do them after we are gone. A run started right after would
# not see them done yet and send them again: a fruit twice, a picture stored twice. So
# a stopped run writes down which requests had no answer yet, and until when the server
# may still be at them (twice the slowest answer seen, plus a second, at most a read
# timeout more than it waited); the next run waits until then before it looks whether
# one of those was done, and sends it only if not.
#
# kill -9 (the OOM killer, `timeout -s KILL`) lets a run write nothing. So while a run
# sends, a file of its own says to which URLs and how slow the answers are
# (sending/PID.json in the state folder; its time is that of the last answer, to half a
# second); the run removes it when it ends or stops. A run that finds the file of a
# process that is gone waits, before its first look at that URL, as long as the server
# may still be at the killed run's requests: it cannot tell which they were, so it looks
# at all again.

_unanswered: dict[str, dict[str, float]] = {}  # URL -> {key: when sent} of requests in flight
_answers = {"slowest": 0.0}
_unanswered_lock = threading.Lock()
_sending: dict = {"urls": [], "slowest": 0.0, "path": "", "touched": 0.0}  # sending/PID.json
_unanswered_file: list[Path] = []  # this run's file in unanswered/, once it has written one
MARKED_EVERY = 0.5  # seconds: how often sending/PID.json's time is set to the last answer's


def unanswered_folder() -> Path:
    """Where stopped runs say what they left unanswered: a file per run, so that runs
    stopped together (a SIGTERM to all, a shutdown) never write over each other's."""
    return Path(state_folder()) / "unanswered"


class MayStillArrive(Exception):
    """No answer within the read timeout, or a proxy's 502/504, and the server does not have
    it yet: it may still be at it.

    Sent again now, it could be done twice. Raised in ``awaiting_answer``, the
    request stays unanswered: the next run waits until the server must be done with
    it (``unanswered/``), then looks before sending. str() says so in one line.
    """


@contextlib.contextmanager
def awaiting_answer(url: str, key: str) -> Iterator[None]:
    """While in the block, a request to ``url`` for ``key`` is sent and not answered yet."""
    with _unanswered_lock:
        _unanswered.setdefault(url, {})[key] = time.monotonic()
        if url not in _sending["urls"]:
            _sending["urls"].append(url)
            _write_sending()
    at_stop(_save_unanswered)
    left = False
    try:
        yield
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM while it waited (--jobs 1): still unanswered
        left = True
        raise
    except MayStillArrive:
        left = True
        with _unanswered_lock:  # the slowest answer is now this one, which has not come yet
            _answers["slowest"] = max(_answers["slowest"], time.monotonic() - _unanswered[url][key])
            _write_sending()  # for the next run, should unanswered/ not be written
        _save_unanswered_at_exit()
        raise
    finally:
        if not left:
            with _unanswered_lock:
                _unanswered[url].pop(key, None)


@functools.cache
def _save_unanswered_at_exit() -> None:
    atexit.register(_save_unanswered)


def _note_answer_time(response: requests.Response, *args: object, **kwargs: object) -> None:
    """A requests response hook: the slowest answer so far (``elapsed``, to its headers)."""
    _answers["slowest"] = max(_answers["slowest"], response.elapsed.total_seconds())
    if not _sending["path"]:
        return
    with _unanswered_lock:
        if _answers["slowest"] > 1.5 * _sending["slowest"] + 0.01:
            _write_sending()  # a few times a run: when the answers get much slower
            return
    # Its time is the last answer's, to MARKED_EVERY: a syscall per answer would take the GIL
    # from the threads sending. A later run takes the last answer to be that much later.
    now = time.monotonic()
    if now - _sending["touched"] >= MARKED_EVERY:
        _sending["touched"] = now
        with contextlib.suppress(OSError):
            os.utime(_sending["path"])


def _write_sending() -> None:
    """(Re)write this run's sending/PID.json, removed when the run ends (or stops)."""
    try:
        path = _sending["path"] or os.path.join(state_folder(), "sending", f"{os.getpid()}.json")
        _sending["slowest"] = _answers["slowest"]
        # When this process started: a process given its PID later is not this run.
        started = _process_started(os.getpid())
        entry = {"urls": _sending["urls"], "slowest": _sending["slowest"], "started": started}
        # Not fsynced: it is for a kill -9, after which the page cache still has it; after a
        # crash and a reboot the server is done with what it had (5 ms before the first POST).
        write_state(path, "sending", entry, durable=False)
        _sending["touched"] = time.monotonic()
    except (OSError, RuntimeError) as error:  # the run goes on; a kill -9 would go unseen
        _say_sending_unwritten(getattr(error, "strerror", None) or str(error))
        return
    if not _sending["path"]:
        _sending["path"] = path
        atexit.register(_remove_sending)


@functools.cache
def _say_sending_unwritten(reason: str) -> None:
    log.warning(
        "cannot write down that this run is sending (%s): if it is killed, wait %d s before "
        "running it again",
        reason,
        HTTP_TIMEOUT[1],
    )


def _remove_sending() -> None:
    if _sending["path"]:
        with contextlib.suppress(OSError):
            os.unlink(_sending["path"])


def _save_unanswered() -> None:
    """At a stop: the requests without an answer, and until when the server may do them."""
    now, clock = time.time(), time.monotonic()
    with _unanswered_lock:
        waiting = {url: dict(keys) for url, keys in _unanswered.items() if keys}
    if not waiting:
        _remove_sending()
        return
    left: dict[str, dict[str, float]] = {}
    for url, keys in waiting.items():
        for key, sent in keys.items():
            waited = clock - sent
            slowest = max(_answers["slowest"], waited)
            # Twice the slowest answer, at most one read timeout more than it has waited: a
            # request that got no answer in a read timeout is slower than that.
            until = min(2 * slowest + 1, waited + HTTP_TIMEOUT[1])
            left.setdefault(url, {})[key] = now - waited + until
    try:
        if not _unanswered_file:  # a name no other run has, even one given this PID later
            _unanswered_file.append(unanswered_folder() / f"{os.getpid()}-{time.time_ns()}.json")
        write_state(_unanswered_file[0], "unanswered", left)
    except (OSError, RuntimeError, KeyError) as error:  # no state folder, a full disk
        # sending/PID.json is kept, if it could be written: the next run waits as after a kill.
        _sending["path"] = ""
        wait = math.ceil(max(until for keys in left.values() for until in keys.values()) - now)
        reason = getattr(error, "strerror", None) or error
        # Straight to stderr: at a stop, the logging lock may be held by the interrupted code.
        with contextlib.suppress(OSError):
            os.write(
                sys.stderr.fileno(),
                f"cannot write down the requests left unanswered ({reason}): wait {wait} s "
                "before running again\n".encode(),
            )
        return
    _remove_sending()  # stopped, not killed: the file written says which requests, exactly


def _unanswered_left(now: float) -> dict[str, dict[str, float]]:
    """What stopped runs left that the server may still be doing: {URL: {key: until}}, from
    every run's file. A file with nothing left to wait for is removed."""
    left: dict[str, dict[str, float]] = {}
    try:
        folder = unanswered_folder()
        names = [name for name in os.listdir(folder) if name.endswith(".json")]
    except (OSError, RuntimeError, KeyError):  # none yet; no home folder
        return left
    for name in names:
        try:
            urls = read_state(folder / name, "unanswered", "unanswered requests")
        except (StateError, RuntimeError, KeyError):
            continue
        waiting = False
        for url, keys in urls.items():
            for key, until in keys.items() if isinstance(keys, dict) else ():
                if isinstance(until, float) and until > now:
                    mine = left.setdefault(url, {})
                    mine[key], waiting = max(until, mine.get(key, 0.0)), True
        if not waiting:  # its run is gone (it wrote at its end): nobody writes it again
            with contextlib.suppress(OSError):
                os.unlink(folder / name)
    return left


@functools.cache
def _left_by_stopped_run() -> dict[str, dict[str, float]]:
    return _unanswered_left(time.time())


def wait_if_a_killed_run_was_sending(url: str) -> None:
    """Before the first look at ``url``: if an earlier run may have left requests the server
    is still at, say so in one line and wait until it must be done with them. The run was
    killed while sending (its ``sending/PID.json``), or it stopped, or a proxy told it 502
    or 504 (its file in ``unanswered/``): what it sent may still turn up, a fruit under the
    name its file had then, so nothing is decided on a listing taken before."""
    now = time.time()
    left = [until for until in _left_by_stopped_run().get(url, {}).values() if until > now]
    try:
        folder = os.path.join(state_folder(), "sending")
        names = os.listdir(folder)
    except (OSError, RuntimeError):
        names = []
    until, killed = max(left, default=0.0), []
    for name in names:
        pid = int(name.removesuffix(".json")) if name.removesuffix(".json").isdigit() else 0
        if not pid or pid == os.getpid():
            continue
        path = os.path.join(folder, name)
        try:
            entry = read_state(path, "sending", "a killed run's requests")
            urls, slowest = list(entry["urls"]), float(entry["slowest"])
            started = entry.get("started")  # None: written where /proc was not to be read
            # Answers until MARKED_EVERY after its time did not change it.
            last_answer = os.stat(path).st_mtime + MARKED_EVERY
        except (StateError, RuntimeError, KeyError, TypeError, ValueError, OSError):
            urls, slowest, started, last_answer = [], 0.0, None, 0.0  # nothing to wait for
        if _is_running(pid, started if isinstance(started, int) else None):
            continue
        # Its requests may have been with the server from its last answer until now.
        done_by = last_answer + min(2 * max(slowest, now - last_answer) + 1, HTTP_TIMEOUT[1])
        if done_by <= now:  # an old kill: the server is done with it
            with contextlib.suppress(OSError):
                os.unlink(path)
        elif url in urls:
            until = max(until, done_by)
            killed.append((pid, path))
    if killed:
        log.warning(
            "a run killed while sending to %s (pid %s) may have left requests with it: "
            "waiting %.0f s for the server to be done before looking",
            url,
            ", ".join(str(pid) for pid, _ in killed),
            until - now,
        )
    elif left:
        log.warning(
            "%s left unanswered at %s by an earlier run (stopped, told 502/504 by a proxy, "
            "or given no answer in time) may still be with the server: waiting %.0f s before "
            "looking",
            plural(len(left), "request"),
            url,
            until - now,
        )
    else:
        return
    time.sleep(max(0.0, until - time.time()))
    for _, path in killed:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _is_running(pid: int, started: int | None = None) -> bool:
    """Whether the run ``pid`` runs: a process that is not a zombie (killed, not yet waited
    for by its parent) and, where the run wrote down when it ``started``, not a process
    that was given its PID since."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: /proc tells whether it is the run
        pass
    fields = _proc_stat(pid)
    if fields is None:  # no /proc here: the PID is all there is
        return True
    return fields[0] != b"Z" and started in (None, int(fields[19]))


def _process_started(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks after boot (Linux); None elsewhere."""
    fields = _proc_stat(pid)
    return int(fields[19]) if fields else None


def _proc_stat(pid: int) -> list[bytes] | None:
    """The fields of ``/proc/PID/stat`` from the state on (``fields[19]``: its start time)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rpartition(b")")[2].split()
    except OSError:
        return None
    return fields if len(fields) > 19 else None


def wait_if_left_unanswered(url: str, key: str) -> bool:
    """True when a stopped run left a request to ``url`` for ``key`` unanswered, once the
    server must be done with it (this waits until then): look whether it was done."""
    until = _left_by_stopped_run().get(url, {}).get(key)
    if until is None:
        return False
    time.sleep(max(0.0, until - time.time()))
    return True


# --- sending ---------------------------------------------------------------------------------


def send_looking_first(
    send: Callable[[], requests.Response], is_there: Callable[[], bool] | None
) -> tuple[requests.Response | None, str]:
    """``send()`` a POST so that what it creates is created once: (its answer, ""), or
    (None, why it was looked for) when the server turned out to have it.

    A 503 was not handled and the session retries it. A POST that got no answer may
    have been done anyway ("commit then drop"), so ``is_there()`` asks the server before
    it is sent once more; that second answer is the one returned, or its error raised.
    No answer within the read timeout, or a proxy's 502/504, says the server was slow: if
    it does not have it yet, it may still be at it, so it is not sent again
    (MayStillArrive). ``is_there`` None (--force: the server is not asked): the answer,
    or the error, as it comes.
    """
    import requests

    for resent in (False, True):
        try:
            response = send()
            break
        except requests.RequestException as error:
            # Sent once more after a connection that dropped: if that drops too, it is said.
            if is_there is None or not answer_lost(error) or (resent and not answer_late(error)):
                raise
            if is_there():
                return None, "the answer was lost"
            if answer_late(error):  # slower than the read timeout, not gone: it may still do it
                raise MayStillArrive(f"{describe_http_error(error)}: {MAY_STILL_ARRIVE}") from None
            log.debug("the answer was lost and it is not there: sending it once more")
    if response.status_code not in MAYBE_DONE or is_there is None:
        return response, ""
    problem = describe_response(response)
    if is_there():  # the proxy gave up, the service did it
        return None, problem
    raise MayStillArrive(f"{problem}: {MAY_STILL_ARRIVE}")


def post_once(
    session: requests.Session,
    url: str,
    payload: dict,
    is_there: Callable[[], bool],
) -> str | None:
    """POST ``payload`` as JSON so that it is created exactly once (send_looking_first):
    None when done, else why not. Only ``201 Created`` counts. Raises CatalogError when
    the server cannot be reached or read, MayStillArrive after a proxy's 502/504 or no
    answer within the read timeout.
    """
    import requests

    try:
        response, _ = send_looking_first(
            lambda: session.post(url, json=payload, timeout=HTTP_TIMEOUT), is_there
        )
    except requests.RequestException as error:
        problem = describe_http_error(error)
        if answer_lost(error):  # the second time
            return f"no answer twice ({problem}) and it is not in the catalog; run again later"
        raise CatalogError(
            f"cannot reach the catalog at {url}: {problem}; is it running?"
        ) from None
    if response is None or response.status_code == 201:
        return None
    return describe_response(response)


def image_poster(
    session: requests.Session, base_url: str
) -> Callable[[bytes, str], requests.Response]:
    """A function that POSTs one image's ``content`` as the course's example does (a
    multipart form, field ``file``) under ``name``, its catalog name.

    The request is prepared once, with the session's headers and auth, and each image
    only sets its form and the session's cookies (requests' "Prepared Requests"): a third
    of requests' CPU per upload, which on 2 cores is taken from the server.
    """
    import requests
    from requests.cookies import RequestsCookieJar, merge_cookies
    from urllib3 import encode_multipart_formdata

    prepared = session.prepare_request(requests.Request("POST", endpoint(base_url, "upload")))

    def post_image(content: bytes, name: str) -> requests.Response:
        # The form requests.post(files=...) sends: urllib3 encodes it there too.
        body, content_type = encode_multipart_formdata({"file": (name, content, "image/jpeg")})
        request = prepared.copy()
        # Those the server set since too (a load balancer's), as session.post would send them.
        request.headers.pop("Cookie", None)
        request.prepare_cookies(merge_cookies(RequestsCookieJar(), session.cookies))
        request.body = body
        request.headers["Content-Type"] = content_type
        request.headers["Content-Length"] = str(len(body))
        return session.send(request, timeout=HTTP_TIMEOUT)

    return post_image


def in_flight(
    work: Callable[[T], R], items: list[T], jobs: int, session: requests.Session | None = None
) -> Iterator[R]:
    """``work(item)`` for each item, up to ``jobs`` at a time over threads; results in order.

    For HTTP over one keep-alive session: while one request waits for its answer,
    the next is on its way. With a ``catalog_session``, its ``Pace`` says how many of
    the ``jobs`` go at once. Ctrl-C cancels what has not started.
    """
    if jobs <= 1 or len(items) <= 1:
        yield from map(work, items)
        return
    pace: Pace | None = getattr(session, "pace", None)
    stopped = threading.Event()
    paced = (lambda item: pace.run(work, item, stopped)) if pace else work
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        yield from pool.map(paced, items)
    finally:
        stopped.set()
        pool.shutdown(wait=False, cancel_futures=True)
        if pace:
            pace.wake()


class Pace:
    """How many requests to have in flight: as many as bring more answers per second.

    As TCP BBR starts: from 2 in flight, one more at a time while that brings at
    least half of what one more could (3 instead of 2: 25% more answers per second),
    then back to the best and stay. A server a network hop away (20 ms per answer)
    answers 8 at once nearly as fast as 1, so up to ``most`` go. A server on this
    machine, busy with the work itself, answers no faster for more: they would only
    queue there and cost it thread switches, so 2 go (benchmarks/README.md).
    """

    WINDOW = 12  # answers counted at each number in flight (the first ones are warm-up)

    def __init__(self, most: int) -> None:
        self.most = most
        self.limit = min(2, most)
        self.busy = 0
        self.best: tuple[float, int] | None = None  # (answers per second, in flight)
        self.settled = self.limit == most
        self.answers: list[float] = []  # when the answers since the limit last changed came
        self._changed = threading.Condition()

    def observe(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        """A requests response hook: one more answer came."""
        now = time.monotonic()
        with self._changed:
            if self.settled:
                return
            self.answers.append(now)
            span = self.answers[-1] - self.answers[0]
            if len(self.answers) < self.WINDOW or span <= 0:
                return
            rate, self.answers = (len(self.answers) - 1) / span, []
            if self.best is None:  # the first window at 2 warmed the connections up
                self.best = (0.0, self.limit)
            elif rate >= self.best[0] * (1 + 0.5 / self.best[1]):
                self.best = (rate, self.limit)
                self.limit += 1
                self.settled = self.limit == self.most
                self._changed.notify()  # one more may go
            else:
                self.limit, self.settled = self.best[1], True

    def run(self, work: Callable[[T], R], item: T, stopped: threading.Event) -> R | None:
        """``work(item)`` once fewer than ``limit`` are running; nothing once ``stopped``."""
        with self._changed:
            self._changed.wait_for(lambda: stopped.is_set() or self.busy < self.limit)
            if stopped.is_set():
                return None
            self.busy += 1
        try:
            return work(item)
        finally:
            with self._changed:
                self.busy -= 1
                self._changed.notify()  # one waiting thread, not all: they would only wake

    def wake(self) -> None:
        """Let the waiting threads see that their run stopped."""
        with self._changed:
            self._changed.notify_all()


# What post_all says of the items it did not send once the server stopped answering.
NOT_SENT = "the catalog stopped answering"


def post_all(
    session: requests.Session,
    url: str,
    payloads: list[dict],
    key: Callable[[dict], object],
    jobs: int = 4,
) -> Iterator[str | None]:
    """POST each payload exactly once, ``jobs`` in flight; yield, in order, None or why not.

    ``key`` tells a payload's row in ``GET url`` (a fruit: its name and image
    name), so a lost answer is looked up before sending again. Once the server
    cannot be reached, what is left is not sent (one line says why, not one per item).
    """
    unreachable = threading.Event()

    def is_there(payload: dict) -> bool:
        return key(payload) in listed_keys(session, url, key)

    def send(payload: dict) -> str | None:
        if unreachable.is_set():
            return NOT_SENT
        sent_as = json.dumps(key(payload), ensure_ascii=False)
        try:
            if wait_if_left_unanswered(url, sent_as) and is_there(payload):
                return None  # the stopped run's request was done after all
            with awaiting_answer(url, sent_as):
                return post_once(session, url, payload, lambda: is_there(payload))
        except MayStillArrive as error:
            return str(error)
        except CatalogError as error:
            unreachable.set()
            return str(error)

    return in_flight(send, payloads, jobs, session)


def post_each(
    session: requests.Session,
    url: str,
    items: list,
    key: Callable[[dict], object],
    jobs: int,
    noun: str,
) -> int:
    """POST each item's ``as_json()`` exactly once (``post_all``); return how many were not done.

    ``items`` have a ``path`` and an ``as_json()`` (a fruit's description, a review);
    ``noun`` names one ("fruit"). Logged in the items' order: one line per item
    that failed, then one line for all those left unsent once the server stopped answering.
    """
    failed = unsent = 0
    outcomes = post_all(session, url, [item.as_json() for item in items], key, jobs)
    for item, problem in zip(items, progress(outcomes, len(items), noun), strict=True):
        if problem == NOT_SENT:
            unsent += 1
        elif problem:
            log.error("%s: not uploaded: %s", item.path, problem)
            failed += 1
        else:
            log.debug("%s: uploaded", item.path)
    say_not_sent(unsent, noun)
    return failed + unsent


def say_not_sent(count: int, noun: str) -> None:
    """One line for all the items left unsent once the catalog stopped answering."""
    if count:
        log.error("%s not sent: %s; run again later", plural(count, f"more {noun}"), NOT_SENT)
