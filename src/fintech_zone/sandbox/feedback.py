"""What the public and a pilot's customers say: comments on a disclosed statement, and complaints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fintech_zone.auth.model import Role
from fintech_zone.db import Database
from fintech_zone.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from fintech_zone.journal import service as journal
from fintech_zone.sandbox import store
from fintech_zone.sandbox.events import record_event
from fintech_zone.sandbox.model import Status
from fintech_zone.sandbox.service import PUBLIC, Actor, _check_reason, _get, _is_applicant, _now

COMMENT_MAX = 2000
AUTHOR_MAX = 100


def add_comment(db: Database, pilot_id: str, author: str | None, body: str, now: datetime | None = None) -> None:
    """A member of the public comments on a statement while it is disclosed."""
    errors = []
    if not body.strip() or len(body) > COMMENT_MAX or "\x00" in body:
        errors.append(FieldError("body", f"1 to {COMMENT_MAX} characters", "length"))
    if author is not None and (len(author) > AUTHOR_MAX or "\x00" in author):
        errors.append(FieldError("author", f"at most {AUTHOR_MAX} characters", "length"))
    if errors:
        raise InvalidInput(errors)
    with db.transaction() as conn:
        pilot = _get(conn, pilot_id)
        if pilot.status is not Status.PUBLIC_DISCLOSURE:
            raise Conflict("comments are taken while a pilot's statement is disclosed for comment")
        store.insert_comment(conn, pilot_id, now or _now(), (author or "").strip() or None, body.strip())


def comments(db: Database, pilot_id: str) -> list[dict[str, Any]]:
    with db.read() as conn:
        pilot = _get(conn, pilot_id)
        if pilot.status not in PUBLIC:
            raise NotFound(f"no pilot with id {pilot_id!r}")
        return store.list_comments(conn, pilot_id)


def record_complaint(db: Database, pilot_id: str, detail: str, actor: Actor, now: datetime | None = None) -> None:
    """A customer complaint the applicants or the operator record (complaint handling is part of the pilot)."""
    _check_reason(detail)
    with db.transaction() as conn:
        journal.lock_in(conn)
        pilot = _get(conn, pilot_id, lock=True)
        if not _is_applicant(pilot.application, actor) and actor.role is not Role.REGULATOR:
            raise Forbidden("the applicants, the operator or a regulator record a pilot's complaints")
        if pilot.status not in (Status.ADMITTED, Status.TESTING, Status.EXITED):
            raise Conflict(f"the pilot is {pilot.status}: it has no customers to complain yet")
        record_event(conn, pilot_id, now or _now(), "complaint", detail[:500])
