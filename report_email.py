#!/usr/bin/env python3
"""Email the supplier a PDF report of what the catalog really holds of their drop, once per change.

The catalog's fruits (GET $CATALOG_URL/fruits/) are matched with the .txt files
of $SUPPLIER_DATA/descriptions (a row is a file's fruit when it has the same
name and image name, as run.py sends it). The PDF ($REPORT_PDF,
/tmp/processed.pdf) lists the fruits imported as the catalog holds them
(marked when the server lacks their picture), their total weight, and every
file not imported with the reason. The email says "All fruits are uploaded"
only when that is true; otherwise how many of how many were, and which files
were not. When the catalog cannot be read nothing is sent (exit 1), unless
--from-files asks for the course's report of the files as they are.

The last report sent for a drop and recipient is remembered (--state): the
same report is not sent twice, any change sends a new one, so it can run
from cron after run.py. Mail: From $MAIL_FROM (automation@example.com) To
$MAIL_TO (<login>@example.com) through $SMTP_HOST (see emails.py). Fonts:
$REPORT_FONT, else DejaVu Sans (fonts-dejavu-core), for names in any alphabet.

$ export SUPPLIER_DATA=new MAIL_TO=supplier@example.com SMTP_PORT=8025
$ ./report_email.py
new/descriptions/004.txt: the catalog does not have Pomegranate: run run.py (it says why if it \
refuses it)
new/descriptions/005.txt:2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')
wrote /tmp/processed.pdf: 3 of 5 fruits imported, 810 lbs
sent "Upload Completed - Online Fruit Store" to supplier@example.com through localhost:8025
3 description files done, 0 skipped, 2 failed
$ ./report_email.py
already reported on 2026-11-22 02:47; use --force to send again
$ ./run.py -q; ./report_email.py --dry-run -q
new/descriptions/005.txt:2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')
From: automation@example.com
To: supplier@example.com
Subject: Upload Completed - Online Fruit Store
Date: Sun, 22 Nov 2026 02:47:03 +0000

4 of 5 fruits were imported to our website; 1 description file was not (listed below).
A detailed list is attached to this email.

Total weight: 930 lbs

Not imported:
005.txt:2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')
[attachment: processed.pdf, application/pdf, 44728 bytes]
new/descriptions/005.txt:2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from cli import require

require("reportlab", "requests", "urllib3")  # one line, not a traceback, if any is missing

import emails
import reports
from catalog import (
    CatalogError,
    ServerImages,
    add_url_argument,
    catalog_session,
    check_catalog_url,
    endpoint,
    fetch_list,
)
from cli import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    EXIT_USAGE,
    StateError,
    UsageError,
    add_wait_argument,
    env_default,
    finish,
    imports_done,
    log,
    make_parser,
    plural,
    setup_logging,
)
from supplier_data import (
    CHANGE_IT,
    Description,
    DescriptionError,
    add_folder_argument,
    catalog_entry,
    changed_since_sent,
    fruit_key,
    fruits_by_picture,
    other_fruit_with_picture,
    read_descriptions,
)

DEFAULT_PDF = "/tmp/processed.pdf"
SUBJECT = "Upload Completed - Online Fruit Store"
BODY = (
    "All fruits are uploaded to our website successfully. "
    "A detailed list is attached to this email."
)
BODY_MAX_PROBLEMS = 20  # more than that are in the PDF only


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(__doc__)
    add_folder_argument(parser, "descriptions", "the .txt description files")
    add_url_argument(parser)
    parser.add_argument(
        "--from-files",
        action="store_true",
        help="report the description files as they are, without asking the catalog (the "
        "course's report: it does not tell whether the fruits were imported)",
    )
    parser.add_argument(
        "--pdf",
        type=Path,
        default=Path(env_default("REPORT_PDF", DEFAULT_PDF)),
        help="where to write the PDF report ($REPORT_PDF)",
    )
    parser.add_argument(
        "--font",
        default=os.environ.get("REPORT_FONT") or None,
        help="TrueType font (.ttf) for the PDF ($REPORT_FONT; default: DejaVu Sans if installed)",
    )
    parser.add_argument(
        "--from",
        "--sender",
        dest="sender",
        default=emails.default_sender(),
        help="sender address ($MAIL_FROM)",
    )
    parser.add_argument(
        "--to",
        dest="recipient",
        default=recipient_default(),
        help="recipient address ($MAIL_TO, or <login>@example.com)",
    )
    parser.add_argument("--subject", default=SUBJECT, help="subject of the email")
    parser.add_argument(
        "--body",
        default=argparse.SUPPRESS,  # no "(default: None)" in --help: the course's text
        help="first paragraph of the email, instead of the course's (the total weight and the "
        "files not imported are always added)",
    )
    emails.add_sent_arguments(parser, "report_email.json", "report")
    add_wait_argument(parser)
    args = parser.parse_args(argv)
    args.body = getattr(args, "body", None)
    return args


def recipient_default() -> str | None:
    """For --help; None when the login name is unknown (main then says to set MAIL_TO)."""
    try:
        return emails.default_recipient()
    except emails.MailConfigError:
        return None


# --- what the report says ------------------------------------------------------------------


class NotImported(NamedTuple):
    """A description file and what the report says of it: why its fruit is not in the
    catalog, or (``Report.changed``) how the catalog's is not as the file says now."""

    path: Path
    line: str  # "004.txt:2: what is wrong (what to do)", as the email and the PDF say it

    def __str__(self) -> str:  # the whole path, for stderr
        return os.path.join(self.path.parent, self.line)


