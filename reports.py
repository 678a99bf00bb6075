"""Write the PDF report of the fruits processed, fast even for thousands of fruits.

    >>> from reports import generate_report, generate_fruit_report
    >>> generate_report("/tmp/processed.pdf", "Processed Update on November 21, 2026",
    ...     "name: Apple<br/>weight: 500 lbs<br/><br/>name: Avocado<br/>weight: 200 lbs")
    >>> generate_fruit_report("/tmp/processed.pdf", [("Apple", 500), ("Avocado", 200)])

``generate_report(attachment, title, paragraph)`` is the course's call: the
title, then the course's text with ReportLab markup. The course puts that whole
text in one ReportLab ``Paragraph``, which costs time in proportion to the
square of its length (ReportLab re-wraps what is left of a paragraph at every
page break): 1,000 fruits take seconds, 10,000 take minutes. Here the text is cut
at its blank lines (``<br/><br/>``) into one block per fruit; blocks of plain
text are drawn as lines by ``TextLines``, the others stay ``Paragraph``s, so
markup works and the cost grows in proportion to the number of fruits.

``generate_fruit_report(path, fruits, skipped, when)`` is the richer report
``report_email.py`` sends: the title with the date, how many fruits and their
total weight, the files that could not be imported and why, a bar chart of the
weight per fruit, and each fruit as ``name: X`` / ``weight: N lbs``. Every page
says "Page N of M". Supplier text is never read as markup.

``generate(filename, title, additional_info, table_data)`` is the course's
lab-3 call (used by ``cars.py``): the title, the text (markup, like
``generate_report``'s), then a table whose first row is the header. Its
``charts`` argument, not the course's, takes drawings such as ``sales_charts``
makes (a pie of the sales per make, a bar chart of the best cars by revenue).

Any alphabet: the text is drawn in a TrueType font of wide coverage found on
the system (DejaVu Sans, package fonts-dejavu-core; ``REPORT_FONT`` or
``use_font(path)`` names another), embedded so that readers show it and can
copy the text. A line the font lacks letters of (Chinese) is drawn in another
font that has them when there is one (fonts-wqy-microhei); ``missing_letters``
says what no font found can draw. Without any TrueType font, ReportLab's
Helvetica is used (Latin letters only), with one warning.

All of them write the file atomically: a killed run never leaves half a PDF.
"""

from __future__ import annotations

import datetime
import functools
import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from cli import UsageError, atomic_output, log, plural
from supplier_data import Description, DescriptionError

CHART_BARS = 20  # the heaviest fruits get a bar each; more would be unreadable
TABLE_FONT_SIZE = 10  # ReportLab's Table draws cells at 10 points
BAR_HEIGHT = 14  # points per bar
LABEL_MAX = 28  # characters of a fruit's name on the chart
PIE_SLICES = 10  # more slices than that are too thin to tell apart: the smallest become "Other"
# Tableau's 10 colours: distinct, and readable when printed in grey; the last is for "Other".
PALETTE = [
    colors.HexColor(code)
    for code in ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f")
    + ("#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
]

_BLANK_LINE = re.compile(r"(?:<br\s*/>\s*){2,}", re.IGNORECASE)
_LINE_BREAK = re.compile(r"<br\s*/>", re.IGNORECASE)


# --- fonts: names in any alphabet ----------------------------------------------------------

FONT_FOLDERS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
)
# The report's font: the first of these found. Latin with accents, Greek, Cyrillic and more.
TEXT_FONTS = (
    "DejaVuSans.ttf",  # Debian/Ubuntu: fonts-dejavu-core
    "NotoSans-Regular.ttf",
    "LiberationSans-Regular.ttf",
    "FreeSans.ttf",
    "Arial Unicode.ttf",
)
# For a line the report's font lacks letters of (Chinese, Japanese, Korean). TrueType outlines
# only: ReportLab cannot embed OpenType/CFF fonts such as Noto Sans CJK (fonts-noto-cjk).
EXTRA_FONTS = (
    "wqy-microhei.ttc",  # fonts-wqy-microhei
    "wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "DroidSansFallbackFull.ttf",  # fonts-droid-fallback
    "uming.ttc",  # fonts-arphic-uming
)
FONT_HINT = "install fonts-dejavu-core, or set REPORT_FONT to a TrueType .ttf file"


