"""Sandbox use cases: applying, the lifecycle, suspension, live figures, public comments and complaints
(``rails.py`` holds pilot-tagged payments to their pilot's boundaries).

Who acts (``Actor``): the applicants are a participant of one of the pilot's institutions, or the operator on
their behalf; a regulator acts for its organisation (a token bound to the PBoC Chongqing office or MAS). An unbound
regulator token acts for the PBoC Chongqing office on a domestic pilot only: a cross-border pilot needs to know
which of its two regulators decided. Every decision and every event on the rails appends a journal leaf in the
same transaction (lock order: the journal's lock first, then the pilot's row).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from fintech_zone.auth.model import Role
from fintech_zone.db import Database
from fintech_zone.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from fintech_zone.journal import service as journal
from fintech_zone.registry import service as registry
from fintech_zone.registry.model import Kind
from fintech_zone.sandbox import journal_leaf, store
from fintech_zone.sandbox.events import record_event
from fintech_zone.sandbox.model import (
    JOINT_MOVES,
    PILOT_ID,
    Application,
    Boundaries,
    Cause,
    Criterion,
    InstitutionRole,
    Outcome,
    Pilot,
    Status,
    Transition,
    check_application,
    check_assessment,
    check_boundaries,
    check_scores,
    move_problem,
    regulators_for,
)

REASON_MAX = 2000
PUBLIC = (Status.PUBLIC_DISCLOSURE, Status.ADMITTED, Status.TESTING, Status.EXITED)
"""Pilots whose statement is public: from disclosure on."""

_ROLE_KIND = {
    InstitutionRole.TECHNOLOGY_FIRM: Kind.ENTERPRISE,
    InstitutionRole.FINANCIAL_INSTITUTION: Kind.FINANCIAL_INSTITUTION,
}


@dataclass(frozen=True)
class Actor:
    role: Role
    org_id: str | None = None

    @property
    def name(self) -> str:
        return self.org_id or self.role.value


@dataclass(frozen=True)
class Timers:
    review_days: int = 15
    evaluation_days: int = 21
    comment_days: int = 30


def _now() -> datetime:
    return datetime.now(UTC)


def _check_reason(reason: str) -> None:
    if not reason.strip():
        raise InvalidInput([FieldError("reason", "every decision gives its reason", "required")])
    if len(reason) > REASON_MAX or "\x00" in reason:
        raise InvalidInput([FieldError("reason", f"at most {REASON_MAX} characters, no NUL", "length")])


def _record(conn: Connection, pilot: Pilot, t: Transition) -> Pilot:
    seq = len(pilot.history)
    store.insert_transition(conn, pilot.id, seq, t)
    journal.append_in(conn, [journal_leaf.decision_entry(pilot.id, seq, t)])
    return replace(pilot, history=(*pilot.history, t))


def _is_applicant(pilot_or_app: Application, actor: Actor) -> bool:
    if actor.role is Role.OPERATOR:
        return True
    return actor.role is Role.PARTICIPANT and actor.org_id in {i.org_id for i in pilot_or_app.institutions}


def _check_institutions(conn: Connection, app: Application) -> None:
    registry.require_organisations_in(conn, [i.org_id for i in app.institutions], "institutions")
    errors = []
    for n, inst in enumerate(app.institutions):
        org = registry.organisation_in(conn, inst.org_id)
        if org is not None and org.kind is not _ROLE_KIND[inst.role]:
            errors.append(
                FieldError(
                    f"institutions[{n}].role",
                    f"{inst.org_id} is registered as {org.kind.value}, not as a {inst.role.value.replace('_', ' ')}",
                    "registry_kind",
                )
            )
    if errors:
        raise InvalidInput(errors)


# -- applying -----------------------------------------------------------------------------------------------------


def create_pilot(db: Database, pilot_id: str, app: Application, actor: Actor, now: datetime | None = None) -> Pilot:
    """A new application, in draft. A participant applies as one of its institutions."""
    if not PILOT_ID.match(pilot_id):
        raise InvalidInput([FieldError("id", "1-64 characters of A-Z a-z 0-9 . _ : -", "format")])
    check_application(app, for_submission=False)
    if not _is_applicant(app, actor):
        raise Forbidden("a participant applies as one of the pilot's institutions")
    at = now or _now()
    with db.transaction() as conn:
        journal.lock_in(conn)
        _check_institutions(conn, app)
        if store.get_pilot(conn, pilot_id) is not None:
            raise Conflict(f"a pilot with id {pilot_id!r} exists")
        pilot = Pilot(pilot_id, app, Status.DRAFT, None, regulators_for(app.cross_border), at, at)
        store.insert_pilot(conn, pilot)
        return _record(conn, pilot, Transition(at, None, Status.DRAFT, actor.name, "application created"))


def update_application(db: Database, pilot_id: str, app: Application, actor: Actor) -> Pilot:
    """The applicants change their application while it is a draft (also after it was returned to them)."""
    check_application(app, for_submission=False)
    with db.transaction() as conn:
        journal.lock_in(conn)
        pilot = _get(conn, pilot_id, lock=True)
        if not _is_applicant(pilot.application, actor) or not _is_applicant(app, actor):
            raise Forbidden("only the pilot's applicants change its application")
        if pilot.status is not Status.DRAFT:
            raise Conflict(f"the application is {pilot.status}: it changes only as a draft")
        _check_institutions(conn, app)
        pilot = replace(pilot, application=app, regulators=regulators_for(app.cross_border))
        store.update_pilot(conn, pilot, institutions_changed=True)
        return pilot


def _get(conn: Connection, pilot_id: str, lock: bool = False) -> Pilot:
    pilot = store.get_pilot(conn, pilot_id, lock=lock) if PILOT_ID.match(pilot_id) else None
    if pilot is None:
        raise NotFound(f"no pilot with id {pilot_id!r}")
    return pilot


# -- the lifecycle ------------------------------------------------------------------------------------------------


def _regulator_for(pilot: Pilot, actor: Actor) -> str:
    """The regulator organisation the actor decides for on this pilot."""
    if actor.org_id is None:
        if len(pilot.regulators) > 1:
            raise Forbidden("a cross-border pilot's decisions are made by a regulator token bound to its organisation")
        return pilot.regulators[0]
    if actor.org_id not in pilot.regulators:
        raise Forbidden(f"{actor.org_id} is not one of this pilot's regulators ({', '.join(pilot.regulators)})")
    return actor.org_id


def transition(
    db: Database,
    pilot_id: str,
    to: Status,
    reason: str,
    actor: Actor,
    outcome: Outcome | None = None,
    cause: Cause | None = None,
    scores: dict[str, int] | None = None,
    boundaries: Boundaries | None = None,
    timers: Timers = Timers(),
    now: datetime | None = None,
    assessment: dict[str, dict[str, Any]] | None = None,
) -> Pilot:
    """Move a pilot, with a reason, as the actor's side may (module notes). Forbidden for the wrong side or a
    regulator not the pilot's; Conflict when the current state does not allow the move or a condition is unmet."""
    _check_reason(reason)
    if scores is not None and (errors := check_scores(scores)):
        raise InvalidInput(errors)
    if boundaries is not None and (errors := check_boundaries(boundaries)):
        raise InvalidInput(errors)
    if assessment is not None and (errors := check_assessment(assessment)):
        raise InvalidInput(errors)
    if assessment and (to is not Status.EXITED or outcome is Outcome.EXTENDED or actor.role is not Role.REGULATOR):
        raise InvalidInput(
            [FieldError("assessment", "is the regulators' final assessment, given with a final exit", "exit")]
        )
    if actor.role not in (Role.REGULATOR, Role.PARTICIPANT, Role.OPERATOR):
        raise Forbidden("a viewer moves no pilot")
    as_regulator = actor.role is Role.REGULATOR
    at = now or _now()
    with db.transaction() as conn:
        journal.lock_in(conn)
        pilot = _get(conn, pilot_id, lock=True)
        problem = move_problem(pilot, to, as_regulator, outcome, cause)
        if problem is not None:
            kind, why = problem
            raise (Forbidden if kind == "role" else Conflict)(why)
        if as_regulator:
            regulator = _regulator_for(pilot, actor)
        elif not _is_applicant(pilot.application, actor):
            raise Forbidden("only the pilot's applicants (or the operator for them) make this move")
        else:
            regulator = None
        pilot = _apply(
            conn, pilot, to, reason, actor, regulator, outcome, cause, scores, boundaries, timers, at, assessment
        )
        store.update_pilot(conn, pilot)
        return pilot


