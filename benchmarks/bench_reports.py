#!/usr/bin/env python3
"""Time reports.generate_report against the course's single-Paragraph build, same run.

    $ .venv/bin/python benchmarks/bench_reports.py --fruits 2000 --large 10000
    (a Markdown table: seconds and pages for each build, and the speed-up)

The course's reports.py puts the whole text ("name: X<br/>weight: N lbs<br/><br/>"
for every fruit) into one ReportLab Paragraph; ReportLab re-wraps what is left
of that paragraph at every page break, so its time grows with the square of the
number of fruits. reports.generate_report takes the same title and text and cuts
it into one block per fruit, so its time grows in proportion.

Rows: the course's build and generate_report at --fruits (the speed-up is the
ratio of the two, measured in the same process), then generate_report and
generate_fruit_report (the report report_email.py sends: with the chart and
the page numbers) at --large. ReportLab is imported before any timing; each
build is run --repeat times and the best time kept.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402
from reportlab.lib.styles import getSampleStyleSheet  # noqa: E402
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer  # noqa: E402

import reports  # noqa: E402

TITLE = "Processed Update on November 21, 2026"


def course_generate_report(attachment: str, title: str, paragraph: str) -> None:
    """The course's reports.py, as the course gives it."""
    styles = getSampleStyleSheet()
    report = SimpleDocTemplate(attachment)
    report_title = Paragraph(title, styles["h1"])
    report_info = Paragraph(paragraph, styles["BodyText"])
    empty_line = Spacer(1, 20)
    report.build([report_title, empty_line, report_info, empty_line])


def fruits(count: int) -> list[tuple[str, int]]:
    names = ["Apple", "Avocado", "Blackberry", "Grape", "Kiwi", "Lemon", "Mango", "Plum"]
    return [(f"{names[i % len(names)]} {i}", 100 + i % 400) for i in range(count)]


def course_paragraph(pairs: list[tuple[str, int]]) -> str:
    """The text the course's report_email.py builds."""
    return "".join(f"name: {name}<br/>weight: {weight} lbs<br/><br/>" for name, weight in pairs)


def best_time(build: Callable[[str], None], path: Path, repeat: int) -> tuple[float, int]:
    """(best seconds, pages of the PDF) over ``repeat`` builds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        build(str(path))
        best = min(best, time.perf_counter() - start)
    return best, len(PdfReader(path).pages)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fruits", type=int, default=2000, help="size of the comparison")
    parser.add_argument("--large", type=int, default=10000, help="size for generate_report alone")
    parser.add_argument("--repeat", type=int, default=1, help="builds per row, best kept")
    args = parser.parse_args()

    small, large = fruits(args.fruits), fruits(args.large)
    small_text, large_text = course_paragraph(small), course_paragraph(large)
    runs = [
        (
            "course: one Paragraph",
            args.fruits,
            lambda p: course_generate_report(p, TITLE, small_text),
        ),
        (
            "reports.generate_report",
            args.fruits,
            lambda p: reports.generate_report(p, TITLE, small_text),
        ),
        (
            "reports.generate_report",
            args.large,
            lambda p: reports.generate_report(p, TITLE, large_text),
        ),
        (
            "reports.generate_fruit_report",
            args.large,
            lambda p: reports.generate_fruit_report(p, large),
        ),
    ]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for number, (name, count, build) in enumerate(runs):
            seconds, pages = best_time(build, Path(folder) / f"{number}.pdf", args.repeat)
            rows.append((name, count, pages, seconds))
            print(f"{name} ({count} fruits): {seconds:.2f} s", file=sys.stderr)

    print("| build | fruits | pages | seconds |")
    print("| --- | ---: | ---: | ---: |")
    for name, count, pages, seconds in rows:
        print(f"| {name} | {count} | {pages} | {seconds:.2f} |")
    speedup = rows[0][3] / rows[1][3]
    print(f"\ngenerate_report is {speedup:.0f}x faster than the course's build at {args.fruits} "
          "fruits (same run).")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