class FontError(UsageError):
    """The font asked for (REPORT_FONT, --font) cannot be used."""


class Font(NamedTuple):
    regular: str  # its name registered with ReportLab
    bold: str
    italic: str
    letters: frozenset[int] | None  # the code points it draws; None: Windows-1252's (Helvetica)

    def draws(self, text: str) -> bool:
        if self.letters is None:
            try:
                text.encode("cp1252")
            except UnicodeEncodeError:
                return False
            return True
        return {ord(letter) for letter in text if not letter.isspace()} <= self.letters


# What loading a font file that is not a usable TrueType font raises.
_FONT_ERRORS = (OSError, ValueError, KeyError, AssertionError, TTFError)
HELVETICA = Font("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", None)
_chosen_font: str | None = None  # use_font(); REPORT_FONT otherwise


def use_font(path: str | Path | None) -> None:
    """Draw reports in this TrueType font (.ttf, or the first of a .ttc) from now on; None: the
    default choice. FontError if it cannot be used."""
    global _chosen_font
    _chosen_font = str(path) if path else None
    text_font.cache_clear()
    text_font()


@functools.cache
def text_font() -> Font:
    """The report's font, registered with ReportLab once per process (and per use_font())."""
    path = _chosen_font or os.environ.get("REPORT_FONT") or _installed_fonts().get(TEXT_FONTS)
    if not path:
        log.warning(
            "no TrueType font found: the PDF uses Helvetica, which draws Latin letters only "
            f"({FONT_HINT})"
        )
        return HELVETICA
    try:
        regular = _register(Path(path))
    except _FONT_ERRORS as error:
        raise FontError(
            f"{path}: cannot use it as the report's font ({error}): {FONT_HINT}"
        ) from None
    faces = {"normal": regular.regular}
    for face, suffixes in (
        ("bold", ("-Bold", "Bold", "-bold", "bd")),
        ("italic", ("-Oblique", "-Italic", "i")),
    ):
        for suffix in suffixes:
            sibling = Path(path).with_name(Path(path).stem + suffix + Path(path).suffix)
            if sibling.is_file():
                try:
                    faces[face] = _register(sibling).regular
                except _FONT_ERRORS:
                    continue
                break
    faces.setdefault("bold", regular.regular)
    faces.setdefault("italic", regular.regular)
    pdfmetrics.registerFontFamily(regular.regular, boldItalic=faces["bold"], **faces)
    return Font(regular.regular, faces["bold"], faces["italic"], regular.letters)


def font_for(text: str) -> Font:
    """The font that draws all of ``text``: the report's, else an extra one that has its
    letters (Chinese), else the report's (``missing_letters`` then says what it lacks)."""
    main = text_font()
    if main.draws(text):
        return main
    for font in _extra_fonts(_lacking(main, text)):
        if font.draws(text):
            return font
    return main


def missing_letters(text: str) -> str:
    """The letters of ``text`` that no font found can draw (they would be boxes), in order."""
    return _lacking(font_for(text), text)


def missing_letters_hint() -> str:
    """What to do about letters no font found can draw: install the usual Chinese font, or,
    when it is there already (the letters are emoji, say), choose a font that has them."""
    if _installed_fonts().get(EXTRA_FONTS):
        return "no font installed has them: set REPORT_FONT to a font that has them"
    return "install fonts-wqy-microhei, or set REPORT_FONT to a font that has them"


def _lacking(font: Font, text: str) -> str:
    seen = dict.fromkeys(letter for letter in text if not letter.isspace())
    return "".join(letter for letter in seen if not font.draws(letter))


@functools.cache
def _register(path: Path) -> Font:
    """Load a TrueType font (the first face of a .ttc) and register it with ReportLab."""
    name = f"Report-{path.stem}"
    font = (
        TTFont(name, str(path), subfontIndex=0)
        if path.suffix.lower() == ".ttc"
        else (TTFont(name, str(path)))
    )
    pdfmetrics.registerFont(font)
    return Font(name, name, name, frozenset(font.face.charToGlyph))


