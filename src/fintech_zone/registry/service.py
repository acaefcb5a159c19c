"""Registry use cases. Each owns its transaction; the ``*_in`` variants join a caller's unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from fintech_zone.db import Database
from fintech_zone.errors import Conflict, FieldError, InvalidInput, NotFound
from fintech_zone.paging import Page, decode_cursor, encode_cursor
from fintech_zone.registry import search_store, store
from fintech_zone.registry.csv_format import parse_csv
from fintech_zone.registry.model import (
    ORG_ID_PATTERN,
    Agreement,
    NewOrganisation,
    Organisation,
    Status,
    StatusChange,
    build_organisation,
    check_agreement,
    check_transition,
    status_as_of,
)
from fintech_zone.registry.search_store import OrgFilter

__all__ = ["OrgFilter"]


def _now() -> datetime:
    return datetime.now(UTC)


def _storable(key: str) -> bool:
    """Whether a key can be sent to the database at all (PostgreSQL refuses NUL in text, even in a lookup)."""
    return "\x00" not in key


def _check_unique_in(conn: Connection, orgs: Sequence[tuple[int | None, Organisation]]) -> list[FieldError]:
    """Errors for ids and identifiers already held by other organisations in the database."""
    errors: list[FieldError] = []
    taken = store.existing_ids(conn, (o.id for _, o in orgs))
    for row, org in orgs:
        if org.id in taken:
            errors.append(FieldError("id", f"organisation {org.id!r} already exists", "duplicate", row))
    for column in store.IDENTIFIER_COLUMNS:
        holders = store.identifier_holders(conn, column, (getattr(o, column) for _, o in orgs))
        for row, org in orgs:
            value = getattr(org, column)
            if value and value in holders and holders[value] != org.id:
                errors.append(
                    FieldError(column, f"{value} is already registered to {holders[value]!r}", "duplicate", row)
                )
    return errors


def create_organisation(db: Database, new: NewOrganisation, since: date | None = None) -> Organisation:
    org = build_organisation(new)
    with db.transaction() as conn:
        errors = _check_unique_in(conn, [(None, org)])
        if errors:
            raise Conflict("; ".join(f"{e.field}: {e.message}" for e in errors))
        try:
            store.insert_organisations(conn, [org], since or date.today(), _now())
        except IntegrityError as exc:  # a concurrent insert won the race for the same id or identifier
            raise Conflict(f"organisation {org.id!r} or one of its identifiers was registered concurrently") from exc
        created = store.get_organisation(conn, org.id)
    assert created is not None
    return created


def ensure_organisations_in(conn: Connection, orgs: Iterable[Organisation], since: date) -> int:
    """Register the organisations that are not yet present (idempotent: existing ones are left as they are)."""
    wanted = list(orgs)
    taken = store.existing_ids(conn, (o.id for o in wanted))
    missing = [o for o in wanted if o.id not in taken]
    store.insert_organisations(conn, missing, since, _now())
    return len(missing)


def get_organisation(db: Database, org_id: str) -> Organisation:
    with db.read() as conn:
        org = store.get_organisation(conn, org_id) if _storable(org_id) else None
    if org is None:
        raise NotFound(f"no organisation with id {org_id!r}")
    return org


def organisation_in(conn: Connection, org_id: str) -> Organisation | None:
    return store.get_organisation(conn, org_id) if _storable(org_id) else None


def require_organisations_in(conn: Connection, ids: Iterable[str], field: str) -> None:
    wanted = list(dict.fromkeys(ids))
    found = store.existing_ids(conn, [i for i in wanted if _storable(i)])
    missing = [i for i in wanted if i not in found]
    if missing:
        raise InvalidInput([FieldError(field, f"unknown organisation {m!r}", "unknown_reference") for m in missing])


def _after_id(cursor: str) -> str:
    """The id a cursor points after; only a cursor this server could have issued is accepted."""
    after = decode_cursor(cursor)
    if not ORG_ID_PATTERN.match(after) or encode_cursor(after) != cursor:
        raise InvalidInput([FieldError("cursor", "not a cursor this server issued", "format")])
    return after


def search_organisations(db: Database, f: OrgFilter, cursor: str | None, limit: int) -> Page[Organisation]:
    after = _after_id(cursor) if cursor else None
    bad = [name for name in ("q", "jurisdiction") if not _storable(getattr(f, name) or "")]
    if bad:
        raise InvalidInput([FieldError(n, "must not contain NUL characters", "control_characters") for n in bad])
    with db.read() as conn:
        rows = search_store.search(conn, f, after, limit + 1)
    more = len(rows) > limit
    items = rows[:limit]
    return Page(items, encode_cursor(items[-1].id) if more and items else None)


def counts(db: Database) -> dict[str, dict[str, int]]:
    """Organisations by kind, jurisdiction, sector and settlement status ("" for none), from one snapshot."""
    with db.read() as conn:
        return {column: store.counts_by(conn, column) for column in ("kind", "jurisdiction", "sector", "status")}


def count_organisations(db: Database, f: OrgFilter) -> int:
    with db.read() as conn:
        return search_store.count(conn, f)


@dataclass(frozen=True)
class OrganisationDetail:
    organisation: Organisation
    history: list[StatusChange]
    agreements: list[Agreement]


def organisation_detail(db: Database, org_id: str) -> OrganisationDetail:
    with db.read() as conn:
        org = store.get_organisation(conn, org_id) if _storable(org_id) else None
        if org is None:
            raise NotFound(f"no organisation with id {org_id!r}")
        return OrganisationDetail(org, store.history(conn, org_id), store.agreements_of(conn, org_id))


def change_status(
    db: Database, org_id: str, target: Status, changed_on: date | None = None, reason: str | None = None
) -> Organisation:
    with db.transaction() as conn:
        org = store.lock_organisation(conn, org_id) if _storable(org_id) else None
        if org is None:
            raise NotFound(f"no organisation with id {org_id!r}")
        check_transition(org.status, target, reason)
        when = changed_on or date.today()
        last = store.history(conn, org_id)
        if last and when < last[-1].changed_on:
            raise InvalidInput(
                [
                    FieldError(
                        "changed_on",
                        f"{when} is before the last recorded change ({last[-1].changed_on})",
                        "chronology",
                    )
                ]
            )
        store.record_status_change(conn, StatusChange(org_id, org.status, target, when, reason), _now())
        updated = store.get_organisation(conn, org_id)
    assert updated is not None
    return updated


def create_agreement(db: Database, agreement: Agreement) -> Agreement:
    check_agreement(agreement)
    with db.transaction() as conn:
        if store.get_agreement(conn, agreement.id) is not None:
            raise Conflict(f"agreement {agreement.id!r} already exists")
        require_organisations_in(conn, agreement.party_ids, "parties")
        try:
            store.insert_agreement(conn, agreement, _now())
        except IntegrityError as exc:
            raise Conflict(f"agreement {agreement.id!r} was created concurrently") from exc
        created = store.get_agreement(conn, agreement.id)
    assert created is not None
    return created


def ensure_agreement_in(conn: Connection, agreement: Agreement) -> bool:
    if store.get_agreement(conn, agreement.id) is not None:
        return False
    store.insert_agreement(conn, agreement, _now())
    return True


def list_agreements(db: Database) -> list[Agreement]:
    with db.read() as conn:
        return store.list_agreements(conn)


@dataclass(frozen=True)
class ImportResult:
    imported: int
    skipped_rows: list[FieldError]


def import_csv(
    db: Database, lines: Iterable[str], *, skip_bad_rows: bool = False, since: date | None = None
) -> ImportResult:
    """All-or-nothing by default: any bad row (syntax, field, duplicate) means nothing is written.

    With ``skip_bad_rows`` the good rows are written and the bad ones reported.

    A file with no bad row of its own (the usual case) is written straight away, inside a savepoint, and the
    database's unique constraints catch any clash with organisations already registered; only then are the
    clashing rows looked for (and reported with their row numbers), after the savepoint has undone the write.
    """
    parsed = parse_csv(lines)
    changed_on, now = since or date.today(), _now()
    with db.transaction() as conn:
        if not parsed.errors:
            try:
                with conn.begin_nested():
                    store.insert_organisations(conn, [o for _, o in parsed.organisations], changed_on, now)
            except IntegrityError:
                pass  # undone; find out which rows clash below
            else:
                return ImportResult(len(parsed.organisations), [])
        db_errors = _check_unique_in(conn, parsed.organisations)
        errors = sorted(parsed.errors + db_errors, key=lambda e: (e.row or 0, e.field))
        if errors and not skip_bad_rows:
            raise InvalidInput(errors, f"{len({e.row for e in errors})} bad row(s); nothing was imported")
        bad_rows = {e.row for e in errors}
        good = [o for row, o in parsed.organisations if row not in bad_rows]
        try:
            store.insert_organisations(conn, good, changed_on, now)
        except IntegrityError as exc:
            raise Conflict(
                "another import registered some of these organisations concurrently; nothing was imported"
            ) from exc
    return ImportResult(len(good), errors)


def statuses_as_of(db: Database, as_of: date) -> dict[str, Status | None]:
    """Each organisation's pipeline status on a past date (organisations registered later are absent)."""
    with db.read() as conn:
        histories = store.all_histories(conn)
    out: dict[str, Status | None] = {}
    for org_id, changes in histories.items():
        registered, status = status_as_of(changes, as_of)
        if registered:
            out[org_id] = status
    return out


