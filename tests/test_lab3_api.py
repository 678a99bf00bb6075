"""The course's lab-3 calls (reports.generate, emails.generate, emails.send), used as its
example.py uses them: a script of its own, run with the project on PYTHONPATH."""

import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

import emails
import reports

ROOT = Path(__file__).resolve().parent.parent

TABLE = [
    ["Name", "Amount", "Value"],
    ["elderberries", 10, 0.45],
    ["figs", 5, 3],
    ["apples", 4, 2.75],
    ["durians", 1, 25],
    ["bananas", 5, 1.99],
    ["cherries", 23, 5.80],
    ["grapes", 13, 2.48],
    ["kiwi", 4, 0.49],
]

# The course's example.py, with the report's path as its first argument.
EXAMPLE = f"""\
#!/usr/bin/env python3
import emails, os, reports, sys
table_data={TABLE!r}
title, info = "A Complete Inventory of My Fruit", "This is all my fruit."
reports.generate(sys.argv[1], title, info, table_data)
sender = "automation@example.com"
receiver = "{{}}@example.com".format(os.environ.get('USER'))
subject = "List of Fruits"
body = "Hi\\n\\nI'm sending an attachment with all my fruit."
message = emails.generate(sender, receiver, subject, body, sys.argv[1])
emails.send(message)
"""


def pdf_lines(path) -> list[str]:
    return [
        line.strip() for page in PdfReader(path).pages for line in page.extract_text().splitlines()
    ]


def test_course_example_script(start_lab, tmp_path):
    lab = start_lab(no_http=True)
    script, pdf = tmp_path / "example.py", tmp_path / "report.pdf"
    script.write_text(EXAMPLE)
    env = lab.env | {"PYTHONPATH": str(ROOT), "USER": "student"}

    result = subprocess.run(
        [sys.executable, str(script), str(pdf)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    lines = pdf_lines(pdf)
    assert lines[0] == "A Complete Inventory of My Fruit"
    assert "This is all my fruit." in lines
    # pypdf gives each cell on a line of its own, row after row
    cells = [str(cell) for row in TABLE for cell in row]
    start = lines.index("Name")
    assert lines[start : start + len(cells)] == cells

    [message] = lab.messages()
    assert message["From"] == "automation@example.com"
    assert message["To"] == "student@example.com"
    assert message["Subject"] == "List of Fruits"
    body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body == "Hi\n\nI'm sending an attachment with all my fruit.\n"
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "report.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True) == pdf.read_bytes()


def test_course_names_are_the_same_code():
    assert emails.generate is emails.generate_email
    assert emails.send is emails.send_email


def test_table_cells_are_text_and_header_repeats_on_every_page(tmp_path):
    pdf = tmp_path / "report.pdf"
    rows = [["Name", "Note"]] + [[f"item {i}", "<b>&amp; a < b"] for i in range(120)]
    reports.generate(pdf, "Long table", "first<br/>second &amp; <b>third</b>", rows)
    pages = [page.extract_text().splitlines() for page in PdfReader(pdf).pages]
    assert len(pages) > 1
    for page in pages:
        header = [line.strip() for line in page].index("Name")
        assert page[header + 1].strip() == "Note"
    lines = pdf_lines(pdf)
    assert lines[:3] == ["Long table", "first", "second & third"]
    notes = [line for line in lines if line not in ("Name", "Note") and "Page" not in line]
    assert notes[3:] == [cell for i in range(120) for cell in (f"item {i}", "<b>&amp; a < b")]
    assert list(tmp_path.iterdir()) == [pdf]  # written atomically: nothing else left


def test_without_a_table(tmp_path):
    pdf = tmp_path / "report.pdf"
    reports.generate(pdf, "Title", "Only text.", [])
    assert pdf_lines(pdf)[:2] == ["Title", "Only text."]