@functools.cache
def _extra_fonts(letters: str) -> list[Font]:
    """Fonts that may draw ``letters``: the known ones found, then fontconfig's (fc-list)."""
    paths = [_installed_fonts().get(EXTRA_FONTS)]
    if shutil.which("fc-list") and letters:
        charset = " ".join(f"{ord(letter):x}" for letter in letters[:8])
        try:
            listed = subprocess.run(
                ["fc-list", f":charset={charset}", "file"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            listed = ""
        paths += sorted(line.strip().rstrip(":") for line in listed.splitlines())
    fonts = []
    for path in dict.fromkeys(path for path in paths if path):
        if Path(path).suffix.lower() in (".ttf", ".ttc"):
            try:
                fonts.append(_register(Path(path)))
            except _FONT_ERRORS as error:
                # Most often CFF outlines (OpenType named .ttc): ReportLab cannot embed them.
                log.debug("%s: cannot use it (%s)", path, error)
    return fonts


class _FontFiles(dict):
    def get(self, names: Sequence[str]) -> str | None:
        """The path of the first of ``names`` found."""
        return next((self[name] for name in names if name in self), None)


@functools.cache
def _installed_fonts() -> _FontFiles:
    """Every font file of the usual folders, by file name (the first found of each)."""
    found = _FontFiles()
    for folder in FONT_FOLDERS:
        for root, _dirs, files in os.walk(os.path.expanduser(folder)):
            for name in files:
                found.setdefault(name, os.path.join(root, name))
    return found


def styles_sheet() -> dict[str, ParagraphStyle]:
    """ReportLab's sample styles in the report's font (its bold for the bold ones)."""
    font = text_font()
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        if isinstance(style, ParagraphStyle) and not style.fontName.startswith("Courier"):
            bold, italic = "Bold" in style.fontName, style.fontName.endswith(("Oblique", "Italic"))
            style.fontName = font.bold if bold else font.italic if italic else font.regular
            style.bulletFontName = font.regular
    return styles


def in_font(style: ParagraphStyle, text: str) -> ParagraphStyle:
    """``style``, in a font that draws ``text`` when the report's lacks some of its letters."""
    font = font_for(text)
    if font.regular == text_font().regular:
        return style
    return ParagraphStyle(f"{style.name}-{font.regular}", style, fontName=font.regular)


# --- the course's call -----------------------------------------------------------------


def generate_report(attachment: str | Path, title: str, paragraph: str) -> None:
    """The course's ``generate_report``: ``title`` then ``paragraph`` (ReportLab markup)."""
    styles = styles_sheet()
    document = _document(attachment, title)
    story = [Paragraph(title, styles["h1"]), Spacer(1, 20)]
    story += markup_flowables(paragraph, styles["BodyText"], document.width)
    _build(document, story, attachment)


def generate(
    filename: str | Path,
    title: str,
    additional_info: str,
    table_data: Sequence[Sequence[object]],
    charts: Iterable[Flowable] = (),
) -> None:
    """The course's lab-3 ``generate``: ``title``, ``additional_info`` (markup), the table.

    ``table_data`` is a list of rows, the first one the header. ``charts`` (not
    the course's) are drawn between the text and the table, so that they are on
    the first page however long the table is.
    """
    styles = styles_sheet()
    document = _document(filename, title)
    story = [Paragraph(title, styles["h1"]), Spacer(1, 20)]
    story += markup_flowables(additional_info, styles["BodyText"], document.width)
    for chart in charts:
        story += [Spacer(1, 16), chart]
    if table_data:
        story += [Spacer(1, 20), data_table(table_data, document.width)]
    _build(document, story, filename)


def data_table(rows: Sequence[Sequence[object]], width: float | None = None) -> Table:
    """The course's table: a grid, the header row in bold; here also repeated on every page.

    Cells are drawn as text (``str()`` of each value), never read as markup, each in a
    font that has its letters. Wider than ``width``, its widest column wraps its text.
    """
    cells: list[list[object]] = [[str(cell) for cell in row] for row in rows]
    fonts = [[font_for(text) for text in row] for row in cells]
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("FONTNAME", (0, 0), (-1, -1), text_font().regular),
        ("FONTNAME", (0, 0), (-1, 0), text_font().bold),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
    ]
    main = text_font().regular
    for y, row in enumerate(fonts):
        for x, font in enumerate(row):
            if font.regular != main:  # Chinese, say: the report's font would draw boxes
                commands.append(("FONTNAME", (x, y), (x, y), font.bold if y == 0 else font.regular))
    widths = None
    columns = max(map(len, cells), default=0)
    natural = [
        max(
            (stringWidth(row[x], fonts[y][x].regular, TABLE_FONT_SIZE) + 12)
            for y, row in enumerate(cells)
            if x < len(row)
        )
        for x in range(columns)
    ]
    if width is not None and sum(natural) > width:
        wide = natural.index(max(natural))
        widths = list(natural)
        widths[wide] = max(width - (sum(natural) - natural[wide]), width / 4)
        for y, row in enumerate(cells):
            if wide < len(row):
                font = fonts[y][wide]
                style = ParagraphStyle(
                    "cell",
                    fontName=font.bold if y == 0 else font.regular,
                    fontSize=TABLE_FONT_SIZE,
                    leading=TABLE_FONT_SIZE * 1.2,
                    alignment=1,  # centred, as the other cells
                )
                row[wide] = Paragraph(escape(str(row[wide])), style)
    table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(commands))
    return table


