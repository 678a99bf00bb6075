"""cars.py: run as a user runs it against the lab's mail server, and its small functions.

The expected summary is computed here, with Decimal, from the records the test
writes, never by calling cars.py's own functions.
"""

import json
import os
import random
import shutil
import socket
import stat
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

import cars

SUBJECT = TITLE = "Sales summary for last month"
MAKES = [
    ("Acura", "TL"),
    ("Dodge", "Ram 2500"),
    ("Mercedes-Benz", "E-Class"),
    ("Chevrolet", "Silverado 3500"),
    ("Lamborghini", "Murciélago"),
    ("Toyota", "Camry"),
    ("BMW", "7 Series"),
    ("Saab", "9-3"),
    ("GMC", "Savana 2500"),
    ("Infiniti", "QX56"),
    ("Audi", "A6"),
    ("Honda", "Accord"),
]


def record(id, make, model, year, price, total_sales) -> dict:
    car = {"car_make": make, "car_model": model, "car_year": year}
    return {"id": id, "car": car, "price": price, "total_sales": total_sales}


def random_records(count: int, seed: int = 0) -> list[dict]:
    """Years 1990-2005, up to 900 sold, prices up to $30,000: below the special records'."""
    rng = random.Random(seed)
    records = []
    for id in range(1, count + 1):
        make, model = rng.choice(MAKES)
        price = Decimal(rng.randint(500_00, 30_000_00)) / 100
        # a few prices written with a thousands separator, as some exports do
        text = f"${price:,.2f}" if id % 4 == 0 else f"${price:.2f}"
        records.append(record(id, make, model, rng.randint(1990, 2005), text, rng.randint(0, 900)))
    return records


# Ties at the top, first in the file wins: 901 before 902 (same revenue, $50,000,250.00),
# 903 before 904 (40000 sold each; their years 2011 and 2010 tie at 40000 too).
FIRST_REVENUE = record(901, "Lamborghini", "Murciélago", 2002, "$100,000.50", 500)
SECOND_REVENUE = record(902, "Ford", "F-150", 2003, "$50000.25", 1000)
FIRST_SALES = record(903, "Aston & Martin", "<DB9>", 2011, "$1.00", 40000)  # markup-like text
SECOND_SALES = record(904, "Kia", "Rio", 2010, "$1.10", 40000)

BAD = {  # named on stderr, left out of the summary
    101: record(101, "Saab", "9-5", 2001, "$abc", 3),
    102: record(102, "Saab", "9-5", 2001, "$5.00", -3),
    103: record(103, "Saab", "9-5", 2001, "$5.00", 2.5),
    104: {"id": 104, "car": {"car_make": "Kia"}, "price": "$1", "total_sales": 1},
}


def sales_file(folder, records: list) -> list[dict]:
    """Write car_sales.json; return its good records (those not in BAD, with an id), in order."""
    (folder / "car_sales.json").write_text(json.dumps(records, ensure_ascii=False))
    return [r for r in records if isinstance(r, dict) and r.get("id") not in (None, *BAD)]


def the_month() -> list:
    """Good records with the ties, and bad records among them (one not an object, one no id)."""
    good = random_records(30)
    return [
        *good[:10],
        FIRST_REVENUE,
        BAD[101],
        FIRST_SALES,
        "not a record",
        *good[10:20],
        SECOND_REVENUE,
        BAD[102],
        {"car": {"car_make": "Kia", "car_model": "Rio", "car_year": 2010}, "price": "$1"},
        SECOND_SALES,
        BAD[103],
        BAD[104],
        *good[20:],
    ]


def price(record) -> Decimal:
    return Decimal(record["price"].lstrip("$").replace(",", ""))


def car(record) -> str:
    c = record["car"]
    return f"{c['car_make']} {c['car_model']} ({c['car_year']})"


