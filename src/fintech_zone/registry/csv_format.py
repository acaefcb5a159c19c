"""The registry's CSV import format: parsing and per-row checks. Pure (no database).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first organisation row 2.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter

from fintech_zone.errors import FieldError, InvalidInput
from fintech_zone.registry.model import NewOrganisation, Organisation, build_organisation, organisation_if_valid

REQUIRED_COLUMNS = ("id", "kind", "jurisdiction", "name_en", "name_zh", "sector")
OPTIONAL_COLUMNS = ("status", "uscc", "uen", "lei", "bic", "source")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_FIELD = 10_000
_DEFAULT_STATUS = NewOrganisation.status  # a blank status means the default, as when the column is absent


@dataclass
class ParsedCsv:
    organisations: list[tuple[int, Organisation]]
    errors: list[FieldError]


def parse_csv(lines: Iterable[str]) -> ParsedCsv:
    """Parse and validate every row, collecting every error with its row number instead of stopping at the first."""
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(lines, strict=True)
    errors: list[FieldError] = []
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput([FieldError("file", "the file is empty; expected a header row", "header", 1)]) from None
    except csv.Error as exc:
        raise InvalidInput([FieldError("file", f"malformed CSV: {exc}", "csv_syntax", 1)]) from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if unknown or missing or duplicated:
        header_errors = [FieldError(h, "unknown column", "header", 1) for h in unknown]
        header_errors += [FieldError(c, "required column is missing", "header", 1) for c in missing]
        header_errors += [FieldError(c, "column appears twice", "header", 1) for c in duplicated]
        raise InvalidInput(header_errors)

    parsed: list[tuple[int, Organisation]] = []
    seen_ids: dict[str, int] = {}
    seen_identifiers: dict[str, dict[str, int]] = {"uscc": {}, "uen": {}, "lei": {}}
    # Each row's fields in COLUMNS order; a column the file lacks reads the empty string appended to every row.
    width = len(header)
    fields_of = itemgetter(*(header.index(c) if c in header else width for c in COLUMNS))
    row_number = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The parser cannot resynchronise after a syntax error (an unterminated quote swallows every later
            # row), so the rest of the file is unknown: refuse the whole file, even with skip_bad_rows.
            raise InvalidInput(
                [FieldError("row", f"malformed CSV: {exc}", "csv_syntax", row_number + 1)],
                f"row {row_number + 1}: malformed CSV ({exc}); nothing was imported",
            ) from None
        row_number += 1
        if not values or (not values[0].strip() and all(not v.strip() for v in values)):
            continue
        if len(values) != width:
            errors.append(
                FieldError(
                    "row",
                    f"has {len(values)} fields, the header has {width}",
                    "field_count",
                    row_number,
                )
            )
            continue
        values.append("")
        org_id, kind, jurisdiction, name_en, name_zh, sector, status, uscc, uen, lei, bic, source = map(
            str.strip, fields_of(values)
        )
        org = organisation_if_valid(
            org_id,
            kind,
            jurisdiction,
            name_en,
            name_zh,
            sector,
            status or _DEFAULT_STATUS,
            uscc or None,
            uen or None,
            lei or None,
            bic or None,
            source or None,
        )
        if org is None:  # some field is bad: build_organisation says which, all at once
            try:
                org = build_organisation(_new_organisation(header, values[:width]))
            except InvalidInput as exc:
                errors.extend(FieldError(e.field, e.message, e.check, row_number) for e in exc.errors)
                continue
        if org.id in seen_ids:
            errors.append(
                FieldError("id", f"{org.id!r} already appears in row {seen_ids[org.id]}", "duplicate", row_number)
            )
            continue
        seen_ids[org.id] = row_number
        duplicate_identifier = False
        for name, value in (("uscc", org.uscc), ("uen", org.uen), ("lei", org.lei)):
            # The row that first held this value (this row, if none did before it).
            if value is not None and (first := seen_identifiers[name].setdefault(value, row_number)) != row_number:
                errors.append(FieldError(name, f"{value} already appears in row {first}", "duplicate", row_number))
                duplicate_identifier = True
        if not duplicate_identifier:
            parsed.append((row_number, org))
    return ParsedCsv(parsed, errors)


def _new_organisation(header: list[str], values: list[str]) -> NewOrganisation:
    """A row as the raw input ``build_organisation`` checks: blank fields are absent (optional) or empty (required)."""
    record = {k: (v.strip() or None) for k, v in zip(header, values, strict=True)}
    required = {k: record.get(k) or "" for k in REQUIRED_COLUMNS}
    optional = {k: v for k in OPTIONAL_COLUMNS if (v := record.get(k)) is not None}
    return NewOrganisation(**required, **optional)


def parse_csv_text(text: str) -> ParsedCsv:
    return parse_csv(io.StringIO(text, newline=""))
