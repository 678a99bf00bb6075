#!/usr/bin/env python3
"""Summarise a month of car sales in a PDF with charts, and email it.

Reads the course's car_sales.json (a list of records like {"id": 47, "car":
{"car_make": "Lamborghini", "car_model": "Murciélago", "car_year": 2002},
"price": "$13724.05", "total_sales": 149}), prints the course's three summary
lines, writes the PDF ($CARS_PDF, /tmp/cars.pdf: the summary, a pie chart of
the cars sold per make, a bar chart of the 10 cars with the most revenue, every
record sorted by total sales, most first) and emails it From $MAIL_FROM
(automation@example.com) To $MAIL_TO (<login>@example.com) through $SMTP_HOST.
Revenue is price times total sales, computed exactly (decimal). A tie goes to
the record, or the year, that comes first in the file. A bad record is named
on stderr and left out (exit 1); an empty list is an error (exit 2): a month
without a single sale more likely means a broken export than a quiet month.
The same summary is sent once (--state remembers it; --force sends it again).

$ export SMTP_PORT=8025 MAIL_TO=boss@example.com
$ ./cars.py
car_sales.json: record id 4: price '$abc' is not an amount like $1234.50
The Acura TL (2005) generated the most revenue: $2152873.80
The Dodge Ram 2500 (2011) had the most sales: 1103
The most popular year was 2011 with 1484 sales.
wrote /tmp/cars.pdf: 6 records, 4 makes
sent "Sales summary for last month" to boss@example.com through localhost:8025
6 records done, 0 skipped, 1 failed
$ ./cars.py --dry-run --quiet
car_sales.json: record id 4: price '$abc' is not an amount like $1234.50
From: automation@example.com
To: boss@example.com
Subject: Sales summary for last month
Date: Sun, 22 Nov 2026 02:34:54 +0000

The Acura TL (2005) generated the most revenue: $2152873.80
The Dodge Ram 2500 (2011) had the most sales: 1103
The most popular year was 2011 with 1484 sales.
[attachment: cars.pdf, application/pdf, 3777 bytes]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from cli import require

require("reportlab")  # one line, not a traceback, if this Python lacks it

import emails
import reports
from cli import (
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
    setup_logging,
)

DEFAULT_JSON = "car_sales.json"  # in the current folder, as the course's script reads it
DEFAULT_PDF = "/tmp/cars.pdf"
TITLE = SUBJECT = "Sales summary for last month"
CHART_CARS = 10  # the course's challenge: the 10 best-selling cars by revenue
# $1234.50, $1,234.50, 1234 (the dollar sign and the cents are optional; no sign)
# Beyond any real sale; sums and cents stay exact within Decimal's 28 digits.
MOST_DOLLARS, MOST_CARS = Decimal(10**12), 10**9
_PRICE = re.compile(r"\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


@dataclass(frozen=True)
class Sale:
    """One record of car_sales.json, checked."""

    id: int | str
    make: str
    model: str
    year: int
    price: Decimal
    price_text: str  # as the file writes it, for the table
    total_sales: int

    @property
    def car(self) -> str:
        """``Make Model (Year)``, the course's format_car."""
        return f"{self.make} {self.model} ({self.year})"

    @property
    def revenue(self) -> Decimal:
        return self.price * self.total_sales


# --- reading the file --------------------------------------------------------------------


def load_records(path: Path) -> list:
    """The JSON list in ``path``; UsageError (one line, what to do) if there is none."""
    try:
        with open(path, encoding="utf-8-sig") as file:  # a BOM, as Excel writes it, is fine
            # Decimal, never float: a price written as a number keeps its exact cents.
            records = json.load(file, parse_float=Decimal)
    except FileNotFoundError:
        raise UsageError(
            f"{path}: no such file: give the sales file as an argument (default {DEFAULT_JSON} "
            "in the current folder)"
        ) from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read it ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise UsageError(f"{path}: not UTF-8 text ({error.reason}): export it as UTF-8") from None
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{path}:{error.lineno}: not valid JSON ({error.msg}): check the export"
        ) from None
    except RecursionError:
        raise UsageError(f"{path}: lists nested too deep to be sales: check the export") from None
    if not isinstance(records, list):
        raise UsageError(f"{path}: not a list of sales records ([{{...}}, ...])")
    if not records:
        raise UsageError(f"{path}: the list of sales is empty: nothing to summarise")
    return records


def read_sales(path: Path) -> tuple[list[Sale], list[str]]:
    """The good records, and one error line for each bad one (``file: record id N: why``)."""
    sales, problems = [], []
    for position, record in enumerate(load_records(path), start=1):
        try:
            sales.append(parse_sale(record))
        except ValueError as error:
            problems.append(f"{path}: {record_name(record, position)}: {error}")
    return sales, problems


