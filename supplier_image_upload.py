#!/usr/bin/env python3
"""Upload the supplier's JPEG images to the catalog web service, each one once.

Step 2 of the chain: changeImage.py made the JPEGs, run.py will add the fruits
that show them. Every ``*.jpeg`` of the folder is sent to ``CATALOG/upload/``
as a multipart form (field ``file``), under the name the server will really
store (``my fruit.jpeg`` goes as ``my_fruit.jpeg``, see catalog.py), --jobs at a
time. An image the server already has is skipped (one listing of its
/media/images/, then the names there are fetched and compared, once: what is
learnt is kept for the next runs and run.py), so running it again after a
failure uploads only what is missing; a different image of the same name there
is a conflict, reported and not sent.

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
import hashlib
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from cli import require

require("requests", "urllib3")  # one line, not a traceback, if this Python lacks them

import requests

from catalog import (
    DEFAULT_JOBS,
    NOT_SENT,
    CatalogError,
    MayStillArrive,
    ServerImages,
    add_jobs_argument,
    add_url_argument,
    answer_lost,
    awaiting_answer,
    catalog_image_name,
    catalog_session,
    check_catalog_url,
    describe_http_error,
    describe_response,
    endpoint,
    image_poster,
    in_flight,
    known_images_path,
    say_not_sent,
    send_looking_first,
    wait_if_left_unanswered,
)
from cli import (
    EXIT_SOME_FAILED,
    EXIT_USAGE,
    UsageError,
    add_wait_argument,
    finish,
    hold_lock,
    imports_done,
    log,
    make_parser,
    progress,
    setup_logging,
)
from supplier_data import add_folder_argument, open_listed, supplier_files

# changeImage.py writes .jpeg and run.py names each fruit's image STEM.jpeg:
# a .jpg or .JPEG file would be uploaded under a name no fruit refers to.
SUFFIX = ".jpeg"

UPLOADED, SKIPPED, FAILED, TO_UPLOAD = "uploaded", "skipped", "failed", "to upload"


class Result(NamedTuple):
    """What happened to one image, and the line to log about it."""

    path: Path
    outcome: str  # UPLOADED, SKIPPED, FAILED, or TO_UPLOAD in a dry run
    message: str
    level: int = logging.DEBUG  # shown with -v only, unless something is wrong


class Image(NamedTuple):
    """A local JPEG and the name it has in the catalog."""

    path: Path
    name: str


def find_images(folder: Path) -> list[Path]:
    """The folder's ``.jpeg`` files, sorted; hidden ones such as macOS' ``._001.jpeg`` left out."""
    missing = "no such folder: give the images folder, or set SUPPLIER_DATA"
    return [path for path in supplier_files(folder, missing, (SUFFIX,)) if path.suffix == SUFFIX]


def name_images(paths: list[Path]) -> tuple[list[Image], list[Result]]:
    """Each path with its catalog name; the paths that have none, or share one, as failures."""
    by_name: dict[str, list[Path]] = {}
    failures = []
    for path in paths:
        try:
            by_name.setdefault(catalog_image_name(path.name), []).append(path)
        except ValueError as error:
            failures.append(Result(path, FAILED, str(error), logging.ERROR))
    images = []
    for name, same in by_name.items():
        if len(same) == 1:
            images.append(Image(same[0], name))
            continue
        others = " and ".join(path.name for path in same)
        why = f"{others} would all be {name} on the server: rename all but one (none is sent)"
        failures += [Result(path, FAILED, why, logging.ERROR) for path in same]
    return sorted(images, key=lambda image: image.path), failures


def upload_image(
    post_image: Callable[[bytes, str], requests.Response],
    base: str,
    image: Image,
    server: ServerImages | None,
    dry_run: bool = False,
    unreachable: threading.Event | None = None,
) -> Result:
    """Upload one image unless the server has it already; never raises for a network error.

    The server keeps every upload (a second ``001.jpeg`` becomes ``001_AbC12x9.jpeg``),
    so before sending we ask whether it has the name with the same content. When the
    connection drops after sending, we ask again before sending once more.
    ``server`` None (--force): send without asking. Once no connection can be made
    (``unreachable`` set), the image is not tried: its message is NOT_SENT.
    """
    path, name = image.path, image.name
    shown = name if name == path.name else f"{name} (its name on the server)"
    upload_url = endpoint(base, "upload")
    if unreachable is not None and unreachable.is_set():
        return Result(path, FAILED, NOT_SENT)
    try:
        with open_listed(path) as file:  # hashed and sent: what is compared is what is sent
            content = file.read()
        if server is not None:
            here = hashlib.sha256(content).hexdigest()
            # A run stopped while sending it: once the server is done with that, look again.
            stopped_run_sent_it = wait_if_left_unanswered(upload_url, name)
            there = server.digest(name, fresh=stopped_run_sent_it)
            if there == here:
                return Result(path, SKIPPED, "already on the server")
            if there is not None:
                return Result(
                    path,
                    FAILED,
                    f"the server has a different {shown}: remove it there, or use --force "
                    "to upload this one beside it",
                    logging.ERROR,
                )
        if dry_run:
            return Result(path, TO_UPLOAD, f"would be uploaded to {upload_url}")
        # With --force it may have been there before: the server cannot tell us.
        is_there = None if server is None else lambda: server.digest(name, fresh=True) == here
        with awaiting_answer(upload_url, name):
            response, looked = send_looking_first(lambda: post_image(content, name), is_there)
        if response is None:
            return Result(path, UPLOADED, f"uploaded ({looked}, the image is there)")
    except (CatalogError, MayStillArrive) as error:
        return Result(path, FAILED, str(error), logging.ERROR)
    except requests.RequestException as error:
        problem = describe_http_error(error)
        if answer_lost(error):
            problem += ": it may have arrived; running again will look before sending"
        elif unreachable is not None and isinstance(error, requests.ConnectionError):
            unreachable.set()  # after the session's retries: the next ones would wait as long
        return Result(path, FAILED, problem, logging.ERROR)
    except OSError as error:  # after RequestException, which is an OSError too
        return Result(path, FAILED, f"cannot read it: {error.strerror}", logging.ERROR)

    if response.status_code != 201:
        return Result(path, FAILED, f"{upload_url}: {describe_response(response)}", logging.ERROR)
    if server is not None:
        server.uploaded(name, here)
    return Result(path, UPLOADED, f"uploaded as {name}" if name != path.name else "uploaded")


def upload_all(
    session: requests.Session,
    base: str,
    images: list[Image],
    server: ServerImages | None,
    jobs: int = DEFAULT_JOBS,
    dry_run: bool = False,
) -> list[Result]:
    """Upload ``jobs`` images at a time over the one keep-alive session; results in order.

    Once the catalog cannot be reached, the images left are not tried: one line for them all.
    """
    results = []
    unreachable = threading.Event()
    post_image = image_poster(session, base)
    done = in_flight(
        lambda image: upload_image(post_image, base, image, server, dry_run, unreachable),
        images,
        jobs,
        session,
    )
    for result in progress(done, len(images), "image"):
        if result.message != NOT_SENT:
            log.log(result.level, "%s: %s", result.path, result.message)
        results.append(result)
    say_not_sent(sum(result.message == NOT_SENT for result in results), "image")
    return results


# --- command line --------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(__doc__)
    add_folder_argument(parser, "images", ".jpeg images")
    add_url_argument(parser, "; images go to URL/upload/")
    add_jobs_argument(parser, "uploads")
    parser.add_argument(
        "--force",
        action="store_true",
        help="upload without asking whether the server has the image already",
    )
    add_wait_argument(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args)
    try:
        base = check_catalog_url(args.url)
        paths = find_images(args.folder)
    except UsageError as error:
        log.error("%s", error)
        return EXIT_USAGE
    if not args.dry_run:  # one run at a time on a folder: a second one exits 75
        hold_lock("supplier_image_upload.py", args.folder, args.wait)
    if not paths:
        log.warning("%s: no %s files to upload: has changeImage.py run?", args.folder, SUFFIX)
    images, refused = name_images(paths)
    for result in refused:
        log.error("%s: %s", result.path, result.message)

    with catalog_session(base, pool_size=args.jobs) as session:
        server = None
        # --force asks nothing of the server; a dry run with --force needs nothing from it.
        if images and not args.force:
            try:
                server = ServerImages(session, base, record=known_images_path())
            except CatalogError as error:
                log.error("%s", error)
                return EXIT_SOME_FAILED
        results = upload_all(session, base, images, server, args.jobs, args.dry_run)
        if server is not None and not args.dry_run:
            server.save()

    count = {outcome: 0 for outcome in (UPLOADED, SKIPPED, FAILED, TO_UPLOAD)}
    for result in results + refused:
        count[result.outcome] += 1
    if args.dry_run:
        for result in results:
            if result.outcome == TO_UPLOAD:
                print(result.path)
        return finish(count[TO_UPLOAD], count[SKIPPED], count[FAILED], "images", dry_run=True)
    return finish(count[UPLOADED], count[SKIPPED], count[FAILED], "images")


if __name__ == "__main__":
    imports_done()
    sys.exit(main())
