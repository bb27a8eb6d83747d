"""The printable slips of a batch of voter codes: a PDF that parses, the codes, the QR code, the texts."""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

import pytest
import segno
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from pb import code_slips
from pb.code_slips import SlipLanguage, SlipTexts, printable, qr_matrix, render_slips
from pb.voter_codes import display, generate_many

URL = "https://vote.example.org/lakeview"
ENGLISH = SlipLanguage(
    heading="How to vote",
    steps=(
        "Go to the address above or scan the QR code.",
        "Enter your code and choose the projects you support.",
        "Review your ballot, then cast it.",
    ),
    notice="One code, one ballot. Keep it private.",
)
FRENCH = SlipLanguage(
    heading="Comment voter",
    steps=(
        "Allez à l’adresse ci-dessus ou balayez le code\u00a0QR.",
        "Entrez votre code et choisissez les projets que vous appuyez.",
        "Relisez votre bulletin, puis déposez-le.",
    ),
    notice="Un code, un bulletin. «\u202fGardez-le pour vous\u202f»\u202f! Ça compte.",
)
TEXTS = SlipTexts(english=ENGLISH, french=FRENCH)
CATALOGUE = Path(__file__).resolve().parent.parent / "translations" / "fr_CA" / "LC_MESSAGES" / "messages.po"


def render(codes, url=URL, texts=TEXTS, title="Lakeview 2025 · District 3 · batch 7") -> bytes:
    return render_slips(codes, url, texts, title=title)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


# --- The document -------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "pages"), [(1, 1), (10, 1), (11, 2), (23, 3)])
def test_ten_slips_a_page(count, pages):
    pdf = render(generate_many(count))
    assert pdf.startswith(b"%PDF-1.")
    assert pdf.rstrip().endswith(b"%%EOF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == pages
    assert all(round(float(p.mediabox.width)) == 612 and round(float(p.mediabox.height)) == 792 for p in reader.pages)
    assert reader.metadata.title == "Lakeview 2025 · District 3 · batch 7"


def test_every_code_is_printed_once_in_groups_of_four_in_the_order_given():
    codes = generate_many(23)
    texts = page_texts(render([c.lower() for c in codes]))  # typed forms are accepted and displayed
    found = [re.findall(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", text) for text in texts]
    assert [len(codes_on_page) for codes_on_page in found] == [10, 10, 3]
    assert [code for page in found for code in page] == [display(code) for code in codes]


def test_every_slip_has_the_address_and_both_languages():
    text = page_texts(render(generate_many(3)))[0]
    assert text.count(URL) == 3
    for language in (ENGLISH, FRENCH):
        assert text.count(language.heading) == 3
    flat = re.sub(r"[ \n]+", " ", text)  # lines are wrapped (and str.split() would split at no-break spaces)
    assert flat.count("l’adresse ci-dessus") == 3  # U+2019 survives, not a straight quote
    assert flat.count("déposez-le") == 3
    assert flat.count("Ça compte") == 3
    assert flat.count("«\u00a0Gardez-le pour vous\u00a0»\u00a0!") == 3  # narrow no-break spaces printed as no-break


def test_a_long_title_is_shortened_with_an_ellipsis_on_the_slips_but_kept_whole_as_the_document_title():
    title = "Lakeview participatory budget 2025, community safety, district 3, paper batch 7 of 12"
    pdf = render(generate_many(1), title=title)
    assert PdfReader(io.BytesIO(pdf)).metadata.title == title
    assert "\u2026" in page_texts(pdf)[0]


def test_a_batch_is_refused_when_it_is_empty_or_not_codes():
    with pytest.raises(ValueError, match="at least one code"):
        render([])
    with pytest.raises(ValueError):
        render("ABCDEFGHJKMNPQRS")  # one string is not a sequence of codes
    with pytest.raises(ValueError, match="not a voter code"):
        render(["ABCDEFGHJKMNPQRS", "ABCDEFGHJKMNPQRO"])


@pytest.mark.parametrize("url", ["", " https://vote.example.org", "https://vote.example.org/" + "x" * 90])
def test_an_empty_or_unprintable_address_is_refused(url):
    with pytest.raises(ValueError):
        render(generate_many(1), url=url)


def test_instructions_that_do_not_fit_are_refused():
    wordy = SlipLanguage("How to vote", ("Read this carefully. " * 30,), "Keep it private.")
    with pytest.raises(ValueError, match="do not fit"):
        render(generate_many(1), texts=SlipTexts(english=wordy, french=FRENCH))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"heading": "", "steps": ("a",), "notice": "b"},
        {"heading": "a", "steps": (), "notice": "b"},
        {"heading": "a", "steps": ["a list"], "notice": "b"},
        {"heading": "a", "steps": ("b",), "notice": "Gardez-le \U0001f512"},
        {"heading": "a\x00", "steps": ("b",), "notice": "c"},
        {"heading": "Голосуйте", "steps": ("b",), "notice": "c"},
    ],
)
def test_texts_that_cannot_be_printed_are_refused_when_made(kwargs):
    with pytest.raises(ValueError):
        SlipLanguage(**kwargs)