@dataclass
class Report:
    """What is true of the drop: each description file is imported or not, and why not."""

    files: int  # description files in the drop
    imported: list[tuple[Description, reports.ReportFruit]] = field(default_factory=list)
    not_imported: list[NotImported] = field(default_factory=list)  # one per file, by name
    # Imported, but the file says otherwise now (a weight changed since it was sent).
    changed: list[NotImported] = field(default_factory=list)

    @property
    def fruits(self) -> list[reports.ReportFruit]:
        return [fruit for _, fruit in self.imported]

    @property
    def pictures_missing(self) -> list[tuple[Description, reports.ReportFruit]]:
        return [(file, fruit) for file, fruit in self.imported if fruit.picture_missing]

    @property
    def complete(self) -> bool:
        """Every description file is in the catalog, as it says, with its picture."""
        return self.files > 0 and not (self.not_imported or self.pictures_missing or self.changed)

    @property
    def problems(self) -> int:
        """The files imported with something wrong: a picture missing, or changed since."""
        missing = {file.path for file, _ in self.pictures_missing}
        return len(missing | {item.path for item in self.changed})


def report_from_catalog(
    fruits: list[Description],
    errors: list[DescriptionError],
    rows: list[dict],
    has_picture,
) -> Report:
    """Match the catalog's rows with the drop's files; ``has_picture(name)`` asks the server."""
    in_catalog = {}
    for row in rows:
        if isinstance(row.get("name"), str) and isinstance(row.get("image_name"), str):
            in_catalog.setdefault(fruit_key(row), row)
    pictures = fruits_by_picture(map(catalog_entry, in_catalog.values()))
    report = Report(files=len(fruits) + len(errors))
    not_imported = [NotImported(error.path, reports.problem_line(error)) for error in errors]
    for fruit in fruits:
        row = in_catalog.get(fruit_key(fruit.as_json()))
        if row is not None:
            weight = row.get("weight")
            shown = reports.ReportFruit(
                row["name"],
                weight if isinstance(weight, int) else fruit.weight,
                picture_missing=not has_picture(fruit.image_name),
            )
            report.imported.append((fruit, shown))
            if changed := changed_since_sent(fruit, pictures):
                line = f"{fruit.path.name}: {changed} ({CHANGE_IT})"
                report.changed.append(NotImported(fruit.path, line))
        elif other := other_fruit_with_picture(fruit, pictures):  # run.py refuses it: two
            not_imported.append(NotImported(fruit.path, f"{fruit.path.name}: {other}"))
        elif not has_picture(fruit.image_name):
            why = (
                f"the catalog does not have {fruit.name}, nor the server its picture "
                f"{fruit.image_name}: run supplier_image_upload.py, then run.py"
            )
            not_imported.append(NotImported(fruit.path, f"{fruit.path.name}: {why}"))
        else:
            why = (
                f"the catalog does not have {fruit.name}: run run.py (it says why if it refuses it)"
            )
            not_imported.append(NotImported(fruit.path, f"{fruit.path.name}: {why}"))
    report.not_imported = sorted(not_imported)
    return report


