"""The file a new batch of voter codes is handed over in: a ZIP of the printable slips (PDF) and a CSV.

It is built in memory and answered once; nothing is written to disk and no copy is kept.
"""

from __future__ import annotations

import csv
import io
import zipfile

from flask_babel import force_locale
from flask_babel import gettext as _

from pb import code_slips, voter_codes


def _language(locale: str) -> code_slips.SlipLanguage:
    with force_locale(locale):
        return code_slips.SlipLanguage(
            heading=_("How to vote"),
            steps=(
                _("Go to the address above or scan the QR code."),
                _("Enter your code, then choose projects."),
                _("Review your ballot and cast it."),
            ),
            notice=_("One code, one ballot. Keep it private."),
        )


def slip_texts() -> code_slips.SlipTexts:
    return code_slips.SlipTexts(english=_language("en_CA"), french=_language("fr_CA"))


def printable_title(text: str) -> str:
    """``text`` without the characters a slip cannot print (an emoji in a cycle's name, say)."""
    kept = []
    for character in text:
        try:
            kept.append(code_slips.printable(character))
        except ValueError:
            continue
    return " ".join("".join(kept).split()) or "pb"


def codes_csv(codes: list[str], batch_id: int, district: str, address: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["code", "batch", "district", "voting_address"])
    for code in codes:
        writer.writerow([voter_codes.display(code), batch_id, district, address])
    return out.getvalue().encode("utf-8")


def batch_zip(stem: str, pdf: bytes, table: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}.pdf", pdf)
        archive.writestr(f"{stem}.csv", table)
    return buffer.getvalue()
