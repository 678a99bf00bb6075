#!/usr/bin/env python3
"""Email the supplier a PDF report of the fruits read from the description files.

The .txt files of $SUPPLIER_DATA/descriptions are read with the same code as
run.py. The PDF ($REPORT_PDF, /tmp/processed.pdf) has the date, the total
weight, a chart of the weight per fruit, each fruit's name and weight, and the
files that could not be read. It is emailed From $MAIL_FROM
(automation@example.com) To $MAIL_TO (<login>@example.com) through $SMTP_HOST
($SMTP_SECURITY, $SMTP_USER, $SMTP_PASSWORD: see emails.py). When some files
could not be read, the email says so instead of "All fruits are uploaded", the
report is still sent, and the exit status is 1.

$ export SUPPLIER_DATA=new MAIL_TO=supplier@example.com SMTP_PORT=8025
$ ./report_email.py
new/descriptions/005.txt:2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')
wrote /tmp/processed.pdf: 4 fruits, 930 lbs
sent "Upload Completed - Online Fruit Store" to supplier@example.com through localhost:8025
4 description files done, 0 skipped, 1 failed
$ ./report_email.py --dry-run --quiet
new/descriptions/005.txt:2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')
From: automation@example.com
To: supplier@example.com
Subject: Upload Completed - Online Fruit Store
Date: Sat, 21 Nov 2026 05:16:43 +0000

4 fruits are uploaded to our website successfully.
1 description file could not be read and was not uploaded (listed below).
A detailed list is attached to this email.

Total weight: 930 lbs

Not imported:
005.txt:2: weight 'heavy' is not a whole number of pounds (write it like '500 lbs')
[attachment: processed.pdf, application/pdf, 2718 bytes]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import emails
import reports
from cli import (
    EXIT_SOME_FAILED,
    EXIT_USAGE,
    UsageError,
    add_wait_argument,
    env_default,
    finish,
    hold_lock,
    log,
    make_parser,
    setup_logging,
)
from supplier_data import Description, DescriptionError, add_folder_argument, read_descriptions

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
    parser.add_argument(
        "--pdf",
        type=Path,
        default=Path(env_default("REPORT_PDF", DEFAULT_PDF)),
        help="where to write the PDF report ($REPORT_PDF)",
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


def compose_body(
    fruits: list[Description], problems: list[DescriptionError], opening: str | None = None
) -> str:
    """The course's text when every file was read; what really happened when some were not.

    Then the total weight and the files not imported (the first few; the PDF has them all).
    """
    if opening is None:
        opening = BODY
        if not fruits and not problems:
            opening = "No description files were found, so no fruits were uploaded."
        elif problems:
            are = "is" if len(fruits) == 1 else "are"
            were = "was" if len(problems) == 1 else "were"
            opening = (
                f"{reports.plural(len(fruits), 'fruit')} {are} uploaded to our website "
                "successfully.\n"
                f"{reports.plural(len(problems), 'description file')} could not be read and "
                f"{were} not uploaded (listed below).\n"
                "A detailed list is attached to this email."
            )
    lines = [opening, "", f"Total weight: {reports.total_weight(fruits)} lbs"]
    if problems:
        lines += ["", "Not imported:"]
        lines += [reports.problem_line(problem) for problem in problems[:BODY_MAX_PROBLEMS]]
        if len(problems) > BODY_MAX_PROBLEMS:
            lines.append(f"... and {len(problems) - BODY_MAX_PROBLEMS} more (see the PDF)")
    return "\n".join(lines) + "\n"


def write_report(path: Path, fruits: list[Description], problems: list[DescriptionError]) -> None:
    """The PDF, written atomically; UsageError if its folder cannot take it."""
    try:
        reports.generate_fruit_report(path, fruits, problems)
    except OSError as error:
        raise UsageError(
            f"{path}: cannot write the report ({error.strerror or error}): "
            "choose another place with --pdf or REPORT_PDF"
        ) from None
    weight = reports.total_weight(fruits)
    log.info("wrote %s: %s, %d lbs", path, reports.plural(len(fruits), "fruit"), weight)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args)
    if not args.dry_run:  # one run at a time writes and mails this report: a second exits 75
        hold_lock("report_email.py", args.pdf, args.wait)
    try:
        recipient = args.recipient or emails.default_recipient()
        settings = None
        if not args.dry_run:  # check the mail settings before doing any work
            settings = emails.prompt_for_password(emails.SmtpSettings.from_env())
            emails.check_settings(settings)
        fruits, problems = read_descriptions(args.folder)
        for problem in problems:
            log.error("%s", problem)
        write_report(args.pdf, fruits, problems)
        message = emails.generate_email(
            args.sender,
            recipient,
            args.subject,
            compose_body(fruits, problems, args.body),
            args.pdf,
        )
    except UsageError as error:
        log.error("%s", error)
        return EXIT_USAGE
    except emails.MailError as error:
        log.error("%s", error)
        return EXIT_SOME_FAILED

    if args.dry_run:
        sys.stdout.write(emails.format_message(message))
    else:
        try:
            emails.send_email(message, settings)
        except emails.MailError as error:
            log.error("not sent: %s", error)
            finish(len(fruits), 0, len(problems), "description files")
            return EXIT_SOME_FAILED
        log.info('sent "%s" to %s through %s', args.subject, recipient, settings.address)
    return finish(len(fruits), 0, len(problems), "description files")


if __name__ == "__main__":
    sys.exit(main())