def record_name(record: object, position: int) -> str:
    """``record id 12``, or ``record #3`` (its place in the file) when it has no usable id."""
    if isinstance(record, dict) and _is_id(record.get("id")):
        return f"record id {record['id']}"
    return f"record #{position}"


def parse_sale(record: object) -> Sale:
    """A Sale, or ValueError saying everything wrong with the record, ``; `` between."""
    if not isinstance(record, dict):
        raise ValueError('not an object like {"id": 1, "car": {...}, "price": ...}')
    problems = []
    if not _is_id(record.get("id")):
        problems.append(_bad(record, "id", "is not an id"))
    car = record.get("car")
    if not isinstance(car, dict):
        problems.append(_bad(record, "car", 'is not an object like {"car_make": ...}'))
        car = {"car_make": "-", "car_model": "-", "car_year": 0}  # said once is enough
    for field in ("car_make", "car_model"):
        if not (isinstance(car.get(field), str) and car[field].strip()):
            problems.append(_bad(car, field, "is not a name"))
    if not _is_whole(car.get("car_year")):
        problems.append(_bad(car, "car_year", "is not a year"))
    try:
        price = parse_price(record.get("price"))
    except ValueError as error:
        problems.append(str(error))
    count = record.get("total_sales")
    if not (_is_whole(count) and 0 <= count <= MOST_CARS):
        problems.append(_bad(record, "total_sales", "is not a whole number of cars (0 or more)"))
    if problems:
        raise ValueError("; ".join(problems))
    price_text = record["price"] if isinstance(record["price"], str) else f"${record['price']}"
    return Sale(
        id=record["id"],
        make=car["car_make"].strip(),
        model=car["car_model"].strip(),
        year=car["car_year"],
        price=price,
        price_text=price_text,
        total_sales=count,
    )


def _bad(record: dict, field: str, why: str) -> str:
    """``no price``, or ``price '$abc' is not an amount like $1234.50``."""
    if field not in record or record[field] is None:
        return f"no {field}"
    return f"{field} {_shown(record[field])} {why}"


def _shown(value: object) -> str:
    """A value as the file writes it: 1.5 (not Decimal('1.5')), '$abc', True."""
    return str(value) if isinstance(value, Decimal) else repr(value)


def parse_price(price: object) -> Decimal:
    """``"$1,234.50"`` -> Decimal("1234.50"); a JSON number is taken as dollars too."""
    amount = None
    if isinstance(price, (int, Decimal)) and not isinstance(price, bool):
        amount = Decimal(price)
    elif isinstance(price, str) and _PRICE.fullmatch(price.strip()):
        amount = Decimal(price.strip().lstrip("$").replace(",", ""))
    if amount is not None and 0 <= amount <= MOST_DOLLARS:
        return amount
    raise ValueError(_bad({"price": price}, "price", "is not an amount like $1234.50"))


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_id(value: object) -> bool:
    return _is_whole(value) or (isinstance(value, str) and bool(value.strip()))


# --- the summary ---------------------------------------------------------------------------
# max() keeps the first of equal values: a tie goes to the record (or year) first in the file.


def most_revenue(sales: list[Sale]) -> Sale:
    return max(sales, key=lambda sale: sale.revenue)


def most_sales(sales: list[Sale]) -> Sale:
    return max(sales, key=lambda sale: sale.total_sales)


def sales_per_year(sales: list[Sale]) -> Counter[int]:
    """Cars sold per model year, added over the records, years in order of first appearance."""
    years: Counter[int] = Counter()
    for sale in sales:
        years[sale.year] += sale.total_sales
    return years


def most_popular_year(sales: list[Sale]) -> tuple[int, int]:
    """(year, cars sold) of the year whose cars sold the most."""
    return max(sales_per_year(sales).items(), key=lambda item: item[1])


def summary_lines(sales: list[Sale]) -> list[str]:
    """The course's three lines."""
    best, most = most_revenue(sales), most_sales(sales)
    year, count = most_popular_year(sales)
    return [
        f"The {best.car} generated the most revenue: ${cents(best.revenue)}",
        f"The {most.car} had the most sales: {most.total_sales}",
        f"The most popular year was {year} with {count} sales.",
    ]


def cents(amount: Decimal) -> Decimal:
    """Rounded to the cent, half up as people round money (exact for prices in cents)."""
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- the PDF and the message -----------------------------------------------------------------


