"""The printable PDF of a batch of voter codes: one cut-out slip per code, ten slips a page.

No Flask, no database, no gettext: the caller passes the texts already translated
(:class:`SlipTexts`, filled with ``force_locale`` for English and French) and gets bytes back.
Nothing is written to disk here; the PDF holds codes in clear, so the caller streams it to the
staff member who asked and keeps no copy.

Each slip has the batch title, the code in large monospace groups of four, the voting address,
a QR code of that address, and the instructions in English and in French side by side.

Decisions:

* **Paper**: US Letter (215.9 x 279.4 mm), what Canadian offices print on; A4 printers scale it
  with "fit to page" at 97%, which the margins allow. Two columns of five slips (100 x 52.7 mm),
  dashed cut lines around every slip, 8 mm page margins that office printers can reach.
* **The QR code holds the address only, never the code**: an address opened from a QR code ends
  up in browser history, proxies and server logs; a code must not. It is drawn as vector
  rectangles (adjacent dark modules merged), so it stays sharp at any printer resolution.
* **Fonts**: the PDF core fonts Helvetica and Courier, which every PDF reader has, so nothing is
  embedded or shipped. They are written in WinAnsiEncoding (Windows-1252), which has every
  character French needs: é è à ç œ, « », the apostrophe ’ (U+2019), dashes, the no-break space.
  :func:`printable` maps the few characters outside it that translations use (narrow no-break
  space U+202F to a no-break space, thin spaces and line breaks to spaces, non-breaking hyphen and minus to
  hyphens, → to ->) and refuses anything else with a ValueError naming the character, so a
  slip never shows a wrong glyph. A test runs every message of the French catalogue through it.
* **Speed**: everything that is the same on every slip (wrapped instructions, QR rectangles,
  fitted font sizes) is computed once per batch; each slip then costs a few text and rectangle
  operators. See ``benchmarks/slips.py``.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import segno
from fpdf import FPDF
from fpdf.enums import RenderStyle

from pb import voter_codes

PAGE_FORMAT = "letter"
PAGE_WIDTH, PAGE_HEIGHT = 215.9, 279.4  # mm
COLUMNS, ROWS = 2, 5
SLIPS_PER_PAGE = COLUMNS * ROWS
MARGIN = 8.0  # mm, page edge to the outer cut lines
SLIP_WIDTH = (PAGE_WIDTH - 2 * MARGIN) / COLUMNS  # 99.95 mm
SLIP_HEIGHT = (PAGE_HEIGHT - 2 * MARGIN) / ROWS  # 52.68 mm
PADDING = 4.0  # mm, cut line to content; also the QR code's quiet zone (>= 4 modules)
QR_SIDE = 19.0  # mm, the QR symbol without its quiet zone
MIN_MODULE = 0.45  # mm; a longer address would need smaller modules than phones read reliably
GAP = 4.0  # mm between the QR code and the text, and between the two languages
TITLE_SIZE = 8.0  # pt
CODE_SIZE = 16.0  # pt, Courier: 19 characters x 0.6 em = 64 mm
URL_SIZES = (8.0, 7.5, 7.0, 6.5, 6.0, 5.5)  # pt, the first that fits
TEXT_SIZES = (7.5, 7.25, 7.0, 6.75, 6.5, 6.25, 6.0, 5.75, 5.5)  # pt, the first that fits
LINE_HEIGHT = 1.18  # times the font size
PT = 25.4 / 72  # mm in a point
ENCODING = "windows-1252"

# What translations may contain that Windows-1252 lacks, and what a slip prints instead.
_REPLACEMENTS = {
    "\n": " ",  # the slip wraps lines itself
    "\r": " ",
    "\t": " ",
    "\u202f": "\u00a0",  # narrow no-break space (French « », : ; ! ?) -> no-break space
    "\u2007": "\u00a0",  # figure space (a no-break space)
    "\u2060": "",  # word joiner
    "\u200b": "",  # zero-width space
    "\u2009": " ",  # thin space
    "\u200a": " ",  # hair space
    "\u2002": " ",  # en space
    "\u2003": " ",  # em space
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2212": "-",  # minus sign
    "\u2192": "->",  # rightwards arrow
}
_TRANSLATE = str.maketrans(_REPLACEMENTS)


def printable(text: str) -> str:
    """``text`` as the slip prints it, in characters the core fonts have (Windows-1252).

    Raises ValueError naming the first character that cannot be printed (a control character, an
    emoji, a letter of another script...).
    """
    mapped = text.translate(_TRANSLATE)
    for character in mapped:
        if unicodedata.category(character).startswith("C"):  # controls, format, surrogates, unassigned
            raise ValueError(f"cannot print U+{ord(character):04X} on a slip")
        try:
            character.encode(ENCODING)
        except UnicodeEncodeError:
            name = unicodedata.name(character, "unnamed")
            raise ValueError(f"cannot print U+{ord(character):04X} ({name}) on a slip") from None
    return mapped


@dataclass(frozen=True)
class SlipLanguage:
    """The instructions of a slip in one language, already translated.

    ``heading`` ("How to vote"), ``steps`` (numbered by the slip: "Go to the address above or scan
    the QR code.", "Enter your code.", ...), ``notice`` ("One code, one ballot. Keep it private.").
    Every character must be :func:`printable`; a ValueError says which one is not.
    """

    heading: str
    steps: tuple[str, ...]
    notice: str

    def __post_init__(self) -> None:
        if not isinstance(self.steps, tuple) or not self.steps:
            raise ValueError("a slip needs at least one step, as a tuple")
        for text in (self.heading, *self.steps, self.notice):
            if not isinstance(text, str) or not text.strip():
                raise ValueError("every text of a slip must be a non-empty string")
            printable(text)


@dataclass(frozen=True)
class SlipTexts:
    """Both languages of every slip: English on the left, French on the right."""

    english: SlipLanguage
    french: SlipLanguage


@dataclass(frozen=True)
class _Line:
    bold: bool
    dx: float
    dy: float  # baseline, from the slip's top-left corner
    text: str


def render_slips(codes: Sequence[str], vote_url: str, texts: SlipTexts, *, title: str) -> bytes:
    """The PDF (bytes) of one slip per code, in the order given, ten a page.

    ``codes`` may be in any form :func:`pb.voter_codes.normalize` accepts; they are printed as
    :func:`pb.voter_codes.display` shows them. ``vote_url`` is printed and encoded in the QR code;
    ``title`` (the cycle and batch) heads every slip, shortened with an ellipsis if it is too long,
    and is the document's title. Raises ValueError for an empty batch, a value that is not a code,
    an address too long for the slip or the QR code, or texts that cannot be printed or do not fit.
    """
    if isinstance(codes, str):
        raise ValueError("codes must be a sequence of codes, not one string")
    if not codes:
        raise ValueError("a batch of slips needs at least one code")
    shown = [voter_codes.display(code) for code in codes]  # ValueError on a wrong code
    if not isinstance(vote_url, str) or not vote_url.strip() or vote_url != vote_url.strip():
        raise ValueError("the voting address must be a non-empty string without surrounding spaces")

    pdf = FPDF(orientation="portrait", unit="mm", format=PAGE_FORMAT)
    pdf.core_fonts_encoding = ENCODING
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_title(printable(title))
    pdf.set_lang("en-CA")
    pdf.set_creator("pb")

    left_width = SLIP_WIDTH - 2 * PADDING - QR_SIDE - GAP
    rectangles = _qr_rectangles(vote_url)
    pdf.set_font("helvetica", "B", TITLE_SIZE)
    title_line = _shorten(pdf, printable(title), left_width)
    url_line = printable(vote_url)
    url_size = _fit_size(pdf, url_line, left_width)
    text_size, lines = _instructions(pdf, texts)

    for start in range(0, len(shown), SLIPS_PER_PAGE):
        page = shown[start : start + SLIPS_PER_PAGE]
        origins = [
            (MARGIN + (i % COLUMNS) * SLIP_WIDTH, MARGIN + (i // COLUMNS) * SLIP_HEIGHT)
            for i in range(len(page))
        ]
        pdf.add_page()
        _cut_lines(pdf, len(page))
        # One font at a time across the page, so the content stream switches fonts four times.
        pdf.set_fill_color(0)
        qr_x = SLIP_WIDTH - PADDING - QR_SIDE
        for x, y in origins:
            for rx, ry, rw, rh in rectangles:
                pdf.rect(x + qr_x + rx, y + PADDING + ry, rw, rh, style=RenderStyle.F)
        pdf.set_font("helvetica", "B", TITLE_SIZE)
        for x, y in origins:
            pdf.text(x + PADDING, y + PADDING + TITLE_SIZE * PT, title_line)
        pdf.set_font("courier", "B", CODE_SIZE)
        for (x, y), code in zip(origins, page, strict=True):
            pdf.text(x + PADDING, y + PADDING + 10.0, code)
        pdf.set_font("helvetica", "", url_size)
        for x, y in origins:
            pdf.text(x + PADDING, y + PADDING + 15.5, url_line)
        for bold in (True, False):
            pdf.set_font("helvetica", "B" if bold else "", text_size)
            for x, y in origins:
                for line in lines:
                    if line.bold is bold:
                        pdf.text(x + line.dx, y + line.dy, line.text)
    return bytes(pdf.output())


def qr_matrix(vote_url: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code's modules (True is dark), row by row, without the quiet zone: what a slip draws."""
    qr = segno.make_qr(vote_url, error="M", boost_error=False)
    return tuple(tuple(bool(module) for module in row) for row in qr.matrix)


def _qr_rectangles(vote_url: str) -> list[tuple[float, float, float, float]]:
    """(x, y, width, height) in mm of the dark areas: runs of a row, merged down identical rows."""
    matrix = qr_matrix(vote_url)
    module = QR_SIDE / len(matrix)
    if module < MIN_MODULE:
        raise ValueError("the voting address is too long for a QR code on a slip")
    open_runs: dict[tuple[int, int], list[int]] = {}  # (column, width) -> [first row, rows]
    found: list[tuple[int, int, int, int]] = []
    for y, row in enumerate(matrix):
        runs = set()
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.add((start, x - start))
            x += 1
        for run in [run for run in open_runs if run not in runs]:
            first, height = open_runs.pop(run)
            found.append((run[0], first, run[1], height))
        for run in runs:
            if run in open_runs:
                open_runs[run][1] += 1
            else:
                open_runs[run] = [y, 1]
    found.extend((run[0], first, run[1], height) for run, (first, height) in open_runs.items())
    return [(x * module, y * module, w * module, h * module) for x, y, w, h in sorted(found)]


def _shorten(pdf: FPDF, text: str, width: float) -> str:
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text.rstrip() + "\u2026") > width:
        text = text[:-1]
    return text.rstrip() + "\u2026"