def _apply(
    conn: Connection,
    pilot: Pilot,
    to: Status,
    reason: str,
    actor: Actor,
    regulator: str | None,
    outcome: Outcome | None,
    cause: Cause | None,
    scores: dict[str, int] | None,
    boundaries: Boundaries | None,
    timers: Timers,
    at: datetime,
    assessment: dict[str, dict[str, Any]] | None = None,
) -> Pilot:
    here = pilot.status
    if (here, to) == (Status.DRAFT, Status.SUBMITTED):
        check_application(pilot.application, for_submission=True)
    if regulator is not None and scores is not None:
        pilot = replace(pilot, scores={**pilot.scores, regulator: dict(scores)})
    if (here, to) == (Status.EVALUATION, Status.PUBLIC_DISCLOSURE):
        mine = pilot.scores.get(regulator or "", {})
        missing = [c.value for c in Criterion if c.value not in mine]
        if missing:
            raise Conflict(f"{regulator} scores the four criteria before disclosure: {', '.join(missing)} missing")
    if (here, to) == (Status.PUBLIC_DISCLOSURE, Status.ADMITTED):
        opens = pilot.stage_since + timedelta(days=timers.comment_days)
        if at < opens:
            raise Conflict(f"the statement is open for public comment until {opens.isoformat()}")
        if boundaries is not None:
            pilot = replace(pilot, boundaries=boundaries)
        elif pilot.boundaries is None:
            pilot = replace(pilot, boundaries=pilot.application.requested)
    if to is Status.EXITED and outcome is Outcome.EXTENDED:
        current = pilot.boundaries or pilot.application.requested
        if (
            boundaries is None
            or boundaries.ends_on is None
            or (current.ends_on and boundaries.ends_on <= current.ends_on)
        ):
            raise Conflict("an extension sets boundaries with an end date later than the current one")
        pilot = replace(pilot, boundaries=boundaries)
    if (here, to) in JOINT_MOVES and regulator is not None:
        decided = tuple(dict.fromkeys((*pilot.pending, regulator)))
        waiting = [r for r in pilot.regulators if r not in decided]
        if waiting:
            record_event(conn, pilot.id, at, "decision", f"{regulator} decided {to.value}: {reason}"[:500])
            return replace(pilot, pending=decided)
    t = Transition(at, here, to, actor.name, reason, outcome, cause)
    pilot = replace(pilot, status=to, stage_since=at if to is not here else pilot.stage_since, pending=())
    if to is Status.EXITED:
        final = outcome is not Outcome.EXTENDED  # an extended pilot keeps settling, and a suspension holds
        pilot = replace(
            pilot,
            outcome=outcome,
            cause=cause if outcome is Outcome.DISCONTINUED else None,
            suspended=pilot.suspended and not final,
        )
        if assessment:
            pilot = replace(pilot, assessment=dict(assessment))
    return _record(conn, pilot, t)


