"""The French catalogue is complete, current, and keeps every placeholder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "translations" / "fr_CA" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
# Every file on disk that can hold a user-facing string, whatever the extraction config says
# (it once skipped templates/_macros/, so every French form showed English).
SOURCES = {"pb": ("*.py", "python"), "templates": ("*.html", "jinja2")}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def catalogue():
    with CATALOGUE.open("rb") as handle:
        return read_po(handle, locale="fr_CA")


def source_files() -> list[tuple[Path, str]]:
    files = []
    for folder, (pattern, method) in SOURCES.items():
        for path in sorted((ROOT / folder).rglob(pattern)):
            if method == "python" and "tally" in path.relative_to(ROOT).parts[:2]:
                continue  # pb.tally and `pb tally` speak to auditors in English, with no gettext
            files.append((path, method))
    return files


def source_messages() -> set[str]:
    found = set()
    for path, method in source_files():
        options = JINJA_OPTIONS if method == "jinja2" else None
        for _lineno, message, _comments, _context in extract_from_file(
            method, str(path), keywords=KEYWORDS, options=options
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_the_walk_reaches_every_folder_of_templates_and_code():
    walked = {path.relative_to(ROOT).as_posix() for path, _method in source_files()}
    on_disk = {p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*.html")}
    assert on_disk <= walked
    assert "templates/_macros/forms.html" in walked
    assert "pb/services/cycles.py" in walked


def test_every_string_in_the_code_is_in_the_catalogue():
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue() if m.id}
    missing = sorted(source_messages() - known)
    assert not missing, f"run `make i18n` and translate: {missing[:20]}"


def test_no_french_message_is_missing_or_fuzzy():
    problems = []
    for message in catalogue():
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif not all(strings):
            problems.append(f"untranslated: {message.id!r}")
    assert not problems, "\n".join(problems[:30])


@pytest.mark.parametrize(
    "message", [m for m in catalogue() if m.id and m.string], ids=lambda m: str(m.id)[:40]
)
def test_translations_keep_their_placeholders(message):
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    expected = {p for source in ids for p in PLACEHOLDER.findall(source)}
    for translated in strings:
        assert {p for p in PLACEHOLDER.findall(translated)} <= expected | set(), translated
        assert expected <= {p for p in PLACEHOLDER.findall(translated)} or len(ids) > 1, translated


def test_french_puts_a_space_before_a_colon():
    """OQLF typography: « Nom en anglais : … » (times such as 09:00 and addresses excepted)."""
    problems = []
    for message in catalogue():
        if not message.id:
            continue  # the catalogue's header
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for translated in strings:
            if translated and re.search(r"(?<=[^\s\u00a0\u202f\d]):(?!//)", translated):
                problems.append(translated)
    assert not problems, problems[:10]


def test_french_uses_one_word_for_district():
    texts = [s for m in catalogue() for s in (m.string if isinstance(m.string, tuple) else (m.string,)) if s]
    assert not [t for t in texts if re.search(r"\bsecteurs?\b", t, re.IGNORECASE)]
