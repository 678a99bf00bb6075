#!/usr/bin/env python3
"""Upload the supplier's JPEG images to the catalog web service, each one once.

Step 2 of the chain: changeImage.py made the JPEGs, run.py will add the fruits
that show them. Every ``*.jpeg`` of the folder is sent to ``CATALOG/upload/``
as a multipart form (field ``file``); an image the server already has is skipped,
so running it again after a failure uploads only what is missing.

$ ./supplier_image_upload.py -v supplier-data/images
supplier-data/images/001.jpeg: uploaded
supplier-data/images/002.jpeg: uploaded
supplier-data/images/003.jpeg: uploaded
3 images done, 0 skipped, 0 failed
$ ./supplier_image_upload.py supplier-data/images
0 images done, 3 skipped, 0 failed
$ ./supplier_image_upload.py -n supplier-data/images    # 004.jpeg came since
supplier-data/images/004.jpeg
dry run: 1 images to do, 3 skipped, 0 failed
"""

from __future__ import annotations

import argparse
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from cli import require

require("requests", "urllib3")  # one line, not a traceback, if this Python lacks them

import requests
import urllib3

from catalog import (
    HTTP_TIMEOUT,
    add_url_argument,
    catalog_session,
    check_catalog_url,
    describe_http_error,
    describe_response,
    endpoint,
)
from cli import (
    EXIT_SOME_FAILED,
    EXIT_USAGE,
    UsageError,
    finish,
    log,
    make_parser,
    progress,
    setup_logging,
)
from supplier_data import add_folder_argument

# changeImage.py writes .jpeg and run.py names each fruit's image STEM.jpeg:
# a .jpg or .JPEG file would be uploaded under a name no fruit refers to.
SUFFIX = ".jpeg"
DEFAULT_JOBS = 4

UPLOADED, SKIPPED, FAILED, TO_UPLOAD = "uploaded", "skipped", "failed", "to upload"


@dataclass(frozen=True)
class Result:
    """What happened to one image, and the line to log about it."""

    path: Path
    outcome: str  # UPLOADED, SKIPPED, FAILED, or TO_UPLOAD in a dry run
    message: str
    level: int = logging.DEBUG  # shown with -v only, unless something is wrong


class CatalogUnreachable(Exception):
    """Nothing answers at the catalog's address: no image can be uploaded."""


class CheckFailed(Exception):
    """The server's answer does not say whether it has the image."""


# --- where things are --------------------------------------------------------------


def catalog_base(url: str) -> str:
    """The catalog's base URL, ``http://host``, also from a course-style ``http://host/upload/``."""
    return check_catalog_url(url).removesuffix("/upload")


def media_url(base: str, name: str) -> str:
    """Where the catalog serves an uploaded image: quoted, so spaces and accents work."""
    return f"{base}/media/images/{quote(name)}"


def find_images(folder: Path) -> list[Path]:
    """The folder's ``.jpeg`` files, sorted; hidden ones such as macOS' ``._001.jpeg`` left out."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder: give the images folder, or set SUPPLIER_DATA")
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix == SUFFIX and not path.name.startswith(".") and path.is_file()
    )


# --- talking to the catalog --------------------------------------------------------


def check_reachable(session: requests.Session, base: str) -> None:
    """Raise CatalogUnreachable unless something answers at ``base`` (any HTTP status will do)."""
    try:
        session.head(f"{base}/", timeout=HTTP_TIMEOUT)
    except requests.RequestException as error:
        raise CatalogUnreachable(
            f"cannot reach the catalog at {base}/: {describe_http_error(error)}: "
            "is the service running? Check --url or CATALOG_URL"
        ) from None


def remote_size(session: requests.Session, url: str) -> int | None:
    """Size in bytes of the image at ``url`` on the server, or None when it is not there."""
    response = session.head(url, timeout=HTTP_TIMEOUT)
    if response.status_code == 404:
        return None
    if response.status_code != 200 or "Content-Length" not in response.headers:
        raise CheckFailed(
            f"cannot tell whether it is on the server (HEAD {url}: {describe_response(response)}); "
            "use --force to upload without checking"
        )
    return int(response.headers["Content-Length"])


def post_image(session: requests.Session, upload_url: str, path: Path) -> requests.Response:
    """POST one image as the course's example does: a multipart form with the field ``file``."""
    with path.open("rb") as image:
        return session.post(
            upload_url, files={"file": (path.name, image, "image/jpeg")}, timeout=HTTP_TIMEOUT
        )


def answer_lost(error: requests.RequestException) -> bool:
    """True when the request went out and no answer came back (connection dropped, read
    timeout): the server may have done the work. False when no connection could be made."""
    if not isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return False
    if isinstance(error, requests.ConnectTimeout):
        return False
    reason = getattr(error.args[0], "reason", None) if error.args else None
    # NewConnectionError (refused, unknown host) is a ConnectTimeoutError in urllib3 2.
    return not isinstance(reason, urllib3.exceptions.ConnectTimeoutError)