def markup_flowables(paragraph: str, style: ParagraphStyle, width: float) -> list[Flowable]:
    """The course's long paragraph as one flowable per fruit (or per run of plain lines).

    A block whose markup does not parse on its own (a tag opened in one block
    and closed in a later one) is joined to the next blocks until it does, so
    any text the course's single ``Paragraph`` accepts is accepted here.
    """
    flowables: list[Flowable] = []
    plain: list[str] = []  # lines of consecutive plain blocks, drawn as one TextLines
    pending = ""  # blocks whose markup is still open
    for block in _BLANK_LINE.split(paragraph):
        lines = [" ".join(line.split()) for line in _LINE_BREAK.split(block)]
        if not any(lines):
            continue
        if not pending and all(_is_plain(line, style, width) for line in lines):
            plain += [*lines, ""]
            continue
        if plain:
            flowables.append(TextLines(plain, style))
            plain = []
        pending = f"{pending}<br/><br/>{block}" if pending else block
        try:
            flowables += [Paragraph(pending, style), Spacer(1, style.leading)]
        except ValueError:  # ReportLab's parse error: an unclosed tag, read on
            continue
        pending = ""
    if plain:
        flowables.append(TextLines(plain, style))
    if pending:  # never closed: ReportLab's own error, as the course's code would give
        flowables.append(Paragraph(pending, style))
    return flowables


def _is_plain(line: str, style: ParagraphStyle, width: float) -> bool:
    """No markup and fits on one line: can be drawn as it is."""
    return "<" not in line and "&" not in line and _fits(line, style, width)


def _fits(line: str, style: ParagraphStyle, width: float) -> bool:
    # Most lines are short: skip measuring those that fit even in the widest letters.
    return len(line) * style.fontSize <= width or (
        stringWidth(line, font_for(line).regular, style.fontSize) <= width
    )