def known_organisations_in(conn: Connection, ids: Iterable[str]) -> set[str]:
    """The ids among ``ids`` that are registered (for other contexts joining the caller's unit of work)."""
    return store.existing_ids(conn, [i for i in ids if _storable(i)])


def settled_by_month(db: Database, until: date) -> list[tuple[str, int]]:
    """How many organisations were settled in the zone at the end of each month, from the first month anything was
    recorded to ``until``'s month: the registry's growth, replayed from the status history (one read)."""
    with db.read() as conn:
        histories = store.all_histories(conn)
    # +1 in the month an organisation arrives at "settled", -1 in the month it leaves; a running sum gives each
    # month's end. Within one month only the net change matters, so same-month moves cancel out.
    delta: dict[str, int] = {}
    first: date | None = None
    for changes in histories.values():
        settled = False
        for change in changes:
            first = change.changed_on if first is None or change.changed_on < first else first
            now_settled = change.to_status is Status.SETTLED
            if now_settled != settled:
                key = change.changed_on.strftime("%Y-%m")
                delta[key] = delta.get(key, 0) + (1 if now_settled else -1)
                settled = now_settled
    if first is None or first > until:
        return []
    out: list[tuple[str, int]] = []
    running, year, month = 0, first.year, first.month
    while (year, month) <= (until.year, until.month):
        key = f"{year:04d}-{month:02d}"
        running += delta.get(key, 0)
        out.append((key, running))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
