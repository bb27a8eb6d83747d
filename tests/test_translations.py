"""The French catalogue is complete, current, and keeps every placeholder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "translations" / "fr_CA" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
METHODS = [("pb/**.py", "python"), ("templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def catalogue():
    with CATALOGUE.open("rb") as handle:
        return read_po(handle, locale="fr_CA")


def source_messages() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


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