def summary_digest(sales: list[Sale], summary: list[str]) -> str:
    """What the email and its PDF say: the same digest, the same summary (sent once)."""
    rows = [[str(cell) for cell in row] for row in sales_table(sales)]
    return emails.digest_of({"subject": SUBJECT, "summary": summary, "table": rows})


def sales_table(sales: list[Sale]) -> list[list[object]]:
    """The course's table, ``ID, Car, Price, Total Sales``, most sold first (ties in file order)."""
    rows = sorted(sales, key=lambda sale: sale.total_sales, reverse=True)
    return [["ID", "Car", "Price", "Total Sales"]] + [
        [sale.id, sale.car, sale.price_text, sale.total_sales] for sale in rows
    ]


def sales_per_make(sales: list[Sale]) -> dict[str, int]:
    makes: Counter[str] = Counter()
    for sale in sales:
        makes[sale.make] += sale.total_sales
    return dict(makes)


def top_cars_by_revenue(sales: list[Sale], count: int = CHART_CARS) -> list[tuple[str, Decimal]]:
    """The ``count`` records with the most revenue, as the summary line counts revenue.

    Labelled ``ID 43: Make Model (Year)``: the same car can be in two records, and
    the ID finds the record in the table.
    """
    best = sorted(sales, key=lambda sale: sale.revenue, reverse=True)[:count]
    return [(f"ID {sale.id}: {sale.car}", sale.revenue) for sale in best]


def write_pdf(path: Path, sales: list[Sale], summary: list[str]) -> None:
    """The PDF, written atomically; UsageError if its folder cannot take it."""
    # Supplier text goes into markup: a model like "A&B <X>" must show as typed.
    paragraph = "<br/>".join(escape(line) for line in summary)
    charts = reports.sales_charts(sales_per_make(sales), top_cars_by_revenue(sales))
    try:
        reports.generate(path, TITLE, paragraph, sales_table(sales), charts)
    except OSError as error:
        raise UsageError(
            f"{path}: cannot write the report ({error.strerror or error}): "
            "choose another place with --pdf or CARS_PDF"
        ) from None
    records, makes = reports.plural(len(sales), "record"), len(sales_per_make(sales))
    log.info("wrote %s: %s, %s", path, records, reports.plural(makes, "make"))


# --- the command line ------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(__doc__)
    parser.add_argument(
        "json",
        nargs="?",
        type=Path,
        default=Path(DEFAULT_JSON),
        help="the month's sales, a JSON list of records",
    )
    parser.add_argument(
        "--pdf",
        type=Path,
        default=Path(env_default("CARS_PDF", DEFAULT_PDF)),
        help="where to write the PDF ($CARS_PDF)",
    )
    emails.add_sent_arguments(parser, "cars.json", "summary")
    add_wait_argument(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args)
    if not args.dry_run:
        emails.hold_send_locks("cars.py", args.pdf, args.state, args.wait)
    try:
        sender, recipient = emails.default_sender(), emails.default_recipient()
        emails.check_addresses(sender, recipient)
        settings = None
        if not args.dry_run:  # check the mail settings before doing any work
            settings = emails.prompt_for_password(emails.SmtpSettings.from_env())
            emails.check_settings(settings)
        sales, problems = read_sales(args.json)
        for problem in problems:
            log.error("%s", problem)
        if not sales:
            log.error("%s: no good record: nothing written, nothing sent", args.json)
            return finish(0, 0, len(problems), "records", args.dry_run)
        summary = summary_lines(sales)
        if not args.dry_run:  # the course's script prints them; a dry run prints the message
            print("\n".join(summary), flush=True)
        key, digest = emails.sent_key(args.json, recipient), summary_digest(sales, summary)
        sent = emails.load_sent(args.state, "cars.py")
        when = emails.sent_on(sent, key, digest)
        if when and not args.force and not args.dry_run:
            log.info("already sent on %s; use --force to send again", when)
            return finish(0, len(sales), len(problems), "records")
        write_pdf(args.pdf, sales, summary)
        message = emails.generate(sender, recipient, SUBJECT, "\n".join(summary), args.pdf)
    except (UsageError, StateError) as error:
        log.error("%s", error)
        return EXIT_USAGE
    except emails.MailError as error:  # the PDF could not be attached
        log.error("%s", error)
        return EXIT_SOME_FAILED

    if args.dry_run:
        sys.stdout.write(emails.format_message(message))
        return finish(len(sales), 0, len(problems), "records", dry_run=True)
    outcome = emails.send_once(message, settings, args.state, sent, key, digest, "summary")
    return emails.finish_sending(outcome, len(sales), len(problems), "records")


if __name__ == "__main__":
    imports_done()
    sys.exit(main())
