#!/usr/bin/env python3
"""Post the customers' reviews (the course's lab 2) to the feedback web service.

Each .txt file of FOLDER (line 1 the title, line 2 the reviewer's name, line 3
the date YYYY-MM-DD, then the feedback) becomes one review, POSTed as JSON to
$CATALOG_URL/feedback/. Reviews already there (same title, name, date and
feedback) are not sent again, so it is safe to run it again after a failure:
each review ends up on the site once. A bad file is reported with its line and
skipped; the others are sent, --jobs at a time.

$ export CATALOG_URL=http://localhost:8000
$ ./feedback.py --dry-run --quiet feedback | cut -c1-60
feedback/006.txt:3: date '2026-02-30' is not a day of the calendar (write it like 2026-03-14)
{"title": "Great Customer Service", "name": "John", "date":
{"title": "Crème de la crème", "name": "José Núñez", "d
{"title": "Not impressed", "name": "Anonymous", "date": "202
{"title": "Would buy again", "name": "Priya", "date": "2026-
{"title": "Good value", "name": "Mark", "date": "2026-05-16"
$ ./feedback.py feedback
feedback/006.txt:3: date '2026-02-30' is not a day of the calendar (write it like 2026-03-14)
5 reviews done, 0 skipped, 1 failed
$ ./feedback.py --url http://localhost:8000/feedback/ feedback
feedback/006.txt:3: date '2026-02-30' is not a day of the calendar (write it like 2026-03-14)
0 reviews done, 5 skipped, 1 failed
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cli import require

require("requests", "urllib3")  # one line, not a traceback, if this Python lacks them

from catalog import (
    add_jobs_argument,
    add_url_argument,
    catalog_session,
    check_catalog_url,
    endpoint,
    keys_present,
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
from supplier_data import DescriptionError, read_lines, text_files

DEFAULT_FOLDER = Path("/data/feedback")  # where the course's lab 2 machine has them

# The feedback service's limits (its Django model), in characters.
TITLE_MAX_LENGTH = NAME_MAX_LENGTH = 100  # may be blank
FEEDBACK_MAX_LENGTH = 1000  # may not be blank
DATE_EXAMPLE = "write it like 2026-03-14"
# [0-9], not \d (other scripts' digits); and not date.fromisoformat, which takes
# more forms than YYYY-MM-DD on Python 3.11 and later.
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


@dataclass(frozen=True)
class Review:
    """One customer review read from a file, as the feedback service stores it."""

    path: Path
    title: str
    name: str
    date: str  # YYYY-MM-DD
    feedback: str

    def as_json(self) -> dict:
        """The JSON object POSTed to ``/feedback/``."""
        return {
            "title": self.title,
            "name": self.name,
            "date": self.date,
            "feedback": self.feedback,
        }


def key(review: dict) -> tuple[str, str, str, str]:
    """What makes a review already on the site: all it says."""
    return review["title"], review["name"], review["date"], review["feedback"]


def parse_date(text: str) -> str:
    """``2026-03-14`` -> ``2026-03-14``; ValueError saying why for anything but a real day."""
    match = _DATE.fullmatch(text)
    if match is None:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise ValueError(
            f"the date is missing ({DATE_EXAMPLE})"
            if not text
            else f"date {shown!r} is not written YYYY-MM-DD ({DATE_EXAMPLE})"
        )
    try:
        date(*map(int, match.groups()))
    except ValueError:
        raise ValueError(f"date {text!r} is not a day of the calendar ({DATE_EXAMPLE})") from None
    return text


def read_review(path: Path) -> Review:
    """Read one review file; DescriptionError (file and line) if the service would refuse it.

    Line 1 the title and line 2 the name (either may be blank), line 3 the date,
    then the feedback, its lines joined by single spaces as a fruit's description
    is. UTF-8 (with or without BOM) or Windows-1252 text, any line ends.
    """
    path = Path(path)
    lines = read_lines(
        path, "write the title on line 1, the name on line 2, the date on line 3, then the feedback"
    )
    lines += [""] * (3 - len(lines))
    title, name, day = lines[:3]
    for number, what, text, limit in (
        (1, "title", title, TITLE_MAX_LENGTH),
        (2, "name", name, NAME_MAX_LENGTH),
    ):
        if len(text) > limit:
            raise DescriptionError(
                path,
                number,
                f"the {what} is {len(text)} characters long; the site takes at most {limit} "
                "(shorten it)",
            )
    try:
        day = parse_date(day)
    except ValueError as error:
        raise DescriptionError(path, 3, str(error)) from None
    feedback = " ".join(line for line in lines[3:] if line)
    if not feedback:
        raise DescriptionError(
            path,
            4,
            "the feedback is blank: the site refuses a review without one (write it on line 4)",
        )
    if len(feedback) > FEEDBACK_MAX_LENGTH:
        raise DescriptionError(
            path,
            4,
            f"the feedback is {len(feedback)} characters long; the site takes at most "
            f"{FEEDBACK_MAX_LENGTH} (shorten it)",
        )
    return Review(path, title, name, day, feedback)


def read_reviews(folder: Path) -> tuple[list[Review], list[DescriptionError]]:
    """Every review file of ``folder`` (``*.txt``, sorted by name): the good ones, and the
    errors. UsageError if ``folder`` is not a folder."""
    reviews, errors = [], []
    for path in text_files(folder, "review files"):
        try:
            reviews.append(read_review(path))
        except DescriptionError as error:
            errors.append(error)
    return reviews, errors


def new_reviews(reviews: list[Review], present: set[tuple]) -> list[Review]:
    """The reviews not on the site yet, each once: a file that says what an earlier file
    says is the same review (a copy), sent once and named in a warning."""
    todo, first_of = [], {}
    for review in reviews:
        this = key(review.as_json())
        if this in first_of:
            log.warning("%s: the same review as %s, sent once", review.path, first_of[this].path)
            continue
        first_of[this] = review
        if this not in present:
            todo.append(review)
    return todo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(__doc__)
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=DEFAULT_FOLDER,
        help="folder of the review .txt files",
    )
    add_url_argument(parser, " (or feedback) service")
    add_jobs_argument(parser, "reviews sent")
    add_wait_argument(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args)
    try:
        base = check_catalog_url(args.url)
        reviews, errors = read_reviews(args.folder)
    except UsageError as error:
        log.error("%s", error)
        return EXIT_USAGE
    for error in errors:
        log.error("%s", error)
    if not args.dry_run:  # one run at a time on a folder: a second one exits 75
        hold_lock("feedback.py", args.folder, args.wait)

    feedback_url = endpoint(base, "feedback")
    with catalog_session(base, pool_size=args.jobs) as session:
        present = keys_present(session, feedback_url, key, args.dry_run, "review")
        if present is None:
            if not args.dry_run:
                return EXIT_SOME_FAILED
            present = set()
        todo = new_reviews(reviews, present)
        skipped = len(reviews) - len(todo)

        if args.dry_run:
            for review in todo:
                print(json.dumps(review.as_json(), ensure_ascii=False))
            return finish(len(todo), skipped, len(errors), "reviews", dry_run=True)
        not_sent = post_each(session, feedback_url, todo, key, args.jobs, "review")
    return finish(len(todo) - not_sent, skipped, len(errors) + not_sent, "reviews")


if __name__ == "__main__":
    imports_done()
    sys.exit(main())
