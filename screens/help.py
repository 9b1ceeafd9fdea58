"""A help screen listing every key the desk answers to right now, read from the bindings.

Keys are data (Posting's habit): `key_help` reads the active bindings of the focused
widget, its containers, the screen and the app, so a binding added anywhere shows here
with its description, grouped by where it is defined (`BINDING_GROUP_TITLE`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from models.text import clean_text
from screens.key_groups import MOVING

_WORD_START = re.compile(r"(?<=[a-z])(?=[A-Z])")


@dataclass(frozen=True)
class KeyHelp:
    """One line of help: the keys (as the footer shows them) and what they do."""

    group: str
    keys: str
    description: str


def group_title(node: DOMNode) -> str:
    """Where a binding comes from, in words: "Everywhere", the node's group title, or its
    class name spelled out ("ReferralBoard" -> "Referral board")."""
    if isinstance(node, App):
        return "Everywhere"
    if node.BINDING_GROUP_TITLE:
        return node.BINDING_GROUP_TITLE
    words = _WORD_START.sub(" ", type(node).__name__).split()
    if isinstance(node, Screen) and len(words) > 1 and words[-1] == "Screen":
        words = words[:-1]
    return " ".join(words[:1] + [word.lower() for word in words[1:]])


def _is_textual_own(node: DOMNode, binding: Binding) -> bool:
    """True for a key that a Textual widget brings with it (cursor keys and the like)."""
    for cls in type(node).__mro__:
        for own in cls.__dict__.get("BINDINGS", ()):
            if isinstance(own, Binding) and (own.action, own.description) == (
                binding.action,
                binding.description,
            ):
                return cls.__module__.startswith("textual.")
    return False


def key_help(
    active: Mapping[str, ActiveBinding], key_display: Callable[[Binding], str]
) -> list[KeyHelp]:
    """The active bindings as help lines, one per action: the desk's own keys nearest the
    focus first, then the keys every Textual widget has ("Moving around")."""
    lines: dict[tuple[str, str, str], list[str]] = {}
    for node, binding, _enabled, _tooltip in active.values():
        if binding.system or not binding.description:
            continue
        group = MOVING if _is_textual_own(node, binding) else group_title(node)
        # the footer's short label, or the longer tooltip where a binding has one
        described = binding.tooltip or binding.description
        keys = lines.setdefault((group, binding.action, described), [])
        shown = key_display(binding)
        if shown not in keys:
            keys.append(shown)
    result = [
        KeyHelp(group, " ".join(keys), description)
        for (group, _action, description), keys in lines.items()
    ]
    return sorted(result, key=lambda line: line.group == MOVING)  # stable: order kept


def describe_keys(lines: Iterable[KeyHelp]) -> Content:
    """Group headings, then one line per action: its keys, then what it does."""
    parts: list[Content] = []
    group = None
    for line in lines:
        if line.group != group:
            group = line.group
            if parts:
                parts.append(Content(""))
            parts.append(Content.styled(clean_text(group), "bold underline"))
        keys = clean_text(line.keys)
        parts.append(Content.assemble((f"{keys:>10}", "bold"), "  ", clean_text(line.description)))
    return Content("\n").join(parts)


class HelpScreen(ModalScreen[None]):
    """The keys of the desk; escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("q", "dismiss", "Close", show=False, id="help.close_q"),
        Binding("question_mark", "dismiss", "Close", show=False, id="help.close_help"),
    ]

    def __init__(self, lines: Iterable[KeyHelp]) -> None:
        super().__init__()
        self.lines = list(lines)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-panel"):
            yield Static(Content("Hub Desk keys"), id="help-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(describe_keys(self.lines), id="help-keys")
            yield Static(Content("escape closes this help; up and down scroll"), id="help-hint")