# --- The QR code --------------------------------------------------------------------------------


def drawn_qr(pdf: bytes, page: int = 0) -> list[list[bool]]:
    """The QR code of the first slip, read back from the filled rectangles of the page."""
    content = PdfReader(io.BytesIO(pdf)).pages[page].get_contents().get_data().decode("latin-1")
    rectangles = []
    for match in re.finditer(r"(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re f", content):
        x, y, w, h = (float(v) for v in match.groups())
        top, bottom = (y, y + h) if h < 0 else (y + h, y)
        if x < 306 and top > 792 - 150:  # the top-left slip (points, origin at the bottom left)
            rectangles.append((x, bottom, x + w, top))
    left = min(r[0] for r in rectangles)
    right = max(r[2] for r in rectangles)
    low = min(r[1] for r in rectangles)
    high = max(r[3] for r in rectangles)
    assert right - left == pytest.approx(high - low, abs=0.05)  # square
    size = len(qr_matrix(URL))
    module = (right - left) / size

    def dark(column: int, row: int) -> bool:
        cx, cy = left + (column + 0.5) * module, high - (row + 0.5) * module
        return any(r[0] <= cx <= r[2] and r[1] <= cy <= r[3] for r in rectangles)

    return [[dark(column, row) for column in range(size)] for row in range(size)]


def test_the_qr_code_is_the_voting_address_and_nothing_else():
    codes = generate_many(12)
    pdf = render(codes)
    # a second, independent encoding of the address alone
    expected = [[bool(m) for m in row] for row in segno.make_qr(URL, error="M", boost_error=False).matrix]
    assert drawn_qr(pdf, 0) == expected
    assert drawn_qr(pdf, 1) == expected  # the same on every page: the code is not in it
    assert segno.make_qr(URL, error="M", boost_error=False).designator == "3-M"


# --- Characters ---------------------------------------------------------------------------------


def test_every_translated_message_can_be_printed_on_a_slip():
    """The slip texts come from the French catalogue: every character of every message prints."""
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="fr_CA")
    messages = [m for m in catalogue if m.id]
    assert len(messages) > 100
    for message in messages:
        for text in (*(message.id if isinstance(message.id, tuple) else (message.id,)),
                     *(message.string if isinstance(message.string, tuple) else (message.string,))):
            printable(text)  # raises ValueError naming the character otherwise


def test_french_typography_is_printed_as_such():
    assert printable("l’adresse « ici » : déjà, ça, où, Noël, œuvre — 5 $") == (
        "l’adresse « ici » : déjà, ça, où, Noël, œuvre — 5 $"
    )
    assert printable("«\u202foui\u202f»\u202f!") == "«\u00a0oui\u00a0»\u00a0!"
    assert printable("non\u2011breaking \u2212 thin\u2009space") == "non-breaking - thin space"


WINDOWS_1252 = "".join(
    c for c in map(chr, range(0x20, 0x2200)) if not unicodedata.category(c).startswith("C") and c.encode("cp1252", "ignore")
)


@given(st.text(st.sampled_from(WINDOWS_1252 + "".join(code_slips._REPLACEMENTS))))
def test_printable_gives_windows_1252_text(text):
    printed = printable(text)
    printed.encode("cp1252")  # no UnicodeEncodeError
    assert not [c for c in printed if unicodedata.category(c).startswith("C")]


def unprintable(character: str) -> bool:
    if character in code_slips._REPLACEMENTS:
        return False
    return unicodedata.category(character).startswith("C") or not character.encode("cp1252", "ignore")


@given(st.text(min_size=1).filter(lambda text: any(unprintable(c) for c in text)))
def test_printable_refuses_what_the_core_fonts_lack(text):
    with pytest.raises(ValueError, match="cannot print U\\+"):
        printable(text)
