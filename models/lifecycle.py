"""The referral lifecycle: which status may follow which, and clear refusals when one may not.

    received -> triaged -> (declined | assigned) -> responded -> crisis_care -> closed

Also allowed: received -> declined (declined at once), assigned -> triaged (the planned
visit was cancelled) and responded -> closed (closed without crisis care). Declined and
closed are terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from models.enums import ReferralStatus
from models.errors import InvalidTransition

_S = ReferralStatus

ALLOWED_TRANSITIONS: Mapping[ReferralStatus, frozenset[ReferralStatus]] = MappingProxyType(
    {
        _S.RECEIVED: frozenset({_S.TRIAGED, _S.DECLINED}),
        _S.TRIAGED: frozenset({_S.DECLINED, _S.ASSIGNED}),
        _S.ASSIGNED: frozenset({_S.RESPONDED, _S.TRIAGED}),
        _S.RESPONDED: frozenset({_S.CRISIS_CARE, _S.CLOSED}),
        _S.CRISIS_CARE: frozenset({_S.CLOSED}),
        _S.DECLINED: frozenset(),
        _S.CLOSED: frozenset(),
    }
)
"""For each status, the statuses a referral may move to next (empty for terminal ones)."""

_PLANNABLE = frozenset({_S.TRIAGED, _S.ASSIGNED, _S.RESPONDED, _S.CRISIS_CARE})

# "the referral is ..." for each status, in words a coordinator would use.
_IS = {
    _S.RECEIVED: "received and not yet triaged",
    _S.TRIAGED: "triaged",
    _S.DECLINED: "declined",
    _S.ASSIGNED: "assigned",
    _S.RESPONDED: "responded to",
    _S.CRISIS_CARE: "in crisis care",
    _S.CLOSED: "closed",
}


def check_transition(
    current: ReferralStatus, target: ReferralStatus, *, action: str | None = None
) -> None:
    """Raise InvalidTransition unless a referral may move from `current` to `target`.

    The message names the current state in words. With `action` (e.g. "record arrival")
    it reads "Cannot record arrival: the referral is declined"; without, "Cannot move a
    referral from closed to triaged".
    """
    if target in ALLOWED_TRANSITIONS[current]:
        return
    if action is not None:
        raise InvalidTransition(f"Cannot {action}: the referral is {_IS[current]}")
    if target == current:
        raise InvalidTransition(f"The referral is already {_IS[current]}")
    raise InvalidTransition(f"Cannot move a referral from {current.label} to {target.label}")


def can_plan_visit(status: ReferralStatus) -> bool:
    """True if a visit may be planned for a referral in `status`.

    That is once triaged and until closed: triaged, assigned, responded or in crisis care.
    """
    return status in _PLANNABLE


def status_after_visit_planned(status: ReferralStatus) -> ReferralStatus:
    """The referral's status once a visit is planned: triaged becomes assigned, others stay.

    Raises InvalidTransition if a visit cannot be planned in `status`.
    """
    if not can_plan_visit(status):
        raise InvalidTransition(f"Cannot plan a visit: the referral is {_IS[status]}")
    if status == _S.TRIAGED:
        return _S.ASSIGNED
    return status
