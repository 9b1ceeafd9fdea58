"""Joint-visit matching: who can go, and the best person from each team a referral needs.

Pure rules over plain data (no I/O): the hub works out each candidate's shift, bookings and
load, and these functions rank them. Eligible means on shift, free at the proposed time
and not off. The best is someone whose patch covers the patient's postcode district, then
the one with the fewest visits today, then by name (so the order is stable).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from models.enums import StaffStatus

_SEPARATORS = re.compile(r"[\s,;]+")


def parse_patch(text: str) -> tuple[str, ...]:
    """Postcode districts from a patch as typed ("le1, LE2  LE3") -> ("LE1", "LE2", "LE3")."""
    return tuple(dict.fromkeys(part.upper() for part in _SEPARATORS.split(text) if part))


@dataclass(frozen=True)
class Candidate:
    """One staff member as a possible visitor at a proposed time."""

    staff_id: int
    name: str
    team: str
    status: str
    patch: tuple[str, ...]
    on_shift: bool
    free: bool
    load_today: int

    @property
    def eligible(self) -> bool:
        """On shift, free at the proposed time, and not off."""
        return self.on_shift and self.free and self.status != StaffStatus.OFF

    def in_patch(self, district: str | None) -> bool:
        return district is not None and district.upper() in self.patch


def _needs(needs: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(needs))


def rank_candidates(
    candidates: Iterable[Candidate], *, needs: Sequence[str], district: str | None
) -> dict[str, list[Candidate]]:
    """Eligible candidates grouped by team, in the order of `needs` (every need is a key,
    possibly with an empty list), each team best first: in patch, then least load today,
    then by name."""
    groups: dict[str, list[Candidate]] = {team: [] for team in _needs(needs)}
    for candidate in candidates:
        if candidate.team in groups and candidate.eligible:
            groups[candidate.team].append(candidate)
    for members in groups.values():
        members.sort(
            key=lambda c: (not c.in_patch(district), c.load_today, c.name.casefold(), c.staff_id)
        )
    return groups


def suggest_team(
    candidates: Iterable[Candidate], *, needs: Sequence[str], district: str | None
) -> list[Candidate]:
    """The best eligible person from each needed team, in needs order; [] if any needed
    team has nobody eligible (a joint visit goes with everyone it needs, or not at all)."""
    groups = rank_candidates(candidates, needs=needs, district=district)
    if not groups or any(not members for members in groups.values()):
        return []
    return [members[0] for members in groups.values()]
