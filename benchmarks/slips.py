"""Time and memory of the voter code slips (pb.code_slips) against a bare fpdf2 document.

    .venv/bin/python benchmarks/slips.py [--sizes 100,1000,10000] [--markdown]

For each batch size: ``render_slips`` of that many fresh codes, and as the baseline a bare fpdf2
document with the same number of Letter pages, each holding ten lines of plain text (the ten
codes). Every measurement runs in its own process, so ``peak MB`` is that process's maximum
resident memory (interpreter and imports included) and one run does not inherit another's heap.
Not part of the test run; see benchmarks/README.md for the latest table.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

VOTE_URL = "https://vote.example.org/lakeview"
TITLE = "Lakeview 2025 · Community safety · District 3 · batch 7"


def _slips(codes: list[str]) -> bytes:
    from pb.code_slips import SlipLanguage, SlipTexts, render_slips

    english = SlipLanguage(
        "How to vote",
        (
            "Go to the address above or scan the QR code.",
            "Enter your code and choose the projects you support.",
            "Review your ballot, then cast it.",
        ),
        "One code, one ballot. Keep it private.",
    )
    french = SlipLanguage(
        "Comment voter",
        (
            "Allez à l’adresse ci-dessus ou balayez le code\u00a0QR.",
            "Entrez votre code et choisissez les projets que vous appuyez.",
            "Relisez votre bulletin, puis déposez-le.",
        ),
        "Un code, un bulletin. Gardez-le pour vous\u202f!",
    )
    return render_slips(codes, VOTE_URL, SlipTexts(english, french), title=TITLE)


def _bare(codes: list[str]) -> bytes:
    from fpdf import FPDF

    from pb.voter_codes import display

    pdf = FPDF(unit="mm", format="letter")
    pdf.set_auto_page_break(False)
    pdf.set_font("helvetica", size=12)
    for start in range(0, len(codes), 10):
        pdf.add_page()
        for line, code in enumerate(codes[start : start + 10]):
            pdf.text(20, 20 + 25 * line, display(code))
    return bytes(pdf.output())


def _one(kind: str, count: int) -> None:
    """Runs in a child process: prints one JSON line."""
    from pypdf import PdfReader

    from pb.voter_codes import generate_many

    codes = generate_many(count)
    started = time.perf_counter()
    pdf = (_slips if kind == "slips" else _bare)(codes)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "pdf_mb": len(pdf) / 2**20, "pages": pages}))


def _measure(kind: str, count: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--one", kind, str(count)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        _one(args.one[0], int(args.one[1]))
        return
    header = ["codes", "pages", "slips s", "slips peak MB", "slips PDF MB", "bare s", "bare peak MB", "x bare",
              "ms a slip"]
    rows = []
    for count in (int(n) for n in args.sizes.split(",")):
        slips, bare = _measure("slips", count), _measure("bare", count)
        assert slips["pages"] == bare["pages"]
        rows.append([
            f"{count:,}", f"{slips['pages']:,}", f"{slips['seconds']:.2f}", f"{slips['peak_mb']:.0f}",
            f"{slips['pdf_mb']:.1f}", f"{bare['seconds']:.2f}", f"{bare['peak_mb']:.0f}",
            f"{slips['seconds'] / bare['seconds']:.1f}x", f"{1000 * slips['seconds'] / count:.2f}",
        ])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
        for row in rows:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