def expected_summary(good: list[dict]) -> list[str]:
    """The course's loops: a strict > keeps the first of equal values."""
    best, most = good[0], good[0]
    years: dict[int, int] = {}
    for r in good:
        if price(r) * r["total_sales"] > price(best) * best["total_sales"]:
            best = r
        if r["total_sales"] > most["total_sales"]:
            most = r
        years[r["car"]["car_year"]] = years.get(r["car"]["car_year"], 0) + r["total_sales"]
    year = next(y for y, n in years.items() if n == max(years.values()))
    revenue = price(best) * best["total_sales"]
    return [
        f"The {car(best)} generated the most revenue: ${revenue:.2f}",
        f"The {car(most)} had the most sales: {most['total_sales']}",
        f"The most popular year was {year} with {years[year]} sales.",
    ]


def env_for(lab, tmp_path, **extra) -> dict:
    """The lab's settings (or none), the PDF in tmp_path, and a known login name."""
    if lab:
        env = lab.env
    else:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "MAIL_"))}
    env.update(CARS_PDF=str(tmp_path / "cars.pdf"), USER="student", LOGNAME="student")
    env.update(extra)
    return env


def pdf_lines(path) -> list[str]:
    return [
        line.strip() for page in PdfReader(path).pages for line in page.extract_text().splitlines()
    ]


def body_of(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


# --- the script, against the lab ----------------------------------------------------------------


def test_summary_pdf_and_mail(start_lab, run_script, tmp_path):
    lab = start_lab(no_http=True)
    month = the_month()
    good = sales_file(tmp_path, month)
    summary = expected_summary(good)
    # the ties and the thousands separator are where this test says they are
    assert summary == [
        "The Lamborghini Murciélago (2002) generated the most revenue: $50000250.00",
        "The Aston & Martin <DB9> (2011) had the most sales: 40000",
        "The most popular year was 2011 with 40000 sales.",
    ]

    result = run_script("cars.py", env=env_for(lab, tmp_path))

    assert result.returncode == 1, result.stderr  # some records were bad
    assert result.stdout == "\n".join(summary) + "\n"
    errors = [line for line in result.stderr.splitlines() if line.startswith("car_sales.json:")]
    assert errors == [
        "car_sales.json: record id 101: price '$abc' is not an amount like $1234.50",
        'car_sales.json: record #14: not an object like {"id": 1, "car": {...}, "price": ...}',
        "car_sales.json: record id 102: total_sales -3 is not a whole number of cars (0 or more)",
        "car_sales.json: record #27: no id; no total_sales",
        "car_sales.json: record id 103: total_sales 2.5 is not a whole number of cars (0 or more)",
        "car_sales.json: record id 104: no car_model; no car_year",
    ]
    assert "Traceback" not in result.stderr
    assert f"{len(good)} records done, 0 skipped, 6 failed" in result.stderr

    pdf = tmp_path / "cars.pdf"
    lines = pdf_lines(pdf)
    assert lines[:4] == [TITLE, *summary]
    assert_charts(lines, good)
    assert table_rows(lines) == [
        [str(r["id"]), car(r), r["price"], str(r["total_sales"])]
        for r in sorted(good, key=lambda r: r["total_sales"], reverse=True)  # stable: file order
    ]

    [message] = lab.messages()
    assert message["From"] == "automation@example.com"
    assert message["To"] == "student@example.com"
    assert message["Subject"] == SUBJECT
    assert body_of(message) == "\n".join(summary) + "\n"
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "cars.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True) == pdf.read_bytes()


def assert_charts(lines: list[str], good: list[dict]) -> None:
    """The pie's legend names the 9 makes that sold most and "Other"; a bar per top-10 record."""
    per_make: dict[str, int] = {}
    for r in good:
        per_make[r["car"]["car_make"]] = per_make.get(r["car"]["car_make"], 0) + r["total_sales"]
    assert len(per_make) > 10
    biggest = sorted(per_make.items(), key=lambda item: item[1], reverse=True)[:9]
    legend = lines[lines.index("Cars sold per make") :]
    for make, sold in biggest:
        assert any(line.startswith(f"{make}: {sold:,} (") for line in legend), make
    assert any(line.startswith(f"Other ({len(per_make) - 9} more): ") for line in legend)
    top = sorted(good, key=lambda r: price(r) * r["total_sales"], reverse=True)[:10]
    bars = lines[lines.index("The 10 cars with the most revenue") : lines.index("ID")]
    for r in top:
        assert f"ID {r['id']}: {car(r)}" in bars
        assert f"${price(r) * r['total_sales']:,.0f}" in bars  # the value at the bar's end


def table_rows(lines: list[str]) -> list[list[str]]:
    """The table's cells, one line each in pypdf's text, back into rows of four."""
    header = ["ID", "Car", "Price", "Total Sales"]
    cells = lines[lines.index("ID") :]
    cells = [line for line in cells if line not in header and not line.startswith("Page ")]
    return [cells[i : i + 4] for i in range(0, len(cells), 4)]


def test_dry_run_prints_the_message_and_sends_nothing(start_lab, run_script, tmp_path):
    lab = start_lab(no_http=True)
    records = random_records(12, seed=3)
    (tmp_path / "sales.json").write_text(json.dumps(records))
    flag_pdf = tmp_path / "flag.pdf"

    result = run_script(
        "cars.py", "sales.json", "--dry-run", "--pdf", flag_pdf, env=env_for(lab, tmp_path)
    )

    assert result.returncode == 0, result.stderr
    summary = expected_summary(records)
    assert result.stdout.startswith(
        f"From: automation@example.com\nTo: student@example.com\nSubject: {SUBJECT}\nDate: "
    )
    assert result.stdout.endswith(
        "\n\n" + "\n".join(summary) + f"\n[attachment: flag.pdf, application/pdf, "
        f"{flag_pdf.stat().st_size} bytes]\n"
    )
    assert "dry run: 12 records to do, 0 skipped, 0 failed" in result.stderr
    assert not (tmp_path / "cars.pdf").exists()  # the flag wins over CARS_PDF
    assert pdf_lines(flag_pdf)[:4] == [TITLE, *summary]
    assert lab.messages() == [] and lab.smtp_events() == []


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "car_sales.json: no such file: give the sales file as an argument"),
        ('[{"id": 1,', "car_sales.json:1: not valid JSON (Expecting property name"),
        (b"\xff\xfe[]", "car_sales.json: not UTF-8 text"),
        ('{"id": 1}', "car_sales.json: not a list of sales records"),
        ("[]", "car_sales.json: the list of sales is empty: nothing to summarise"),
        ("[" * 100_000, "car_sales.json: lists nested too deep to be sales: check the export"),
    ],
)
def test_unusable_file_is_one_line_and_exit_2(start_lab, run_script, tmp_path, content, message):
    lab = start_lab(no_http=True)
    if isinstance(content, str):
        (tmp_path / "car_sales.json").write_text(content)
    elif content is not None:
        (tmp_path / "car_sales.json").write_bytes(content)

    result = run_script("cars.py", env=env_for(lab, tmp_path))

    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(message)
    assert not (tmp_path / "cars.pdf").exists()
    assert lab.messages() == []


