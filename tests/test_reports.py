"""reports.py: what a person reading the PDF sees, checked through pypdf's text extraction."""

import datetime
import re

import pytest
from pypdf import PdfReader

import reports
from supplier_data import DescriptionError

COURSE_TITLE = "Processed Update on November 21, 2026"


def course_paragraph(fruits: list[tuple[str, int]]) -> str:
    """The text the course's report_email.py hands to generate_report."""
    return "<br/><br/>".join(f"name: {name}<br/>weight: {weight} lbs" for name, weight in fruits)


def pages_text(path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def lines_of(path) -> list[str]:
    return [line.strip() for text in pages_text(path) for line in text.splitlines()]


def test_course_call_has_every_line(tmp_path):
    pdf = tmp_path / "processed.pdf"
    fruits = [("Apple", 500), ("Avocado", 200), ("Blackberry", 150)]
    reports.generate_report(pdf, COURSE_TITLE, course_paragraph(fruits) + "<br/><br/>")
    lines = lines_of(pdf)
    assert lines[0] == COURSE_TITLE
    expected = [line for name, w in fruits for line in (f"name: {name}", f"weight: {w} lbs")]
    assert [line for line in lines if line.startswith(("name:", "weight:"))] == expected
    assert lines[-1] == "Page 1 of 1"
    assert list(tmp_path.iterdir()) == [pdf]  # no temporary file left beside it


def test_course_call_keeps_markup_working(tmp_path):
    pdf = tmp_path / "processed.pdf"
    paragraph = (
        "name: <b>Apple</b><br/>weight: 500 lbs<br/><br/>"
        "name: Fish &amp; Chips<br/>weight: 1 lbs<br/><br/>"
        # a tag opened in one fruit and closed in the next, as one Paragraph allows
        "<i>name: Kiwi<br/>weight: 2 lbs<br/><br/>name: Lime<br/>weight: 3 lbs</i>"
    )
    reports.generate_report(pdf, "<b>Title</b>", paragraph)
    lines = lines_of(pdf)
    for line in ["Title", "name: Apple", "name: Fish & Chips", "name: Kiwi", "weight: 3 lbs"]:
        assert line in lines
    assert not any("<" in line or "&amp;" in line for line in lines)


def test_course_call_with_broken_markup_fails_like_reportlab_and_leaves_no_file(tmp_path):
    pdf = tmp_path / "processed.pdf"
    with pytest.raises(ValueError):
        reports.generate_report(pdf, COURSE_TITLE, "name: <b>Apple<br/>weight: 500 lbs")
    assert list(tmp_path.iterdir()) == []


def test_long_course_report_is_numbered_and_keeps_each_fruit_together(tmp_path):
    pdf = tmp_path / "processed.pdf"
    fruits = [(f"Fruit {i}", i) for i in range(300)]
    reports.generate_report(pdf, COURSE_TITLE, course_paragraph(fruits))
    texts = pages_text(pdf)
    assert len(texts) > 5
    for number, text in enumerate(texts, start=1):
        lines = [line.strip() for line in text.splitlines()]
        assert lines[-1] == f"Page {number} of {len(texts)}"
        names = [i for i, line in enumerate(lines) if line.startswith("name:")]
        # a fruit's weight is on the same page as its name, right after it
        assert all(lines[i + 1].startswith("weight:") for i in names)
    names = [line for line in lines_of(pdf) if line.startswith("name:")]
    assert names == [f"name: Fruit {i}" for i in range(300)]


def test_fruit_report(tmp_path):
    pdf = tmp_path / "processed.pdf"
    fruits = [("Watermelon", 500), ("Açaí", 100), ("Lime", 210)]
    reports.generate_fruit_report(pdf, fruits, when=datetime.date(2026, 11, 1))
    lines = lines_of(pdf)
    assert lines[0] == "Processed Update on November 1, 2026"
    assert "3 fruits imported. Total weight: 810 lbs" in lines
    listed = lines[lines.index("Fruits imported") + 1 :]
    assert listed[:6] == [
        "name: Watermelon",
        "weight: 500 lbs",
        "name: Açaí",
        "weight: 100 lbs",
        "name: Lime",
        "weight: 210 lbs",
    ]
    assert not any("not imported" in line for line in lines)
    assert PdfReader(pdf).metadata.title == "Processed Update on November 1, 2026"


def test_fruit_report_title_is_today_by_default(tmp_path):
    pdf = tmp_path / "processed.pdf"
    reports.generate_fruit_report(pdf, [("Lime", 1)])
    assert lines_of(pdf)[0] == reports.report_title(datetime.date.today())
    assert reports.report_title(datetime.date(2026, 3, 5)) == "Processed Update on March 5, 2026"


def test_names_are_text_not_markup(tmp_path):
    pdf = tmp_path / "processed.pdf"
    names = ["<b>Kiwi</b> & Co", "Lime <br/> &amp;", "<para>"]
    reports.generate_fruit_report(pdf, [(name, 1) for name in names], ["bad<1>.txt: a < b & c"])
    lines = lines_of(pdf)
    for name in names:
        assert f"name: {name}" in lines
    assert any(line.endswith(" bad<1>.txt: a < b & c") for line in lines)  # after its bullet


def test_files_not_imported_are_listed(tmp_path):
    pdf = tmp_path / "processed.pdf"
    problems = [
        DescriptionError(tmp_path / "descriptions" / "004.txt", 2, "the weight is missing"),
        DescriptionError(tmp_path / "descriptions" / "009.txt", None, "the file is empty"),
    ]
    reports.generate_fruit_report(pdf, [("Lime", 210)], problems)
    text = " ".join(lines_of(pdf))
    assert "2 files not imported" in text
    assert "004.txt:2: the weight is missing" in text
    assert "009.txt: the file is empty" in text


def test_chart_has_a_bar_per_fruit(tmp_path):
    pdf = tmp_path / "processed.pdf"
    fruits = [("Watermelon", 500), ("Lime", 210), ("Açaí", 100)]
    reports.generate_fruit_report(pdf, fruits)
    page = PdfReader(pdf).pages[0]
    lines = [line.strip() for line in page.extract_text().splitlines()]
    chart = lines[lines.index("Weight per fruit (lbs)") : lines.index("Fruits imported")]
    for name, weight in fruits:
        assert name in chart and str(weight) in chart  # axis label and bar label
    # three filled rectangles as wide as the weights: 500 is 2.38 times 210
    bars = bar_widths(page)
    assert len(bars) == 3
    assert sorted(bars, reverse=True)[0] / sorted(bars, reverse=True)[1] == pytest.approx(500 / 210)


def bar_widths(page) -> list[float]:
    """Widths of the chart's bars: the rectangles filled with the bars' colour (#4e79a7)."""
    content = page.get_contents().get_data().decode("latin-1")
    colour = ".305882 .47451 .654902 rg"
    rectangle = re.compile(r"n ([\d.-]+) ([\d.-]+) ([\d.-]+) ([\d.-]+) re f")
    widths = []
    for block in content.split(colour)[1:]:
        match = rectangle.search(block)
        widths.append(float(match[3]))
    return widths


def test_chart_shows_the_heaviest_and_says_how_many_more(tmp_path):
    pdf = tmp_path / "processed.pdf"
    fruits = [(f"Fruit {i:02}", i) for i in range(1, 31)] + [("Fruit 01", 100)]
    reports.generate_fruit_report(pdf, fruits)
    page = PdfReader(pdf).pages[0]
    lines = [line.strip() for line in page.extract_text().splitlines()]
    assert len(bar_widths(page)) == reports.CHART_BARS
    assert "Fruit 01" in lines  # the same name twice: 101 lbs, the heaviest
    # 30 names: Fruit 01 and Fruit 12 to 30 have bars; Fruit 02 to 11 (2 + ... + 11 lbs) do not
    assert "The other 10 fruits (65 lbs) are not shown." in lines


def test_fruit_marked_when_its_picture_is_missing(tmp_path):
    pdf = tmp_path / "processed.pdf"
    fruits = [reports.ReportFruit("Lime", 210, picture_missing=True), ("Kiwi", 3)]
    reports.generate_fruit_report(pdf, fruits)
    lines = lines_of(pdf)
    listed = lines[lines.index("Fruits imported") + 1 :]
    assert listed[:5] == [
        "name: Lime",
        "weight: 210 lbs",
        reports.PICTURE_MISSING,
        "name: Kiwi",
        "weight: 3 lbs",
    ]
    assert "1 picture missing on the server (marked below)." in " ".join(lines)


@pytest.mark.skipif(
    "DejaVuSans.ttf" not in reports._installed_fonts(),
    reason="DejaVu Sans not installed (fonts-dejavu-core)",
)
def test_any_alphabet_in_every_report(tmp_path):
    names = ["Клубника", "Φράουλα", "Fraise des bois à l'été"]
    fruit_pdf, course_pdf = tmp_path / "fruits.pdf", tmp_path / "course.pdf"
    reports.generate_fruit_report(fruit_pdf, [(name, 1) for name in names], ["Кiwi.txt: bad"])
    reports.generate_report(course_pdf, "Ελληνικά", course_paragraph([(n, 1) for n in names]))
    for pdf in (fruit_pdf, course_pdf):
        lines = lines_of(pdf)
        assert [line for line in lines if line.startswith("name:")] == [f"name: {n}" for n in names]
    assert "Ελληνικά" in lines_of(course_pdf)
    assert reports.missing_letters("Клубника Φράουλα été") == ""


def text_runs(path) -> list[tuple[str, str, float, float]]:
    """Each piece of text on the first page: (text, font, x, y), as pypdf reads it drawn."""
    runs = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            name = font.get("/BaseFont", "").split("+")[-1] if font else ""
            runs.append((text.strip(), name, cm[4] + tm[4], cm[5] + tm[5]))

    PdfReader(path).pages[0].extract_text(visitor_text=visit)
    return runs


def test_chart_labels_in_any_alphabet_are_drawn_in_order_in_a_font_that_has_them(tmp_path):
    # reverseDirection styled the mirrored label: the Chinese name was boxes, Kiwi in Chinese.
    pdf = tmp_path / "processed.pdf"
    fruits = [("中文水果", 100), ("Apple", 50), ("Kiwi", 10)]
    reports.generate_fruit_report(pdf, fruits)
    chart: dict[str, tuple[str, float]] = {}
    for text, font, _, y in text_runs(pdf):  # the chart's labels come first, then the list
        if text in dict(fruits):
            chart.setdefault(text, (font, y))

    assert chart["中文水果"][0].startswith("WenQuanYi")
    assert chart["Apple"][0] == chart["Kiwi"][0] == "DejaVuSans"
    assert chart["中文水果"][1] > chart["Apple"][1] > chart["Kiwi"][1]  # the heaviest on top


def test_a_table_wider_than_the_page_wraps_and_draws_any_alphabet(tmp_path):
    # A 300-character model pushed Price and Total Sales off the page; Chinese was boxes.
    pdf = tmp_path / "cars.pdf"
    long_model = "Model " + "very long name " * 21
    rows = [["ID", "Car", "Price", "Total Sales"], [1, f"Ford {long_model}", "$1.00", 7]]
    rows.append([2, "丰田 卡罗拉 (2010)", "$2.00", 3])
    reports.generate(pdf, "Sales", "summary", rows)

    runs = text_runs(pdf)
    width = float(PdfReader(pdf).pages[0].mediabox.width)
    assert all(x < width - 20 for _, _, x, _ in runs), "text drawn off the page"
    texts = [text for text, *_ in runs]
    assert "Total Sales" in texts and "$1.00" in texts
    assert "".join(texts).replace(" ", "").count("verylongname") == 21  # all of it, wrapped
    [toyota] = [font for text, font, *_ in runs if "丰田" in text]
    assert toyota.startswith("WenQuanYi")