class TextLines(Flowable):
    """Lines of plain text in one style, ``""`` for a blank line; cheap to lay out and split.

    A page break falls after a blank line when one is on the page, so a fruit's
    name and weight stay together.
    """

    def __init__(self, lines: list[str], style: ParagraphStyle) -> None:
        super().__init__()
        end = len(lines)
        while end and lines[end - 1] == "":
            end -= 1
        self.lines, self.style = lines[:end], style
        # Blank lines at the end are space after, which ReportLab drops at a page's foot.
        self.spaceAfter = (len(lines) - end) * style.leading

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width, self.height = available_width, len(self.lines) * self.style.leading
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        fit = min(int(available_height // self.style.leading), len(self.lines))
        cut = fit
        while cut > 0 and self.lines[cut - 1] != "":
            cut -= 1
        if cut == 0:
            # No blank line on what is left of this page: start on the next page; but a
            # block taller than a whole page is cut where the page ends.
            at_top = getattr(getattr(self, "_frame", None), "_atTop", False)
            if not at_top or fit == 0:
                return []
            cut = fit
        rest = self.lines[cut:]
        while rest and rest[0] == "":  # a page does not start with a blank line
            rest = rest[1:]
        first = TextLines(self.lines[:cut], self.style)
        return [first, TextLines(rest, self.style)] if rest else [first]

    def draw(self) -> None:
        text = self.canv.beginText(0, self.height - self.style.fontSize)
        text.setFont(self.style.fontName, self.style.fontSize, self.style.leading)
        text.setFillColor(self.style.textColor)
        main = text_font()
        for line in self.lines:
            if main.draws(line):
                text.setFont(self.style.fontName, self.style.fontSize, self.style.leading)
            else:  # a name in letters the report's font lacks (Chinese): a font that has them
                text.setFont(font_for(line).regular, self.style.fontSize, self.style.leading)
            text.textLine(line)
        self.canv.drawText(text)


# --- the fruit report of report_email.py ---------------------------------------------------


class ReportFruit(NamedTuple):
    """A fruit of the report as the catalog holds it."""

    name: str
    weight: int  # pounds
    picture_missing: bool = False  # the catalog has the fruit, the server not its picture


PICTURE_MISSING = "picture: missing on the server"


def generate_fruit_report(
    path: str | Path,
    fruits: Iterable[ReportFruit | Description | tuple[str, int]],
    skipped: Iterable[DescriptionError | str] = (),
    when: datetime.date | None = None,
) -> None:
    """The report of what was imported: title, summary, files not imported, chart, the list.

    ``skipped`` are the files not imported and why; a fruit whose picture is missing on
    the server is marked in the list (``PICTURE_MISSING``).
    """
    pairs = [_report_fruit(fruit) for fruit in fruits]
    problems = [problem_line(item) for item in skipped]
    title = report_title(when or datetime.date.today())
    styles = styles_sheet()
    body = styles["BodyText"]
    document = _document(path, title)

    imported = plural(len(pairs), "fruit")
    if problems:
        imported = f"{len(pairs)} of {plural(len(pairs) + len(problems), 'fruit')}"
    summary = f"{imported} imported. Total weight: {total_weight(pairs)} lbs"
    missing = sum(fruit.picture_missing for fruit in pairs)
    if missing:
        summary += f". {plural(missing, 'picture')} missing on the server (marked below)."
    story: list[Flowable] = [
        Paragraph(escape(title), styles["h1"]),
        Paragraph(escape(summary), body),
    ]
    if problems:
        warning = ParagraphStyle("warning", body, textColor=colors.firebrick)
        story += [
            Paragraph(f"<b>{plural(len(problems), 'file')} not imported</b>", styles["h2"]),
            *[
                Paragraph(escape(line), in_font(warning, line), bulletText="\u2022")
                for line in problems
            ],
        ]
    if pairs:
        story += [Spacer(1, 12), weight_chart(pairs, document.width)]
        story += [Spacer(1, 12), Paragraph("Fruits imported", styles["h2"])]
        story += fruit_list(pairs, body, document.width)
    _build(document, story, path)


def report_title(when: datetime.date) -> str:
    """``Processed Update on November 21, 2026``: the course's title, day not zero-padded."""
    return f"Processed Update on {when:%B} {when.day}, {when.year}"


def total_weight(fruits: Iterable[ReportFruit | Description | tuple[str, int]]) -> int:
    return sum(_report_fruit(fruit).weight for fruit in fruits)


def fruit_list(
    fruits: list[ReportFruit | tuple[str, int]], style: ParagraphStyle, width: float
) -> list[Flowable]:
    """``name: X`` / ``weight: N lbs`` with a blank line between fruits, as the course has it;
    a third line ``picture: missing on the server`` marks a fruit without its picture.

    The names are drawn as text, never read as markup; the rare name too wide for
    one line becomes an escaped Paragraph that wraps.
    """
    flowables: list[Flowable] = []
    plain: list[str] = []
    for fruit in map(_report_fruit, fruits):
        lines = [f"name: {fruit.name}", f"weight: {fruit.weight} lbs"]
        if fruit.picture_missing:
            lines.append(PICTURE_MISSING)
        if _fits(lines[0], style, width):
            plain += [*lines, ""]
            continue
        if plain:
            flowables.append(TextLines(plain, style))
            plain = []
        paragraph = "<br/>".join(map(escape, lines))
        flowables += [Paragraph(paragraph, in_font(style, lines[0])), Spacer(1, style.leading)]
    if plain:
        flowables.append(TextLines(plain, style))
    return flowables


def weight_chart(pairs: list[ReportFruit | tuple[str, int]], width: float) -> Flowable:
    """A bar per fruit name (weights of the same name added), heaviest first.

    Only the ``CHART_BARS`` heaviest get a bar, so the chart stays on one page
    and readable; a line under it says how many more there are.
    """
    weights = Counter()
    for name, weight, *_ in pairs:
        weights[name] += weight
    drawing = bar_chart("Weight per fruit (lbs)", weights.most_common(CHART_BARS), width)
    flowables: list[Flowable] = [drawing]
    rest = weights.most_common()[CHART_BARS:]
    if rest:
        more = (
            f"The other {plural(len(rest), 'fruit')} ({sum(w for _, w in rest)} lbs) are not shown."
        )
        flowables.append(Paragraph(escape(more), styles_sheet()["Italic"]))
    return KeepTogether(flowables)


def bar_chart(
    title: str,
    bars: list[tuple[str, float]],
    width: float,
    value_format: str | Callable[[float], str] = "%d",
    axis_format: str | Callable[[float], str] | None = None,
    label_max: int = LABEL_MAX,
) -> Drawing:
    """A horizontal bar per (label, value), in the order given, the first on top.

    Horizontal, so that long labels are read as they are written, never tilted
    or overlapping; each bar has its value at its end (``value_format``).
    """
    labels = [_shorten(label, label_max) for label, _ in bars]
    fonts = [font_for(label).regular for label in labels]
    label_width = max(map(stringWidth, labels, fonts, [9] * len(labels))) + 8
    chart_height = len(bars) * BAR_HEIGHT
    drawing = Drawing(width, chart_height + 40)
    drawing.add(String(0, chart_height + 28, title, fontName=font_for(title).bold, fontSize=11))
    chart = HorizontalBarChart()
    chart.x, chart.y = label_width, 16
    # Room on the right for the longest bar's value.
    value_text = _formatted(value_format, bars[0][1])
    value_room = max(40, stringWidth(value_text, text_font().regular, 8) + 8)
    chart.width, chart.height = width - label_width - value_room, chart_height
    # The first on top: categories are drawn from the bottom up, so they go in reversed
    # (reverseDirection would also reverse which label labels[i] styles, not the names).
    chart.data = [[value for _, value in reversed(bars)]]
    chart.bars[0].fillColor = PALETTE[0]
    chart.bars.strokeColor = None
    chart.barSpacing = 0
    chart.groupSpacing = 3
    chart.categoryAxis.categoryNames = labels[::-1]
    chart.categoryAxis.labels.fontName = text_font().regular
    for index, font in enumerate(reversed(fonts)):
        chart.categoryAxis.labels[index].fontName = font
    chart.categoryAxis.labels.fontSize = 9
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.valueAxis.valueMin = 0
    # Room for the biggest bar's label; at least 5 so that the ticks are whole numbers.
    chart.valueAxis.valueMax = max(5, max(value for _, value in bars) * 1.1)
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontName = text_font().regular
    if axis_format is not None:
        chart.valueAxis.labelTextFormat = axis_format
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.lightgrey
    chart.barLabelFormat = value_format
    chart.barLabels.fontSize = 8
    chart.barLabels.fontName = text_font().regular
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def pie_chart(
    title: str, slices: list[tuple[str, float]], value_format: Callable[[float], str] = str
) -> Drawing:
    """A pie, biggest slice first, with a legend beside it: name, value and share of each.

    Names are in the legend, not on the slices, so they never overlap; beyond
    ``PIE_SLICES`` the smallest are added up into one "Other (N more)" slice.
    """
    slices = sorted(slices, key=lambda pair: pair[1], reverse=True)  # stable: ties keep order
    if len(slices) > PIE_SLICES:
        rest = slices[PIE_SLICES - 1 :]
        other = (f"Other ({len(rest)} more)", sum(value for _, value in rest))
        slices = [*slices[: PIE_SLICES - 1], other]
    total = sum(value for _, value in slices)
    size = 150  # points; the legend (PIE_SLICES lines of 14) is as tall
    drawing = Drawing(size + 260, size + 30)
    drawing.add(String(0, size + 16, title, fontName=font_for(title).bold, fontSize=11))
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 0, 0, size, size
    pie.data = [float(value) for _, value in slices]
    pie.startAngle, pie.direction = 90, "clockwise"  # read from twelve o'clock, as people do
    pie.slices.strokeColor = colors.white
    pie.slices.strokeWidth = 0.5
    for index in range(len(slices)):
        pie.slices[index].fillColor = PALETTE[index]
    if slices[-1][0].startswith("Other ("):
        pie.slices[len(slices) - 1].fillColor = PALETTE[-1]
    drawing.add(pie)
    legend = Legend()
    legend.x, legend.y = size + 24, size
    legend.boxAnchor = "nw"
    legend.alignment = "right"  # text to the right of its swatch
    legend.fontName = font_for(" ".join(name for name, _ in slices)).regular
    legend.fontSize = 9
    legend.columnMaximum = PIE_SLICES
    legend.deltay = 14
    legend.dx = legend.dy = 8
    legend.colorNamePairs = []
    for index, (name, value) in enumerate(slices):
        label = f"{_shorten(name)}: {value_format(value)} ({value / total:.0%})"
        legend.colorNamePairs.append((pie.slices[index].fillColor, label))
    drawing.add(legend)
    return drawing


def sales_charts(
    sales_per_make: dict[str, int], revenue_per_car: list[tuple[str, Decimal]]
) -> list[Flowable]:
    """``cars.py``'s charts: a pie of the cars sold per make, bars of the cars by revenue.

    A chart with nothing to show (no sale at all) is left out.
    """
    width = _document("", "").width  # the page's, between its margins
    charts: list[Flowable] = []
    if sum(sales_per_make.values()) > 0:
        charts.append(pie_chart("Cars sold per make", list(sales_per_make.items()), "{:,}".format))
    if revenue_per_car:
        bars = [(car, float(revenue)) for car, revenue in revenue_per_car]
        title = f"The {plural(len(bars), 'car')} with the most revenue"
        charts.append(bar_chart(title, bars, width, dollars, short_dollars, label_max=44))
    return charts


def dollars(amount: float) -> str:
    """``$22,749,529``: whole dollars, for a chart (the text gives the cents)."""
    return f"${amount:,.0f}"


def short_dollars(amount: float) -> str:
    """``$2.5M``, ``$400k``: axis ticks short enough never to run into each other."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(amount) >= size:
            return f"${amount / size:g}{suffix}"
    return f"${amount:g}"


def _formatted(value_format: str | Callable[[float], str], value: float) -> str:
    return value_format(value) if callable(value_format) else value_format % value


def _report_fruit(fruit: ReportFruit | Description | tuple[str, int]) -> ReportFruit:
    if isinstance(fruit, ReportFruit):
        return fruit
    if isinstance(fruit, Description):
        return ReportFruit(fruit.name, fruit.weight)
    name, weight, *missing = fruit
    return ReportFruit(str(name), int(weight), *missing)


def problem_line(item: DescriptionError | str) -> str:
    """``003.txt:2: the weight is missing``: the file's name, its line, why."""
    if isinstance(item, DescriptionError):
        where = f"{item.path.name}:{item.line}" if item.line else item.path.name
        return f"{where}: {item.message}"
    return str(item)


def _shorten(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# --- the document, page numbers, atomic writing ------------------------------------------


def _document(path: str | Path, title: str) -> SimpleDocTemplate:
    """An A4 document; the real file name is given at build time (a temporary one)."""
    return SimpleDocTemplate(
        str(path),
        pagesize=A4,
        title=title,
        author="fruit-store automation",
        bottomMargin=25 * mm,
    )


def _build(document: SimpleDocTemplate, story: list[Flowable], path: str | Path) -> None:
    with atomic_output(Path(path)) as temporary:
        document.filename = str(temporary)
        document.build(story, canvasmaker=NumberedCanvas)


class NumberedCanvas(Canvas):
    """Writes "Page N of M" at the foot of every page once M is known.

    The usual ReportLab recipe: each finished page is kept as it is, and all
    are written out, with their numbers, when the document is saved.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs["initialFontName"] = kwargs.get("initialFontName") or text_font().regular
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        for page in self._pages:
            self.__dict__.update(page)
            self.setFont(text_font().regular, 8)
            self.setFillColor(colors.grey)
            self.drawRightString(
                self._pagesize[0] - 20 * mm,
                12 * mm,
                f"Page {self._pageNumber} of {len(self._pages)}",
            )
            super().showPage()
        super().save()
