"""The status flow of a case."""

from __future__ import annotations

import pytest

from omnistock.care.flow import Status, check_transition, is_reopen, parse_status
from omnistock.errors import Conflict, Invalid

ALLOWED = {
    (Status.NEW, Status.OPEN), (Status.NEW, Status.WAITING), (Status.NEW, Status.RESOLVED),
    (Status.OPEN, Status.WAITING), (Status.OPEN, Status.RESOLVED),
    (Status.WAITING, Status.OPEN), (Status.WAITING, Status.RESOLVED),
    (Status.RESOLVED, Status.CLOSED), (Status.RESOLVED, Status.OPEN), (Status.CLOSED, Status.OPEN),
}


@pytest.mark.parametrize("current", list(Status))
@pytest.mark.parametrize("wanted", list(Status))
def test_only_the_flow_s_transitions_are_allowed(current: Status, wanted: Status) -> None:
    if (current, wanted) in ALLOWED:
        check_transition(current, wanted)
    else:
        with pytest.raises(Conflict) as refused:
            check_transition(current, wanted)
        assert refused.value.field == "status"


def test_reopen_is_open_after_resolved_or_closed() -> None:
    assert is_reopen(Status.RESOLVED, Status.OPEN) and is_reopen(Status.CLOSED, Status.OPEN)
    assert not is_reopen(Status.WAITING, Status.OPEN)


def test_unknown_status_is_invalid() -> None:
    with pytest.raises(Invalid):
        parse_status("lost")
