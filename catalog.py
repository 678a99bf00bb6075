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
from typing import TYPE_CHECKING

from cli import UsageError, env_default

if TYPE_CHECKING:
    import requests

DEFAULT_CATALOG_URL = "http://localhost"
# (connect, read) seconds for every request to the catalog.
HTTP_TIMEOUT = (5, 60)


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


def add_url_argument(parser: argparse.ArgumentParser, extra: str = "") -> None:
    """--url, the catalog's base URL, for the scripts that talk to it."""
    parser.add_argument(
        "--url", default=catalog_url(), help=f"base URL of the catalog{extra} ($CATALOG_URL)"
    )


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
