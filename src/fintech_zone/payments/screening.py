"""Name screening of payment parties against a screening list (sanctions, watch lists). Pure: no database, no I/O
beyond reading the list file.

A list is a UTF-8 CSV with the header ``id,name,aliases,kind,source`` (aliases separated by ``|``). Every name
and alias is normalised once, at load time, into comparison forms; ``Screener.screen`` normalises the party's name
the same way and scores it against every listed form with rapidfuzz, then decides ``clear`` / ``review`` /
``reject`` against two configurable thresholds and says why. Mapping a rejection to an ISO 20022 status reason
(RR04, regulatory reason) and recording the decision belong to the caller.

Normalisation, so that 张伟, "Zhāng Wěi", "zhang wei", "ZHANGWEI" and "Wei Zhang" are one name:
NFKC (full-width letters from Chinese keyboards become ASCII) → company legal forms in Chinese dropped (有限公司…)
→ Han characters to toneless pinyin, one token per syllable → casefold, diacritics stripped (NFKD; tone marks
are diacritics) → apostrophes removed, other punctuation becomes a space → legal-form words dropped (Co, Ltd,
Pte…). A name whose surname character reads differently as a surname (曾 is "ceng" in words, "Zeng" as a
surname) gets a second variant with the surname reading, because lists romanise names as surnames.

Scoring is rapidfuzz's ``fuzz.ratio`` (normalised Indel similarity: the share of characters two strings have in
common, in order) on two forms, keeping the higher:
- *tokens*: the tokens sorted and space-joined (what ``token_sort_ratio`` does), so word order does not matter;
- *compact*: the tokens joined without spaces, so "Xiaoming" = "Xiao Ming"; the listed side also stores every
  rotation of its tokens (up to four), so "Xiaoming Wang" = 王小明 even though both the split and the order differ.
Jaro-Winkler, the other usual choice, rewards a shared prefix, and Chinese names share surnames massively: it
scores "zhang wei" vs "zhang wen" at 95.6 and would reject a namesake at 95; Indel scores them 88.9, a review.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal, NamedTuple

from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz, process

COLUMNS = ("id", "name", "aliases", "kind", "source")
ALIAS_SEPARATOR = "|"
# Names this short (after normalisation) are compared by equality only: "Li" is 80 % like "Lin", "Liu" and "Lim",
# so a fuzzy score would put half the list under review.
SHORT_NAME_LENGTH = 2
MAX_HITS = 20
REMEMBERED_NAMES = 8192
"""Names a screener remembers its results for. A result depends only on the name, the list and the thresholds,
which are fixed for a screener (a changed list file builds a new one), and payments repeat their parties' names
(a merchant, an employer's payroll): each screening costs 40-60 µs of the event loop's time on every payment
otherwise (docs/benchmarks.md, Payment rails)."""
_MAX_ROTATED_TOKENS = 4  # 欧阳小明 is four syllables; longer names are companies, whose words don't rotate

Form = Literal["tokens", "compact", "exact"]
_FuzzyForm = Literal["tokens", "compact"]
_FUZZY_FORMS: tuple[_FuzzyForm, ...] = ("tokens", "compact")

# Han ideographs: CJK unified (+ extension A and B–H), compatibility ideographs, and 〇.
_HAN = re.compile(r"[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
# Longest first, so 股份有限公司 goes whole instead of leaving 股份.
_HAN_LEGAL_FORMS = re.compile("股份有限公司|有限责任公司|有限責任公司|私人有限公司|有限公司|股份公司|公司")
_LEGAL_WORDS = frozenset(
    {"co", "company", "corp", "corporation", "inc", "incorporated", "ltd", "limited", "llc", "llp", "plc", "pte"}
    | {"pty", "pvt", "gmbh", "bhd", "berhad", "sdn"}
)
_NOT_WORD = re.compile(r"[\W_]+")
_APOSTROPHES = str.maketrans("", "", "'’ʼ`")  # O'Brien = OBrien and Xi'an = Xian: the apostrophe only separates
# Pinyin's ü typed as v (keyboards) or yu (passports since 2012: LYU) spells the same syllable as lü → lu.
_U_UMLAUT_SPELLINGS = {"lv": "lu", "nv": "nu", "lyu": "lu", "nyu": "nu", "lve": "lue", "nve": "nue"}
_LATIN_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i"})
# Surname readings that differ from pypinyin's word reading of the character (曾 ceng → Zeng, 单 dan → Shan).
_SURNAMES = (
    "曾:zeng 单單:shan 解:xie 查:zha 区區:ou 仇:qiu 朴:piao 乐樂:yue 覃:qin 盖蓋:ge 缪繆:miao 召:shao 尉:yu 翟:zhai "
    "秘:bi 种種重:chong 员員:yun 句:gou 折:she 隗:wei 薄:bo 黑:he 粘:nian 阚:kan 藏:zang 卜:bu 冼洗:xian"
)
_SURNAME_READINGS = {char: pair.split(":")[1] for pair in _SURNAMES.split() for char in pair.split(":")[0]}


def _tokens(text: str) -> list[str]:
    # casefold before NFKD: casefolding "İ" yields a combining dot, which the next step removes.
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(_LATIN_LETTERS)
    tokens = [_U_UMLAUT_SPELLINGS.get(t, t) for t in _NOT_WORD.sub(" ", text).split()]
    # The first token always stays: a legal form never starts a name ("Co Wei" is a person, Co a surname), and a
    # name made only of legal-form words ("Limited") then still has something to match on.
    kept = [
        t
        for i, t in enumerate(tokens)
        if i == 0
        or not (t in _LEGAL_WORDS or (t == "private" and i + 1 < len(tokens) and tokens[i + 1] in ("limited", "ltd")))
    ]
    return kept


def name_variants(name: str) -> list[list[str]]:
    """The normalised tokens of ``name``: one list, or two when its Han surname has a distinct surname reading.

    Empty when the name has no letters or digits.
    """
    text = unicodedata.normalize("NFKC", name)
    without_forms = _HAN_LEGAL_FORMS.sub(" ", text)
    if _NOT_WORD.sub("", without_forms):  # 有限公司 alone stays a name
        text = without_forms
    pieces: list[str] = []
    surname: tuple[int, str] | None = None
    end = 0
    for m in _HAN.finditer(text):
        pieces.append(text[end : m.start()])
        syllables = lazy_pinyin(m.group(), style=Style.NORMAL, v_to_u=True)  # 吕 → lü → lu once diacritics go
        reading = _SURNAME_READINGS.get(m.group()[0])
        if reading and not pieces[0].strip() and len(pieces) == 1 and reading != syllables[0]:
            surname = (len(pieces), f" {reading} ")
        pieces.extend(f" {s} " for s in syllables)
        end = m.end()
    pieces.append(text[end:])
    variants = [_tokens("".join(pieces))]
    if surname is not None:
        pieces[surname[0]] = surname[1]
        variants.append(_tokens("".join(pieces)))
    return [v for v in variants if v]


def _is_short(tokens: list[str]) -> bool:
    return sum(map(len, tokens)) <= SHORT_NAME_LENGTH


class Decision(StrEnum):
    CLEAR = "clear"
    REVIEW = "review"
    REJECT = "reject"


_SEVERITY = {Decision.CLEAR: 0, Decision.REVIEW: 1, Decision.REJECT: 2}


class ScreeningListError(ValueError):
    """A malformed list file: ``line`` (1-based, ``None`` for the file as a whole) and ``problem`` say what."""

    def __init__(self, origin: str, line: int | None, problem: str) -> None:
        super().__init__(f"{origin}, line {line}: {problem}" if line is not None else f"{origin}: {problem}")
        self.origin = origin
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class ListEntry:
    id: str
    name: str
    aliases: tuple[str, ...]
    kind: str
    source: str


class _Owner(NamedTuple):
    entry: int
    listed: str  # the name or alias as the list spells it
    alias: bool


class ScreeningList:
    """The entries of one list with every name and alias already normalised into comparison forms."""

    def __init__(self, entries: Iterable[ListEntry], origin: str = "<memory>") -> None:
        self.entries = tuple(entries)
        self.origin = origin
        if not self.entries:
            raise ScreeningListError(origin, None, "no entries (an empty list would clear every payment)")
        ids = [e.id for e in self.entries]
        if len(set(ids)) != len(ids):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            raise ScreeningListError(origin, None, f"duplicate entry id(s) {', '.join(duplicates)}")
        # Which list version decided: the content's digest, independent of line endings or a BOM.
        digest = hashlib.sha256()
        for e in self.entries:
            digest.update("\x1f".join((e.id, e.name, *e.aliases, e.kind, e.source)).encode() + b"\x1e")
        self.digest = digest.hexdigest()
        forms: dict[Form, dict[str, list[_Owner]]] = {"tokens": {}, "compact": {}, "exact": {}}
        for index, entry in enumerate(self.entries):
            for listed, alias in [(entry.name, False), *((a, True) for a in entry.aliases)]:
                variants = name_variants(listed)
                if not variants:
                    raise ScreeningListError(origin, None, f"entry {entry.id}: {listed!r} has no letters or digits")
                owner = _Owner(index, listed, alias)
                for tokens in variants:
                    if _is_short(tokens):
                        forms["exact"].setdefault("".join(tokens), []).append(owner)
                        continue
                    forms["tokens"].setdefault(" ".join(sorted(tokens)), []).append(owner)
                    turns = range(len(tokens)) if len(tokens) <= _MAX_ROTATED_TOKENS else range(1)
                    for turn in turns:
                        compact = "".join(tokens[turn:] + tokens[:turn])
                        owners = forms["compact"].setdefault(compact, [])
                        if owner not in owners:  # "Wei Wei" rotates onto itself
                            owners.append(owner)
        self._exact = forms["exact"]
        # Forms bucketed by length, each bucket two parallel lists: rapidfuzz searches the strings and answers with
        # an index into the owners. Buckets let a search skip whole lengths that cannot score high enough.
        self._buckets: dict[_FuzzyForm, dict[int, tuple[list[str], list[list[_Owner]]]]] = {}
        for f in _FUZZY_FORMS:
            buckets = self._buckets[f] = {}
            for string, owners in forms[f].items():
                strings, owner_lists = buckets.setdefault(len(string), ([], []))
                strings.append(string)
                owner_lists.append(owners)

    def __len__(self) -> int:
        return len(self.entries)

    def _search(self, form: _FuzzyForm, query: str, cutoff: float) -> list[tuple[float, list[_Owner]]]:
        """Every form scoring ≥ ``cutoff``, or else the single closest one (none only for an empty form set).

        Indel similarity cannot exceed 200·min(a, b)/(a + b) for lengths a and b, so buckets are visited from the
        best possible score down and the search stops once no bucket can beat what it has. This is where the time
        goes: rapidfuzz spends ~60 ns on each choice it is handed, even one it dismisses by length.
        """
        n = len(query)
        buckets = self._buckets[form]
        order = sorted(((200 * min(n, k) / (n + k), k) for k in buckets), reverse=True)
        best, closest = -1.0, None
        for bound, length in order:
            if bound < best:
                break
            strings, owners = buckets[length]
            found = process.extractOne(query, strings, scorer=fuzz.ratio, processor=None, score_cutoff=max(best, 0))
            if found is not None and found[1] > best:
                best, closest = found[1], owners[found[2]]
        if closest is None:
            return []
        if best < cutoff:
            return [(best, closest)]
        hits: list[tuple[float, list[_Owner]]] = []
        for bound, length in order:
            if bound + 1e-9 < cutoff:  # the bound in floating point may sit an ulp under rapidfuzz's own score
                break
            strings, owners = buckets[length]
            for _, score, i in process.extract(
                query, strings, scorer=fuzz.ratio, processor=None, score_cutoff=cutoff, limit=None
            ):
                hits.append((score, owners[i]))
        return hits


def load_list(path: str | os.PathLike[str]) -> ScreeningList:
    """Read and index a list file; a malformed file raises ``ScreeningListError`` naming the line."""
    return parse_list(Path(path).read_bytes(), origin=str(path))


def parse_list(data: bytes, origin: str = "<bytes>") -> ScreeningList:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ScreeningListError(origin, line, f"not UTF-8 (byte 0x{data[e.start]:02x})") from None
    # strict: a stray quote is an error rather than a field that silently swallows the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1  # the line the current record starts on; a quoted field may span lines
    try:
        header = [c.strip() for c in next(reader, [])]
        if not header:
            raise ScreeningListError(origin, 1, f"no header; expected {','.join(COLUMNS)}")
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ScreeningListError(origin, 1, f"missing column(s) {', '.join(missing)}; header is {header}")
        if len(set(header)) != len(header):
            raise ScreeningListError(origin, 1, "a column appears twice in the header")
        entries: list[ListEntry] = []
        first_line: dict[str, int] = {}
        start = reader.line_num + 1
        for row in reader:
            entry = _parse_row(row, header, origin, start, first_line)
            if entry is not None:
                entries.append(entry)
            start = reader.line_num + 1
    except csv.Error as e:
        raise ScreeningListError(origin, start, f"not valid CSV ({e})") from None
    if not entries:
        raise ScreeningListError(origin, None, "no entries (an empty list would clear every payment)")
    return ScreeningList(entries, origin)


def _parse_row(row: list[str], header: list[str], origin: str, line: int, seen: dict[str, int]) -> ListEntry | None:
    if not row:
        return None  # blank line
    if len(row) != len(header):
        raise ScreeningListError(origin, line, f"expected {len(header)} fields, got {len(row)}")
    fields = {c: v.strip() for c, v in zip(header, row, strict=True)}
    for column in COLUMNS:
        if not fields[column] and column != "aliases":
            raise ScreeningListError(origin, line, f"empty {column}")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in fields[column]):
            raise ScreeningListError(origin, line, f"control character in {column}")
    entry_id = fields["id"]
    if entry_id in seen:
        raise ScreeningListError(origin, line, f"duplicate id {entry_id!r} (first on line {seen[entry_id]})")
    seen[entry_id] = line
    aliases = tuple(a.strip() for a in fields["aliases"].split(ALIAS_SEPARATOR) if a.strip())
    for listed in (fields["name"], *aliases):
        if not name_variants(listed):
            raise ScreeningListError(origin, line, f"{listed!r} has no letters or digits to match on")
    return ListEntry(entry_id, fields["name"], aliases, fields["kind"], fields["source"])


@dataclass(frozen=True)
class Match:
    """One listed entry and how close the screened name came to it."""

    entry: ListEntry
    listed: str  # the entry's name or alias that scored best, as listed
    alias: bool
    form: Form  # tokens (word order ignored), compact (spaces ignored), exact (short names)
    score: float


@dataclass(frozen=True)
class ScreeningResult:
    """One name's decision with its evidence. ``best`` is the closest listed name whatever the decision;
    ``hits`` are all entries at or above the review threshold, best first."""

    name: str
    normalised: str
    decision: Decision
    score: float
    best: Match | None
    hits: tuple[Match, ...]
    reason: str
    review_threshold: float
    reject_threshold: float
    list_digest: str

    @property
    def entry_id(self) -> str | None:
        return self.best.entry.id if self.best else None

    @property
    def matched_name(self) -> str | None:
        return self.best.listed if self.best else None

    @property
    def matched_form(self) -> Form | None:
        return self.best.form if self.best else None


@dataclass(frozen=True)
class PartiesScreening:
    """Both parties' results; ``decision`` is the stricter one, taken from ``deciding``."""

    decision: Decision
    deciding: Literal["debtor", "creditor"]
    debtor: ScreeningResult
    creditor: ScreeningResult
    reason: str


class Screener:
    def __init__(
        self, screening_list: ScreeningList, review_threshold: float = 85, reject_threshold: float = 95
    ) -> None:
        if not 0 <= review_threshold <= reject_threshold <= 100:  # also refuses NaN
            raise ValueError(
                f"thresholds must satisfy 0 ≤ review ≤ reject ≤ 100, got review={review_threshold}, "
                f"reject={reject_threshold}"
            )
        self.list = screening_list
        self.review_threshold = float(review_threshold)
        self.reject_threshold = float(reject_threshold)
        # Per screener, so a new list or new thresholds start afresh; results are frozen, so sharing them is safe.
        self._remembered = lru_cache(maxsize=REMEMBERED_NAMES)(self._screen)

    def screen(self, name: str) -> ScreeningResult:
        """Screen one party name; ``ValueError`` when it has no letters or digits (the caller validates names)."""
        return self._remembered(name)

    def _screen(self, name: str) -> ScreeningResult:
        variants = name_variants(name)
        if not variants:
            raise ValueError(f"name {name!r} has no letters or digits to screen")
        lst = self.list
        found: dict[int, Match] = {}

        def note(owners: list[_Owner], form: Form, score: float) -> None:
            score = round(score, 1)  # the score the reason prints is the one that decided
            for o in owners:
                if o.entry not in found or score > found[o.entry].score:
                    found[o.entry] = Match(lst.entries[o.entry], o.listed, o.alias, form, score)

        short = _is_short(variants[0])
        for tokens in variants:
            if short:
                note(lst._exact.get("".join(tokens), []), "exact", 100.0)
                continue
            for form in _FUZZY_FORMS:
                query = " ".join(sorted(tokens)) if form == "tokens" else "".join(tokens)
                # A raw 84.96 rounds to 85.0 and counts as a review, so the search reaches that far down.
                for score, owners in lst._search(form, query, max(0.0, self.review_threshold - 0.05)):
                    note(owners, form, score)

        ranked = [found[i] for i in sorted(found, key=lambda i: (-found[i].score, i))]  # ties: list order
        best_match = ranked[0] if ranked else None
        score = best_match.score if best_match else 0.0
        decision = (
            Decision.REJECT
            if best_match and score >= self.reject_threshold
            else Decision.REVIEW
            if best_match and score >= self.review_threshold
            else Decision.CLEAR
        )
        return ScreeningResult(
            name=name,
            normalised=" ".join(variants[0]),
            decision=decision,
            score=score,
            best=best_match,
            hits=tuple(m for m in ranked if m.score >= self.review_threshold)[:MAX_HITS],
            reason=self._reason(name, decision, best_match, short),
            review_threshold=self.review_threshold,
            reject_threshold=self.reject_threshold,
            list_digest=lst.digest,
        )

    def screen_parties(self, debtor: str, creditor: str) -> PartiesScreening:
        """Screen both parties of a payment; the stricter decision wins (ties: higher score, then the debtor)."""
        results = {"debtor": self.screen(debtor), "creditor": self.screen(creditor)}
        deciding: Literal["debtor", "creditor"] = max(
            ("debtor", "creditor"),
            key=lambda p: (_SEVERITY[results[p].decision], results[p].score, p == "debtor"),
        )
        chosen = results[deciding]
        return PartiesScreening(
            chosen.decision, deciding, results["debtor"], results["creditor"], f"{deciding}: {chosen.reason}"
        )

    def _reason(self, name: str, decision: Decision, best: Match | None, short: bool) -> str:
        review, reject = f"{self.review_threshold:g}", f"{self.reject_threshold:g}"
        if best is None or decision is Decision.CLEAR:
            closest = (
                f"closest is {best.listed!r} (entry {best.entry.id}) at {best.score:.1f}" if best else "nothing close"
            )
            if short:
                closest = "too short for fuzzy matching and no listed name is spelled the same"
            return f"{name!r}: no listed name scores ≥ {review}; {closest}"
        listed = f"listed {best.listed!r} (entry {best.entry.id}, source {best.entry.source})"
        how = " exactly (short names match only exactly)" if best.form == "exact" else ""
        if decision is Decision.REJECT:
            return f"{name!r} matches {listed}{how} at {best.score:.1f} ≥ {reject}"
        return f"{name!r} resembles {listed} at {best.score:.1f} ≥ {review} (review), < {reject} (reject)"