def test_a_file_saved_with_a_bom_as_excel_does_is_read(start_lab, run_script, tmp_path):
    lab = start_lab(no_http=True)
    good = sales_file(tmp_path, random_records(3))
    path = tmp_path / "car_sales.json"
    path.write_text(path.read_text(encoding="utf-8"), encoding="utf-8-sig")

    result = run_script("cars.py", env=env_for(lab, tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected_summary(good)
    assert len(lab.messages()) == 1


def test_amounts_beyond_any_sale_are_bad_records_not_a_crash(start_lab, run_script, tmp_path):
    lab = start_lab(no_http=True)
    huge_price = record(7, "Kia", "Rio", 2010, "$1" + "0" * 400, 1)
    huge_count = record(8, "Kia", "Rio", 2010, "$1.00", 10**30)
    good = sales_file(tmp_path, [huge_price, huge_count, *random_records(2)])[2:]

    result = run_script("cars.py", env=env_for(lab, tmp_path))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "car_sales.json: record id 7: price '$1000" in result.stderr
    assert f"car_sales.json: record id 8: total_sales {10**30} is not a whole number" in (
        result.stderr
    )
    assert result.stdout.splitlines() == expected_summary(good)


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_pdf_path_that_is_no_plain_file_is_left_as_it_is(start_lab, run_script, tmp_path, kind):
    # As root, --pdf /dev/null would have put a PDF where the device was.
    lab = start_lab(no_http=True)
    sales_file(tmp_path, random_records(3))
    target, pdf = tmp_path / "target.txt", tmp_path / "cars.pdf"
    target.write_text("mine\n")
    if kind == "symlink":
        pdf.symlink_to(target)
    else:
        os.mkfifo(pdf)

    result = run_script("cars.py", env=env_for(lab, tmp_path), timeout=30)

    assert result.returncode == 2
    assert f"{pdf}: cannot write the report (not a plain file but a folder, symlink or device)" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert pdf.is_symlink() if kind == "symlink" else stat.S_ISFIFO(os.lstat(pdf).st_mode)
    assert target.read_text() == "mine\n"
    assert lab.messages() == []


def test_the_same_summary_is_sent_once_and_a_new_month_sends_a_new_one(
    start_lab, run_script, tmp_path
):
    lab = start_lab(no_http=True)
    good = sales_file(tmp_path, random_records(5))
    env = env_for(lab, tmp_path)

    first = run_script("cars.py", env=env)
    second = run_script("cars.py", env=env)

    assert first.returncode == second.returncode == 0
    assert second.stdout.splitlines() == expected_summary(good)  # still printed
    assert second.stderr.startswith("already sent on ")
    assert "; use --force to send again\n" in second.stderr
    assert second.stderr.endswith("0 records done, 5 skipped, 0 failed\n")
    assert len(lab.messages()) == 1
    assert run_script("cars.py", "--force", env=env).returncode == 0
    assert len(lab.messages()) == 2
    sales_file(tmp_path, random_records(6))  # the next month
    assert run_script("cars.py", env=env).returncode == 0
    assert len(lab.messages()) == 3


def test_no_good_record_sends_nothing(start_lab, run_script, tmp_path):
    lab = start_lab(no_http=True)
    sales_file(tmp_path, [BAD[101], BAD[102]])

    result = run_script("cars.py", env=env_for(lab, tmp_path))

    assert result.returncode == 1
    assert "car_sales.json: no good record: nothing written, nothing sent" in result.stderr
    assert "0 records done, 0 skipped, 2 failed" in result.stderr
    assert not (tmp_path / "cars.pdf").exists()
    assert lab.messages() == []


def test_mail_server_down_is_one_line_and_exit_1(run_script, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sales_file(tmp_path, random_records(3))
    env = env_for(None, tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))

    result = run_script("cars.py", env=env)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"not sent: cannot connect to the mail server 127.0.0.1:{port}" in result.stderr
    assert result.stderr.endswith("0 records done, 0 skipped, 3 failed\n")  # nothing sent
    assert (tmp_path / "cars.pdf").exists()  # the PDF is there to send by hand


# --- the small functions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, amount",
    [
        ("$13724.05", "13724.05"),
        ("$1,234.50", "1234.50"),
        ("$1,234,567.5", "1234567.5"),
        (" $12 ", "12"),
        ("99.99", "99.99"),
        (Decimal("19.95"), "19.95"),  # a JSON number (read as Decimal)
        (7, "7"),
    ],
)
def test_prices(text, amount):
    assert cars.parse_price(text) == Decimal(amount)


@pytest.mark.parametrize(
    "text",
    ["$abc", "$1,23,4", "$1,2345.00", "-$5", "$-5", "", "$", "$1.", True, None, -3, 10**13],
)
def test_bad_prices(text):
    with pytest.raises(ValueError, match="price"):
        cars.parse_price(text)


def test_revenue_is_exact():
    # 0.1 + 0.2 style errors: 19.99 * 3 is 59.97 exactly, and rounding is half up
    sale = cars.parse_sale(record(1, "Kia", "Rio", 2010, "$19.99", 3))
    assert sale.revenue == Decimal("59.97")
    assert str(cars.cents(Decimal("0.125"))) == "0.13"
    assert cars.summary_lines([sale])[0] == "The Kia Rio (2010) generated the most revenue: $59.97"


def test_ties_go_to_the_first_in_the_file():
    sales = [
        cars.parse_sale(r)
        for r in [
            record(1, "A", "a", 2001, "$10", 5),  # revenue 50, 5 sold
            record(2, "B", "b", 2002, "$25", 2),  # revenue 50, 2 sold
            record(3, "C", "c", 2002, "$1", 3),  # year 2002: 5 sold, as 2001
            record(4, "D", "d", 2003, "$1", 5),  # 5 sold, as record 1
        ]
    ]
    assert cars.most_revenue(sales).id == 1
    assert cars.most_sales(sales).id == 1
    assert cars.most_popular_year(sales[1:]) == (2002, 5)  # 2002 before 2003
    assert cars.most_popular_year(sales) == (2001, 5)


def test_popular_year_adds_up_the_records():
    sales = [
        cars.parse_sale(record(1, "A", "a", 2001, "$1", 100)),
        cars.parse_sale(record(2, "B", "b", 2002, "$1", 60)),
        cars.parse_sale(record(3, "C", "c", 2002, "$1", 60)),
    ]
    assert cars.most_popular_year(sales) == (2002, 120)


def test_table_is_sorted_by_total_sales_ties_in_file_order():
    sales = [
        cars.parse_sale(record(i, "A", "a", 2001, "$1,000.00", n))
        for i, n in [(1, 5), (2, 9), (3, 5), (4, 0)]
    ]
    table = cars.sales_table(sales)
    assert table[0] == ["ID", "Car", "Price", "Total Sales"]
    assert [row[0] for row in table[1:]] == [2, 1, 3, 4]
    assert table[1] == [2, "A a (2001)", "$1,000.00", 9]


def test_top_cars_by_revenue_are_records():
    sales = [cars.parse_sale(record(i, "A", "a", 2001, f"${i}", 1)) for i in range(1, 13)]
    top = cars.top_cars_by_revenue(sales)
    assert [label for label, _ in top] == [f"ID {i}: A a (2001)" for i in range(12, 2, -1)]
    assert top[0][1] == Decimal(12)


@pytest.mark.parametrize(
    "bad, message",
    [
        ([1, 2], 'not an object like {"id": 1'),
        ({}, "no id; no car; no price; no total_sales"),
        ({**record(1, "A", "a", 2001, "$1", 1), "id": True}, "id True is not an id"),
        (record(1, "", "a", 2001, "$1", 1), "car_make '' is not a name"),
        (record(1, "A", "a", "2001", "$1", 1), "car_year '2001' is not a year"),
        (record(1, "A", "a", 2001, "$1", "7"), "total_sales '7' is not a whole number"),
        ({**record(1, "A", "a", 2001, "$1", 1), "car": "A a"}, "car 'A a' is not an object"),
    ],
)
def test_bad_records_say_why(bad, message):
    with pytest.raises(ValueError) as error:
        cars.parse_sale(bad)
    assert str(error.value).startswith(message)


def test_records_are_named_by_id_or_position():
    assert cars.record_name({"id": 12}, 3) == "record id 12"
    assert cars.record_name({"id": ""}, 3) == "record #3"
    assert cars.record_name("x", 4) == "record #4"


def test_a_user_without_home_folder_gets_help_and_one_line(start_lab, as_nobody, tmp_path):
    # A container's user with no passwd entry: --help was a traceback (the state's default).
    lab = start_lab(no_http=True)
    shared = Path(tempfile.mkdtemp(prefix="cars-nobody-"))
    shared.chmod(0o777)
    sales_file(shared, random_records(3))
    env = {k: v for k, v in lab.env.items() if k not in ("HOME", "USER", "LOGNAME")}
    env = {k: v for k, v in env.items() if not k.startswith("XDG_")}
    env.update(MAIL_TO="boss@example.com", CARS_PDF=str(shared / "cars.pdf"))
    script = str(Path(cars.__file__).resolve())

    def run(*args):
        return subprocess.run([*as_nobody, script, *args], env=env, cwd=shared,
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    try:
        helped = run("--help")
        refused = run()
        given = run("--state", str(shared / "cars-state.json"))
    finally:
        shutil.rmtree(shared)

    assert helped.returncode == 0 and "--state" in helped.stdout
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    assert "no home folder for the state file: set XDG_STATE_HOME or give --state" in (
        refused.stderr
    )
    assert given.returncode == 0, given.stderr
    assert len(lab.messages()) == 1
