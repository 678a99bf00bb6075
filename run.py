#!/usr/bin/env python3
"""Post the supplier's fruit descriptions to the catalog web service.

Each .txt file of $SUPPLIER_DATA/descriptions (line 1 the name, line 2 the
weight, then the description) becomes one fruit, POSTed as JSON to
$CATALOG_URL/fruits/, with its picture's catalog name as image name (001.jpeg
for 001.txt, my_fruit.jpeg for "my fruit.txt"). Fruits already in the catalog
(same name and image name) are not sent again, so it is safe to run it again
after a failure: each fruit ends up in the catalog once. A fruit is sent only
when the server has its picture, and the same picture as images/ has; a bad
file is reported with its line and skipped; the others are sent, --jobs at a time.

$ export SUPPLIER_DATA=new CATALOG_URL=http://localhost
$ ./run.py --dry-run --quiet | cut -c1-60
new/descriptions/005.txt:2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')
{"name": "Watermelon", "weight": 500, "description": "Waterm
{"name": "Açaí", "weight": 100, "description": "The açaí p
{"name": "Lime", "weight": 210, "description": "Limes are sm
{"name": "Pomegranate", "weight": 120, "description": "The p
$ ./run.py
new/descriptions/005.txt:2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')
new/descriptions/004.txt: not sent: 004.jpeg is not on the server (run supplier_image_upload.py)
3 fruits done, 0 skipped, 2 failed
$ ./run.py
new/descriptions/005.txt:2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')
new/descriptions/004.txt: not sent: 004.jpeg is not on the server (run supplier_image_upload.py)
0 fruits done, 3 skipped, 2 failed
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from cli import require

require("requests", "urllib3")  # one line, not a traceback, if this Python lacks them

from catalog import (
    DEFAULT_JOBS,
    CatalogError,
    ServerImages,
    add_jobs_argument,
    add_url_argument,
    catalog_session,
    check_catalog_url,
    endpoint,
    in_flight,
    keys_present,
    known_images_path,
    post_each,
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
    setup_logging,
)
from supplier_data import (
    CHANGE_IT,
    Description,
    add_folder_argument,
    catalog_entry,
    changed_since_sent,
    fruit_key,
    fruits_by_picture,
    open_listed,
    other_fruit_with_picture,
    read_descriptions,
    same_fruit,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(__doc__)
    add_folder_argument(parser, "descriptions", "the .txt description files")
    add_url_argument(parser)
    add_jobs_argument(parser, "fruits sent")
    add_wait_argument(parser)
    return parser.parse_args(argv)


def picture_problem(fruit: Description, server: ServerImages, images: Path) -> str | None:
    """Why the fruit must not be sent yet (its picture would be broken or wrong), or None.

    The server must have its picture, and when images/ has it too, the same one:
    another picture of that name there was left by an earlier delivery.
    """
    name = fruit.image_name
    try:
        there = server.digest(name)
    except Exception as error:  # CatalogError, or requests' own: the check could not be made
        return f"cannot tell whether the server has its picture {name} ({error})"
    if there is None:
        return f"{name} is not on the server (run supplier_image_upload.py)"
    try:
        # Not a FIFO that would hang, nor a link out of the folder.
        with open_listed(images / name) as local:
            here = hashlib.sha256(local.read()).hexdigest()
    except OSError:  # none here (or not one to read): the server's picture is the one
        return None
    if here != there:
        return (
            f"the server has another picture named {name} than {images / name}, left by an "
            "earlier delivery: remove it on the server, or rename this delivery's files"
        )
    return None


def check_pictures(
    fruits: list[Description], server: ServerImages, images: Path, jobs: int
) -> tuple[list[Description], int]:
    """The fruits whose pictures are right on the server, and how many were held back."""
    ready, held = [], 0
    problems = in_flight(
        lambda fruit: picture_problem(fruit, server, images), fruits, jobs, server.session
    )
    for fruit, problem in zip(fruits, problems, strict=True):
        if problem:
            log.error("%s: not sent: %s", fruit.path, problem)
            held += 1
        else:
            ready.append(fruit)
    return ready, held


def not_in_catalog(
    fruits: list[Description], present: set[tuple]
) -> tuple[list[Description], int, int]:
    """The fruits to send (``present``: the catalog's, as catalog_entry gives them); how
    many are there already; how many another fruit shows the picture of, said in a line."""
    pictures = fruits_by_picture(present)
    todo, there, conflicts = [], 0, 0
    for fruit in fruits:
        if same_fruit(fruit, pictures):
            there += 1
            if changed := changed_since_sent(fruit, pictures):
                log.warning("%s: %s: not sent again (%s)", fruit.path, changed, CHANGE_IT)
        elif other := other_fruit_with_picture(fruit, pictures):  # a second product, sent
            log.error("%s: not sent: %s", fruit.path, other)
            conflicts += 1
        else:
            todo.append(fruit)
    return todo, there, conflicts


def upload(session, fruits_url: str, fruits: list[Description], jobs: int = DEFAULT_JOBS) -> int:
    """POST each fruit exactly once, ``jobs`` at a time; return how many failed."""
    return post_each(session, fruits_url, fruits, fruit_key, jobs, "fruit")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args)
    try:
        base = check_catalog_url(args.url)
        fruits, errors = read_descriptions(args.folder)
    except UsageError as error:
        log.error("%s", error)
        return EXIT_USAGE
    for error in errors:
        log.error("%s", error)
    if not args.dry_run:  # one run at a time on a folder: a second one exits 75
        hold_lock("run.py", args.folder, args.wait)

    fruits_url = endpoint(base, "fruits")
    with catalog_session(base, pool_size=args.jobs) as session:
        present = keys_present(session, fruits_url, catalog_entry, args.dry_run, "fruit")
        if present is None:
            if not args.dry_run:
                return EXIT_SOME_FAILED
            for fruit in fruits:
                print(json.dumps(fruit.as_json(), ensure_ascii=False))
            return finish(len(fruits), 0, len(errors), "fruits", dry_run=True)
        todo, skipped, conflicts = not_in_catalog(fruits, present)
        try:
            server = ServerImages(session, base, record=known_images_path())
        except CatalogError as error:  # its listing of the pictures is a server error
            log.error("%s", error)
            return EXIT_SOME_FAILED
        todo, held = check_pictures(todo, server, args.folder.parent / "images", args.jobs)
        failed = held + conflicts + len(errors)

        if args.dry_run:
            for fruit in todo:
                print(json.dumps(fruit.as_json(), ensure_ascii=False))
            return finish(len(todo), skipped, failed, "fruits", dry_run=True)
        server.save()
        not_sent = upload(session, fruits_url, todo, args.jobs)
    return finish(len(todo) - not_sent, skipped, failed + not_sent, "fruits")


if __name__ == "__main__":
    imports_done()
    sys.exit(main())