def set_suspended(
    db: Database, pilot_id: str, suspended: bool, reason: str, actor: Actor, now: datetime | None = None
) -> Pilot:
    """A regulator suspends a live pilot at once (its payments are refused from the next one on) or resumes it."""
    _check_reason(reason)
    if actor.role is not Role.REGULATOR:
        raise Forbidden("a regulator suspends and resumes pilots")
    at = now or _now()
    with db.transaction() as conn:
        journal.lock_in(conn)
        pilot = _get(conn, pilot_id, lock=True)
        # Stopping is urgent: any of the pilot's regulators may, and an unbound regulator token too.
        if actor.org_id is not None and actor.org_id not in pilot.regulators:
            raise Forbidden(f"{actor.org_id} is not one of this pilot's regulators ({', '.join(pilot.regulators)})")
        if not (pilot.status in (Status.ADMITTED, Status.TESTING) or pilot.outcome is Outcome.EXTENDED):
            raise Conflict(f"the pilot is {pilot.status}: only an admitted, testing or extended pilot is suspended")
        if pilot.suspended == suspended:
            raise Conflict(f"the pilot is already {'suspended' if suspended else 'running'}")
        pilot = replace(pilot, suspended=suspended)
        store.update_pilot(conn, pilot)
        record_event(conn, pilot.id, at, "suspended" if suspended else "resumed", f"{actor.name}: {reason}"[:500])
        return pilot


# -- reading ------------------------------------------------------------------------------------------------------


def _can_read(pilot: Pilot, actor: Actor | None) -> bool:
    if pilot.status in PUBLIC:
        return True
    if actor is None:
        return False
    return actor.role in (Role.OPERATOR, Role.REGULATOR) or _is_applicant(pilot.application, actor)


def get_pilot(db: Database, pilot_id: str, actor: Actor | None) -> Pilot:
    with db.read() as conn:
        pilot = _get(conn, pilot_id)
    if not _can_read(pilot, actor):
        raise NotFound(f"no pilot with id {pilot_id!r}")  # a draft is nobody else's business, not even its existence
    return pilot


def list_pilots(db: Database, actor: Actor | None, status: Status | None = None) -> list[Pilot]:
    with db.read() as conn:
        if actor is not None and actor.role is Role.PARTICIPANT:
            mine = store.list_pilots(conn, (status,) if status else None, org_id=actor.org_id)
            public = (
                store.list_pilots(conn, (status,) if status in PUBLIC else PUBLIC) if status in (None, *PUBLIC) else []
            )
            by_id = {p.id: p for p in [*public, *mine]}
            return sorted(by_id.values(), key=lambda p: (p.created_at, p.id))
        if actor is None or actor.role is Role.VIEWER:
            wanted = (status,) if status in PUBLIC else (() if status else PUBLIC)
            return store.list_pilots(conn, wanted) if wanted else []
        return store.list_pilots(conn, (status,) if status else None)
