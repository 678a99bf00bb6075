#!/usr/bin/env python3
"""Post the supplier's fruit descriptions to the catalog web service.

Each .txt file of $SUPPLIER_DATA/descriptions (line 1 the name, line 2 the
weight, then the description) becomes one fruit, POSTed as JSON to
$CATALOG_URL/fruits/, with the image name 001.jpeg for 001.txt. Fruits already
in the catalog (same name and image name) are not sent again, so it is safe to
run it again after a failure: each fruit ends up in the catalog once. A bad
file is reported with its line and skipped; the others are sent.

$ export SUPPLIER_DATA=new CATALOG_URL=http://localhost
$ ./run.py --dry-run --quiet | cut -c1-60
new/descriptions/005.txt:2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')
{"name": "Watermelon", "weight": 500, "description": "Waterm
{"name": "Açaí", "weight": 100, "description": "The açaí p
{"name": "Lime", "weight": 210, "description": "Limes are sm
{"name": "Pomegranate", "weight": 120, "description": "The p
$ ./run.py
new/descriptions/005.txt:2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')
new/descriptions/004.txt: image 004.jpeg is not in new/images (convert it with changeImage.py)
4 fruits done, 0 skipped, 1 failed
$ ./run.py
new/descriptions/005.txt:2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')
0 fruits done, 4 skipped, 1 failed
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli import require

require("requests", "urllib3")  # one line, not a traceback, if this Python lacks them

import requests

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
from supplier_data import Description, add_folder_argument, read_descriptions


class CatalogUnreachable(Exception):
    """The catalog could not be read: nothing can be checked, so nothing more is sent."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(__doc__)
    add_folder_argument(parser, "descriptions", "the .txt description files")
    add_url_argument(parser)
    return parser.parse_args(argv)


def key(fruit: Description) -> tuple[str, str]:
    """What makes a fruit already in the catalog: the same name and image name."""
    return fruit.name, fruit.image_name


def fetch_catalog(session: requests.Session, fruits_url: str) -> set[tuple[str, str]]:
    """(name, image_name) of every fruit in the catalog; CatalogUnreachable if it cannot tell."""
    try:
        response = session.get(fruits_url, timeout=HTTP_TIMEOUT)
    except requests.RequestException as error:
        raise CatalogUnreachable(
            f"cannot reach the catalog at {fruits_url}: {describe_http_error(error)}; "
            "is it running?"
        ) from None
    if response.status_code != 200:
        raise CatalogUnreachable(
            f"cannot read the catalog at {fruits_url}: {describe_response(response)}; "
            "is the URL right?"
        )
    try:
        return {(row["name"], row["image_name"]) for row in response.json()}
    except (ValueError, TypeError, KeyError):
        raise CatalogUnreachable(
            f"{fruits_url} did not answer with a list of fruits; is the URL right?"
        ) from None


def post_fruit(session: requests.Session, fruits_url: str, fruit: Description) -> str | None:
    """Create the fruit in the catalog exactly once: None when done, else what went wrong.

    A 503 was not handled and the session retries it. A POST that got no
    answer may have been done anyway ("commit then drop"), so the catalog is
    read before sending it once more.
    """
    problem = ""
    for _attempt in range(2):
        try:
            response = session.post(fruits_url, json=fruit.as_json(), timeout=HTTP_TIMEOUT)
        except requests.RequestException as error:
            problem = describe_http_error(error)
            log.debug("%s: no answer (%s); looking at the catalog", fruit.path, problem)
            if key(fruit) in fetch_catalog(session, fruits_url):
                return None
            continue
        if response.status_code == 201:
            return None
        return describe_response(response)
    return f"no answer twice ({problem}) and it is not in the catalog; run again later"


def warn_missing_images(fruits: list[Description], images: Path) -> None:
    """A warning for each fruit whose picture is not in the images folder (sent anyway)."""
    if not fruits:
        return
    if not images.is_dir():
        log.warning("%s: no such folder; image names are not checked", images)
        return
    for fruit in fruits:
        if not (images / fruit.image_name).is_file():
            log.warning(
                "%s: image %s is not in %s (convert it with changeImage.py)",
                fruit.path,
                fruit.image_name,
                images,
            )


def upload(session: requests.Session, fruits_url: str, fruits: list[Description]) -> int:
    """POST each fruit; return how many failed (the rest are done)."""
    failed = 0
    for index, fruit in enumerate(progress(fruits, len(fruits), "fruit")):
        try:
            problem = post_fruit(session, fruits_url, fruit)
        except CatalogUnreachable as error:
            log.error("%s", error)
            return failed + len(fruits) - index
        if problem:
            log.error("%s: not uploaded: %s", fruit.path, problem)
            failed += 1
        else:
            log.debug("%s: uploaded %s", fruit.path, fruit.name)
    return failed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args)
    try:
        fruits_url = endpoint(check_catalog_url(args.url), "fruits")
        fruits, errors = read_descriptions(args.folder)
    except UsageError as error:
        log.error("%s", error)
        return EXIT_USAGE
    for error in errors:
        log.error("%s", error)

    session = catalog_session()
    try:
        present = fetch_catalog(session, fruits_url)
    except CatalogUnreachable as error:
        if not args.dry_run:
            log.error("%s", error)
            return EXIT_SOME_FAILED
        log.warning("%s (showing every fruit)", error)
        present = set()
    todo = [fruit for fruit in fruits if key(fruit) not in present]
    skipped = len(fruits) - len(todo)
    warn_missing_images(todo, args.folder.parent / "images")

    if args.dry_run:
        for fruit in todo:
            print(json.dumps(fruit.as_json(), ensure_ascii=False))
        return finish(len(todo), skipped, len(errors), "fruits", dry_run=True)

    failed = upload(session, fruits_url, todo)
    return finish(len(todo) - failed, skipped, failed + len(errors), "fruits")


if __name__ == "__main__":
    sys.exit(main())