def upload_image(
    session: requests.Session, base: str, path: Path, force: bool = False, dry_run: bool = False
) -> Result:
    """Upload one image unless the server has it already; never raises for a network error.

    The server keeps every upload (a second ``001.jpeg`` becomes ``001_AbC12x9.jpeg``),
    so before sending we ask whether ``/media/images/NAME`` exists with the same size.
    When the connection drops after sending, we ask again before sending once more.
    """
    name, url = path.name, media_url(base, path.name)
    try:
        size = path.stat().st_size
        if not force:
            there = remote_size(session, url)
            if there == size:
                return Result(path, SKIPPED, "already on the server")
            if there is not None:
                return Result(
                    path,
                    FAILED,
                    f"the server has a different {name} ({there} bytes, this one {size}): "
                    "remove it there, or use --force to upload this one beside it",
                    logging.ERROR,
                )
        if dry_run:
            return Result(path, TO_UPLOAD, f"would be uploaded to {endpoint(base, 'upload')}")
        upload_url = endpoint(base, "upload")
        try:
            response = post_image(session, upload_url, path)
        except (requests.ConnectionError, requests.Timeout) as error:
            # With --force the image may have been there before: we cannot tell.
            if force or not answer_lost(error):
                raise
            if remote_size(session, url) == size:
                return Result(path, UPLOADED, "uploaded (the answer was lost, the image is there)")
            log.debug("%s: no answer and not on the server: sending it once more", path)
            response = post_image(session, upload_url, path)
    except CheckFailed as error:
        return Result(path, FAILED, str(error), logging.ERROR)
    except requests.RequestException as error:
        problem = describe_http_error(error)
        if answer_lost(error):
            problem += ": it may have arrived; running again will look before sending"
        return Result(path, FAILED, problem, logging.ERROR)
    except OSError as error:  # after RequestException, which is an OSError too
        return Result(path, FAILED, f"cannot read it: {error.strerror}", logging.ERROR)

    if response.status_code != 201:
        return Result(path, FAILED, f"{upload_url}: {describe_response(response)}", logging.ERROR)
    stored = stored_name(response)
    if stored is not None and stored != name:
        return Result(
            path,
            UPLOADED,
            f"the server stored it as {stored!r}, not {name!r}: a fruit that refers to "
            f"{name} will not find it (was another {name} there, or is the name unusual?)",
            logging.WARNING,
        )
    return Result(path, UPLOADED, "uploaded")


def stored_name(response: requests.Response) -> str | None:
    """The name the server gave the upload (``{"name": ...}``), None if it does not say."""
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer.get("name") if isinstance(answer, dict) else None


def upload_all(
    session: requests.Session,
    base: str,
    paths: list[Path],
    jobs: int = DEFAULT_JOBS,
    force: bool = False,
    dry_run: bool = False,
) -> list[Result]:
    """Upload ``jobs`` images at a time over the one keep-alive session; results in path order."""
    results = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        done = pool.map(lambda path: upload_image(session, base, path, force, dry_run), paths)
        for result in progress(done, len(paths), "image"):
            log.log(result.level, "%s: %s", result.path, result.message)
            results.append(result)
    return results


# --- command line --------------------------------------------------------------------


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(__doc__)
    add_folder_argument(parser, "images", ".jpeg images")
    add_url_argument(parser, "; images go to URL/upload/")
    parser.add_argument(
        "-j", "--jobs", type=positive_int, default=DEFAULT_JOBS, help="uploads at a time"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="upload without asking whether the server has the image already",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args)
    try:
        base = catalog_base(args.url)
        images = find_images(args.folder)
    except UsageError as error:
        log.error("%s", error)
        return EXIT_USAGE
    if not images:
        log.warning("%s: no %s files to upload: has changeImage.py run?", args.folder, SUFFIX)

    with catalog_session(pool_size=args.jobs) as session:
        # A dry run with --force needs nothing from the server.
        if images and not (args.dry_run and args.force):
            try:
                check_reachable(session, base)
            except CatalogUnreachable as error:
                log.error("%s", error)
                return EXIT_SOME_FAILED
        results = upload_all(session, base, images, args.jobs, args.force, args.dry_run)

    count = {outcome: 0 for outcome in (UPLOADED, SKIPPED, FAILED, TO_UPLOAD)}
    for result in results:
        count[result.outcome] += 1
    if args.dry_run:
        for result in results:
            if result.outcome == TO_UPLOAD:
                print(result.path)
        return finish(count[TO_UPLOAD], count[SKIPPED], count[FAILED], "images", dry_run=True)
    return finish(count[UPLOADED], count[SKIPPED], count[FAILED], "images")


if __name__ == "__main__":
    sys.exit(main())