def _fit_size(pdf: FPDF, url: str, width: float) -> float:
    for size in URL_SIZES:
        pdf.set_font("helvetica", "", size)
        if pdf.get_string_width(url) <= width:
            return size
    raise ValueError("the voting address is too long to print on a slip; use a shorter one")


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Greedy line breaking at ordinary spaces (a no-break space binds); over-long words are cut."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if pdf.get_string_width(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while pdf.get_string_width(current) > width:
            cut = len(current) - 1
            while cut > 1 and pdf.get_string_width(current[:cut]) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    return lines


def _instructions(pdf: FPDF, texts: SlipTexts) -> tuple[float, list[_Line]]:
    """The largest size at which both languages fit under the code, and their lines."""
    column_width = (SLIP_WIDTH - 2 * PADDING - GAP) / 2
    top = PADDING + QR_SIDE + 3.0
    bottom = SLIP_HEIGHT - PADDING
    for size in TEXT_SIZES:
        step = size * LINE_HEIGHT * PT
        lines: list[_Line] = []
        heights = []
        for index, language in enumerate((texts.english, texts.french)):
            dx = PADDING + index * (column_width + GAP)
            paragraphs = [
                (True, language.heading),
                *((False, f"{n}.\u00a0{text}") for n, text in enumerate(language.steps, start=1)),
                (True, language.notice),
            ]
            dy = top + size * PT
            for bold, paragraph in paragraphs:
                pdf.set_font("helvetica", "B" if bold else "", size)
                for text in _wrap(pdf, printable(paragraph), column_width):
                    lines.append(_Line(bold, dx, dy, text))
                    dy += step
            heights.append(dy - step - size * PT * 0.25)  # the last baseline and a descender
        if max(heights) <= bottom:
            return size, lines
    raise ValueError("the instructions do not fit on a slip; shorten them")


def _cut_lines(pdf: FPDF, slips: int) -> None:
    """Dashed lines around every slip of the page (on a last, partial page, only around its slips)."""
    per_row = [min(COLUMNS, slips - row * COLUMNS) for row in range(math.ceil(slips / COLUMNS))]

    def in_row(row: int) -> int:
        return per_row[row] if 0 <= row < len(per_row) else 0

    def in_column(column: int) -> int:
        return sum(1 for n in per_row if 0 <= column < n)

    pdf.set_draw_color(150)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    for row in range(len(per_row) + 1):
        y = MARGIN + row * SLIP_HEIGHT
        pdf.line(MARGIN, y, MARGIN + max(in_row(row - 1), in_row(row)) * SLIP_WIDTH, y)
    for column in range(COLUMNS + 1):
        x = MARGIN + column * SLIP_WIDTH
        pdf.line(x, MARGIN, x, MARGIN + max(in_column(column - 1), in_column(column)) * SLIP_HEIGHT)
    pdf.set_dash_pattern()
