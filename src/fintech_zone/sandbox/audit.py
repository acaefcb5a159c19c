"""The sandbox's side of the journal audit: every lifecycle decision and every event on the rails against its
leaf, rebuilt from the database row and compared field by field."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from fintech_zone.sandbox import store
from fintech_zone.sandbox.journal_leaf import DECISION, EVENT, decision_entry, event_entry

Problem = tuple[int | None, str]


def _diff(what: str, mine: dict[str, Any], logged: dict[str, Any]) -> str:
    for name in sorted(set(mine) | set(logged)):
        if mine.get(name) != logged.get(name):
            return f"{what}: {name} is {mine.get(name)!r} in the database, {logged.get(name)!r} in the log"
    return f"{what} differs from the log"


class SandboxAudit:
    def __init__(self) -> None:
        self.decisions: dict[tuple[str, int], tuple[int, dict[str, Any]]] = {}
        self.events: dict[int, tuple[int, dict[str, Any]]] = {}

    def feed(self, index: int, leaf: dict[str, Any]) -> None:
        if leaf["kind"] == DECISION:
            self.decisions[(leaf["pilot"], leaf["seq"])] = (index, leaf)
        elif leaf["kind"] == EVENT:
            self.events[leaf["id"]] = (index, leaf)

    def compare(self, conn: Connection) -> list[Problem]:
        problems: list[Problem] = []
        decisions = dict(self.decisions)
        for pilot_id, seq, t in store.all_transitions(conn):
            found = decisions.pop((pilot_id, seq), None)
            if found is None:
                problems.append((None, f"decision {seq} of pilot {pilot_id} is in the database but in no leaf"))
                continue
            mine = json.loads(decision_entry(pilot_id, seq, t).data)
            if mine != found[1]:
                problems.append((found[0], _diff(f"decision {seq} of pilot {pilot_id}", mine, found[1])))
        problems += [
            (i, f"leaf records decision {k[1]} of pilot {k[0]}, which the database does not hold")
            for k, (i, _) in decisions.items()
        ]
        events = dict(self.events)
        for r in store.all_events(conn):
            found_event = events.pop(int(r.id), None)
            if found_event is None:
                problems.append((None, f"sandbox event {r.id} of pilot {r.pilot_id} is in the database but in no leaf"))
                continue
            mine = json.loads(event_entry(int(r.id), r.pilot_id, r.at, r.kind, r.boundary, r.detail, r.uetr).data)
            if mine != found_event[1]:
                problems.append((found_event[0], _diff(f"sandbox event {r.id}", mine, found_event[1])))
        problems += [
            (i, f"leaf records sandbox event {k}, which the database does not hold") for k, (i, _) in events.items()
        ]
        return problems