def report_from_files(fruits: list[Description], errors: list[DescriptionError]) -> Report:
    """The course's report: every file read is taken as imported, without asking the catalog."""
    return Report(
        files=len(fruits) + len(errors),
        imported=[(fruit, reports.ReportFruit(fruit.name, fruit.weight)) for fruit in fruits],
        not_imported=[NotImported(error.path, reports.problem_line(error)) for error in errors],
    )


def compose_body(report: Report, opening: str | None = None) -> str:
    """The course's text exactly when every file is in the catalog, as it says, with its
    picture; else how many of how many were imported, and what was not (the first few; the
    PDF has them all), then what is not as its file says now."""
    if opening is None:
        opening = BODY
        if report.files == 0:
            opening = "No description files were found, so no fruits were uploaded."
        elif not report.complete:
            missing = []
            if report.not_imported:
                were = "was" if len(report.not_imported) == 1 else "were"
                missing.append(f"{plural(len(report.not_imported), 'description file')} {were} not")
            if report.pictures_missing:
                are = "is" if len(report.pictures_missing) == 1 else "are"
                missing.append(
                    f"{plural(len(report.pictures_missing), 'picture')} {are} missing on the server"
                )
            if report.changed:
                says = "says" if len(report.changed) == 1 else "say"
                missing.append(f"{plural(len(report.changed), 'file')} {says} otherwise now")
            opening = (
                f"{len(report.imported)} of {plural(report.files, 'fruit')} were imported to our "
                f"website; {' and '.join(missing)} (listed below).\n"
                "A detailed list is attached to this email."
            )
    lines = [opening, "", f"Total weight: {reports.total_weight(report.fruits)} lbs"]
    if report.not_imported:
        lines += ["", "Not imported:"]
        lines += [item.line for item in report.not_imported[:BODY_MAX_PROBLEMS]]
        if len(report.not_imported) > BODY_MAX_PROBLEMS:
            more = len(report.not_imported) - BODY_MAX_PROBLEMS
            lines.append(f"... and {more} more (see the PDF)")
    if report.pictures_missing:
        lines += ["", "Imported, but the picture is missing on the server:"]
        lines += [
            f"{file.path.name}: {fruit.name} ({file.image_name}): run supplier_image_upload.py"
            for file, fruit in report.pictures_missing[:BODY_MAX_PROBLEMS]
        ]
    if report.changed:
        lines += ["", "Imported, but not as the file says now:"]
        lines += [item.line for item in report.changed]  # all: the PDF lists the catalog
    return "\n".join(lines) + "\n"


def warn_missing_letters(report: Report) -> None:
    """One line per name with letters no font found can draw, rather than boxes said nothing of."""
    texts = [(file.path.name, fruit.name) for file, fruit in report.imported]
    texts += [(item.path.name, item.line) for item in report.not_imported]
    for where, text in texts:
        letters = reports.missing_letters(text)
        if letters:
            log.warning(
                "%s: the PDF's fonts have no letters for %r in %r: they show as boxes (%s)",
                where,
                letters,
                text,
                reports.missing_letters_hint(),
            )


