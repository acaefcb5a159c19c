from __future__ import annotations

from datetime import date

import pytest

from fintech_zone.errors import InvalidInput
from fintech_zone.progress.model import FuzzyDate, Precision, TaskStatus, check_task_transition


def test_month_precision_spans_the_whole_month() -> None:
    d = FuzzyDate.parse("2019-12")
    assert d.precision is Precision.MONTH
    assert (d.start, d.end) == (date(2019, 12, 1), date(2019, 12, 31))
    assert FuzzyDate.parse("2020-02").end == date(2020, 2, 29)
    assert d.iso() == "2019-12"


def test_day_precision() -> None:
    d = FuzzyDate.parse("2019-07-15")
    assert d.precision is Precision.DAY
    assert d.start == d.end == date(2019, 7, 15)
    assert FuzzyDate.from_parts(d.start, Precision.DAY) == d
    assert FuzzyDate.from_parts(date(2019, 7, 1), Precision.MONTH) == FuzzyDate(2019, 7)


@pytest.mark.parametrize("text", ["2019", "2019-13", "2019-02-30", "19-01", "2019-1", "2019-01-01T00:00", ""])
def test_bad_dates_are_rejected_with_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        FuzzyDate.parse(text, "date")
    assert err.value.errors[0].field == "date"


def test_task_transitions_need_reasons_for_setbacks() -> None:
    check_task_transition(TaskStatus.PLANNED, TaskStatus.IN_PROGRESS, None)
    check_task_transition(TaskStatus.IN_PROGRESS, TaskStatus.DONE, None)
    for current, target in [
        (TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED),
        (TaskStatus.PLANNED, TaskStatus.CANCELLED),
        (TaskStatus.DONE, TaskStatus.IN_PROGRESS),
    ]:
        with pytest.raises(InvalidInput) as err:
            check_task_transition(current, target, "  ")
        assert err.value.errors[0].field == "reason"
        check_task_transition(current, target, "because")
    with pytest.raises(InvalidInput):
        check_task_transition(TaskStatus.DONE, TaskStatus.DONE, "again")
