"""The referral detail's actions in the command palette (ctrl+p), each with its key."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

DETAIL_ACTIONS = (
    ("Triage referral", "t", "triage", "Confirm priority and teams: the referral is triaged"),
    ("Decline referral", "d", "decline", "Decline with a reason"),
    ("Record arrival", "r", "arrival", "First face-to-face contact: stops the 2-hour clock"),
    ("Crisis care", "c", "crisis_care", "Begin crisis care, or record why it continues"),
    ("Close referral", "x", "close_referral", "Close with an outcome and an optional note"),
    ("Add note", "o", "note", "Add a note to the referral's timeline"),
    ("Reload referral", "l", "reload", "Read the referral again from the live data"),
    ("Assign visit", "a", "assign", "Plan a (joint) visit for this referral"),
)
"""Palette name, key, action and help for each action of the detail screen."""


class DetailCommands(Provider):
    """Offers the detail screen's actions by name, so nobody has to remember the keys."""

    def _hits(self) -> list[tuple[str, partial[object], str]]:
        screen = self.screen
        return [
            (f"{name} ({key})", partial(screen.run_action, action), help_text)
            for name, key, action, help_text in DETAIL_ACTIONS
        ]

    async def discover(self) -> Hits:
        for name, callback, help_text in self._hits():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._hits():
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