def write_report(path: Path, report: Report, font: str | None) -> None:
    """The PDF, written atomically; UsageError if its folder cannot take it or the font is bad."""
    reports.use_font(font)
    warn_missing_letters(report)
    try:
        lines = [item.line for item in report.not_imported]
        reports.generate_fruit_report(path, report.fruits, lines)
    except OSError as error:
        raise UsageError(
            f"{path}: cannot write the report ({error.strerror or error}): "
            "choose another place with --pdf or REPORT_PDF"
        ) from None
    weight = reports.total_weight(report.fruits)
    imported = f"{len(report.imported)} of {plural(report.files, 'fruit')} imported"
    log.info("wrote %s: %s, %d lbs", path, imported, weight)


# --- what was sent: the state file ---------------------------------------------------------


def report_digest(report: Report, subject: str, body: str) -> str:
    """What the report says, without its date: the same digest means the same report."""
    return emails.digest_of(
        {
            "subject": subject,
            "body": body,
            "imported": [list(fruit) for fruit in report.fruits],
            "not_imported": [item.line for item in report.not_imported],
            "changed": [item.line for item in report.changed],
        }
    )


# --- the run -----------------------------------------------------------------------------


def read_catalog(base_url: str, fruits: list[Description], errors: list[DescriptionError]):
    """The report from the catalog's rows and the server's pictures; CatalogError if it cannot
    be read."""
    import requests

    with catalog_session(base_url) as session:
        rows = fetch_list(session, endpoint(base_url, "fruits"))
        server = ServerImages(session, base_url)

        def has_picture(name: str) -> bool:
            if server.listing is not None:
                return name in server.listing
            try:
                return server.digest(name) is not None
            except requests.RequestException as error:
                raise CatalogError(
                    f"cannot tell whether the server has {name}: {error}; is it running?"
                ) from None

        return report_from_catalog(fruits, errors, rows, has_picture)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args)
    if not args.dry_run:
        emails.hold_send_locks("report_email.py", args.pdf, args.state, args.wait)
    try:
        recipient = args.recipient or emails.default_recipient()
        emails.check_addresses(args.sender, recipient)
        settings = None
        if not args.dry_run:  # check the mail settings before doing any work
            settings = emails.prompt_for_password(emails.SmtpSettings.from_env())
            emails.check_settings(settings)
        base = None if args.from_files else check_catalog_url(args.url)
        fruits, errors = read_descriptions(args.folder)
    except UsageError as error:
        log.error("%s", error)
        return EXIT_USAGE

    if args.from_files:
        report = report_from_files(fruits, errors)
    else:
        try:
            report = read_catalog(base, fruits, errors)
        except CatalogError as error:
            log.error("%s: nothing sent (--from-files reports the files as they are)", error)
            return EXIT_SOME_FAILED

    body = compose_body(report, args.body)
    digest = report_digest(report, args.subject, body)
    key = emails.sent_key(args.folder, recipient)
    try:
        sent = emails.load_sent(args.state, "report_email.py")
    except StateError as error:
        log.error("%s: nothing sent", error)
        return EXIT_USAGE
    when = emails.sent_on(sent, key, digest)
    if when and not args.force:
        log.info("already reported on %s; use --force to send again", when)
        return EXIT_OK

    for item in report.not_imported:
        log.error("%s", item)
    for file, fruit in report.pictures_missing:
        log.error(
            "%s: %s is imported, but its picture %s is missing on the server "
            "(run supplier_image_upload.py)",
            file.path,
            fruit.name,
            file.image_name,
        )
    for item in report.changed:
        log.error("%s", item)
    done = len(report.imported) - report.problems
    failed = len(report.not_imported) + report.problems
    try:
        write_report(args.pdf, report, args.font)
        message = emails.generate_email(args.sender, recipient, args.subject, body, args.pdf)
    except UsageError as error:
        log.error("%s", error)
        return EXIT_USAGE
    except emails.MailError as error:
        log.error("%s", error)
        return EXIT_SOME_FAILED

    if args.dry_run:
        sys.stdout.write(emails.format_message(message))
        return finish(done, 0, failed, "description files", dry_run=True)
    outcome = emails.send_once(message, settings, args.state, sent, key, digest, "report")
    return emails.finish_sending(outcome, done, failed, "description files")


if __name__ == "__main__":
    imports_done()
    sys.exit(main())
