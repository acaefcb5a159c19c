"""Subset Noto Sans CJK SC to the characters the platform's pages show, as the WOFF2 web font the pages ship.

The exhibition hall must show Chinese on a machine with no CJK font and without fetching anything from another
host, so the package carries one small font: printable ASCII, common CJK and full-width punctuation, and every
character of the zh_CN catalogue's translations, of the templates, of the package's Python and data files and of
the Chinese seed document. tests/web/test_hall_font.py fails, listing the characters, when a translation or a
template needs a glyph the shipped font lacks: run this script again then.

    python tools/subset_hall_font.py /path/to/NotoSansCJK-Regular.ttc

The source is Debian's fonts-noto-cjk (`apt-get download fonts-noto-cjk && dpkg -x fonts-noto-cjk_*.deb x`,
then x/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc); the SC face is picked from the collection by its
family name. The same source, fontTools and brotli give a byte-identical file (the source's timestamp is kept).
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from babel.messages.pofile import read_po
from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "src" / "fintech_zone"
CATALOGUE = PACKAGE / "web" / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"
OUTPUT = PACKAGE / "web" / "static" / "fonts" / "noto-sans-sc-subset.woff2"
# shared/ lies beside the repository (on a developer's machine and in CI alike).
SEED_TEXT = REPO.parent / "shared" / "seed" / "zone-progress-report.zh.txt"
FAMILY = "Noto Sans CJK SC"
# Package files whose text reaches a page: Python (literals, seed data), the seed facts, demo data.
DATA_SUFFIXES = (".py", ".json", ".csv")

PRINTABLE_ASCII = "".join(chr(c) for c in range(0x20, 0x7F))
# Common CJK and full-width punctuation, whether or not a page uses it yet: ideographic space, comma, full stop,
# brackets and quotes, the full-width ASCII punctuation and digits, the general punctuation Chinese text uses.
PUNCTUATION = (
    "\u3000、。〃〈〉《》「」『』【】〔〕〖〗〜〇"
    "！＂＃＄％＆＇（）＊＋，－．／：；＜＝＞？＠［＼］＾＿｀｛｜｝～"
    "０１２３４５６７８９￠￡￥"
    "‐–—―‘’“”…‰·•※℃¥×÷"
)
# Nothing a font draws: controls, format characters, surrogates, private use, unassigned, line separators.
_NOT_DRAWN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def catalogue_text(path: Path) -> str:
    """Every translation (msgstr) of a gettext catalogue, plural forms included."""
    with path.open("rb") as f:
        catalog = read_po(f)
    parts: list[str] = []
    for message in catalog:
        if not message.id:
            continue  # the header
        strings = [message.string] if isinstance(message.string, str) else list(message.string or ())
        parts.extend(s for s in strings if s)
    return "".join(parts)


def files_text(paths: Iterable[Path]) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(paths) if p.is_file())


def wanted_characters(package: Path, catalogue: Path, seed_texts: Iterable[Path]) -> set[str]:
    text = "".join(
        [
            PRINTABLE_ASCII,
            PUNCTUATION,
            catalogue_text(catalogue),
            files_text(p for p in package.glob("**/templates/**/*")),
            files_text(p for p in package.rglob("*") if p.suffix in DATA_SUFFIXES),
            files_text(seed_texts),
        ]
    )
    return {c for c in text if unicodedata.category(c) not in _NOT_DRAWN}


def open_face(source: Path, family: str) -> TTFont:
    """The face named `family` of a collection (.ttc/.otc), or the single face of a font file."""
    with source.open("rb") as f:
        is_collection = f.read(4) == b"ttcf"
    if not is_collection:
        return TTFont(source, recalcTimestamp=False)
    names = [face["name"].getDebugName(1) for face in TTCollection(source, lazy=True).fonts]
    if family not in names:
        raise SystemExit(f"{source}: no face named {family!r} in the collection (it has {', '.join(names)})")
    return TTFont(source, fontNumber=names.index(family), recalcTimestamp=False)


def subset_font(font: TTFont, characters: set[str], output: Path) -> None:
    options = subset.Options()
    options.flavor = "woff2"
    options.hinting = False  # drop hints: screens rasterise CJK well without them, and they cost bytes
    options.desubroutinize = True  # CFF without subroutines: larger raw, smaller once brotli has it
    options.name_IDs = ["*"]  # keep the copyright, trademark and licence records (name IDs 0, 7, 13, 14)
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=sorted(ord(c) for c in characters))
    subsetter.subset(font)
    output.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(output), options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("source", type=Path, help="NotoSansCJK-Regular.ttc (Debian's fonts-noto-cjk) or an SC font")
    parser.add_argument("--family", default=FAMILY, help=f"face to take from a collection (default: {FAMILY})")
    parser.add_argument(
        "--seed-text",
        type=Path,
        action="append",
        help=f"Chinese text whose characters the font must have (default: {SEED_TEXT})",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"WOFF2 to write (default: {OUTPUT})")
    args = parser.parse_args(argv)

    seed_texts: list[Path] = args.seed_text or [SEED_TEXT]
    for path in seed_texts:
        if not path.is_file():
            raise SystemExit(f"seed text not found: {path}")
    characters = wanted_characters(PACKAGE, CATALOGUE, seed_texts)
    font = open_face(args.source, args.family)
    cmap = font.getBestCmap()
    absent = sorted(c for c in characters if ord(c) not in cmap)
    if absent:
        listed = " ".join(f"U+{ord(c):04X}" for c in absent)
        print(f"not in the source font, left to the fallback fonts: {listed}", file=sys.stderr)
    subset_font(font, characters, args.output)

    written = TTFont(args.output)
    print(
        f"{args.output}: {args.output.stat().st_size} bytes, {len(written.getGlyphOrder())} glyphs, "
        f"{len(written.getBestCmap())} characters ({len(characters) - len(absent)} asked for and drawn)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
