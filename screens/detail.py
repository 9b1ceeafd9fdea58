"""One referral in full, with its timeline, kept live from the replica; and the actions a
coordinator takes from here. Each action sends the version the screen showed when it began:
if someone else changed the referral meanwhile the hub refuses, the screen says who and
offers a reload, and nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Static

from messaging.command_client import CommandRefused, HubUnavailable
from messaging.protocol import REFERRAL, VISIT
from models.enums import ReferralStatus
from screens.detail_commands import DetailCommands
from screens.detail_view import (
    LIVE_VISITS,
    hhmm,
    referral_content,
    text,
    timeline_content,
    title,
    visit_line,
)
from screens.prompts import ClosePrompt, ConfirmPrompt, TextPrompt, TriagePrompt

STALE = "stale_version"


class ReferralDetailScreen(ModalScreen[None]):
    """Everything about one referral (`key` is "/referral/<id>") and its timeline."""

    CSS_PATH = "forms.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("t", "triage", "Triage", id="detail.triage"),
        Binding("d", "decline", "Decline", id="detail.decline"),
        Binding("r", "arrival", "Arrived", id="detail.arrival"),
        Binding("c", "crisis_care", "Care", id="detail.crisis_care"),
        Binding("x", "close_referral", "Close", id="detail.close_referral"),
        Binding("o", "note", "Note", id="detail.note"),
        Binding("l", "reload", "Reload", show=False, id="detail.reload"),
        Binding("question_mark", "app.help", "Keys", show=False, id="detail.help"),
        Binding("a", "assign", "Assign", id="detail.assign"),
    ]
    COMMANDS: ClassVar[set[Any]] = {DetailCommands}

    def __init__(self, key: str) -> None:
        super().__init__(id="detail")
        self.key = key
        self.referral_id = int(key.removeprefix(REFERRAL))
        self.body: dict[str, Any] | None = None
        self.visits: list[dict[str, Any]] = []
        self.timeline: list[dict[str, Any]] = []
        self.drafts: dict[str, str] = {}
        self.stale = False

    @staticmethod
    def shows(key: str) -> bool:
        """True if `key` names a referral this screen can show ("/referral/<id>")."""
        return key.startswith(REFERRAL) and key.removeprefix(REFERRAL).isdigit()

    def compose(self) -> ComposeResult:
        yield Static("", id="detail-title")
        with VerticalScroll(id="detail-scroll"):
            yield Static("", id="detail-info")
            yield Static(Content("Timeline"), classes="detail-section")
            yield Static("", id="detail-timeline")
        with Horizontal(id="detail-problem"):
            yield Static("", id="detail-problem-text")
            yield Button("Reload", id="detail-reload", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail-problem").display = False
        self.body = self.app.replica.data.get(self.key)  # type: ignore[attr-defined]
        self.show()
        self.load()

    # -- what is shown ------------------------------------------------------------------

    def current_visits(self) -> list[dict[str, Any]]:
        """The referral's visits, each as the replica has it now if it is still live."""
        data = self.app.replica.data  # type: ignore[attr-defined]
        visits = [data.get(f"{VISIT}{v.get('id')}") or v for v in self.visits]
        known = {v.get("id") for v in visits}
        live_ids = (self.body or {}).get("visits") or []
        visits += [
            data[f"{VISIT}{i}"] for i in live_ids if i not in known and f"{VISIT}{i}" in data
        ]
        return visits

    def live_visit(self) -> dict[str, Any] | None:
        """The visit whose arrival can be recorded (planned or on the way), if any."""
        return next((v for v in self.current_visits() if v.get("status") in LIVE_VISITS), None)

    def show(self) -> None:
        now = self.app.clock()  # type: ignore[attr-defined]
        self.query_one("#detail-title", Static).update(title(self.body, self.referral_id, now))
        info = referral_content(self.body, self.current_visits(), now) if self.body else ""
        self.query_one("#detail-info", Static).update(info or Content("Loading…"))
        self.query_one("#detail-timeline", Static).update(timeline_content(self.timeline))

    @work(exclusive=True, group="detail-load", exit_on_error=False)
    async def load(self) -> None:
        """Read the referral, its visits and its timeline from the hub."""
        try:
            result = await self.app.commands.call(  # type: ignore[attr-defined]
                "get_referral", {"referral_id": self.referral_id}
            )
        except (CommandRefused, HubUnavailable) as exc:
            self.show_problem(f"Could not read the timeline: {exc.message}")
            return
        live = self.app.replica.data.get(self.key)  # type: ignore[attr-defined]
        self.body = live if live is not None else result.get("referral") or self.body
        self.visits = [v for v in result.get("visits") or [] if isinstance(v, dict)]
        self.timeline = [t for t in result.get("timeline") or [] if isinstance(t, dict)]
        self.show()

    def replica_changed(self, key: str) -> None:
        """The app says a key changed: follow it if it is this referral or one of its visits."""
        visit_keys = {f"{VISIT}{v.get('id')}" for v in self.current_visits()}
        if key == self.key or key in visit_keys:
            self.replica_reloaded()

    def replica_reloaded(self) -> None:
        live = self.app.replica.data.get(self.key)  # type: ignore[attr-defined]
        if live is not None:
            self.body = live
        self.show()
        self.load()

    def show_problem(self, message: str, *, stale: bool = False) -> None:
        self.stale = stale
        shown = f"{message}  Reload?" if stale else message
        self.query_one("#detail-problem-text", Static).update(Content(text(shown)))
        self.query_one("#detail-problem").display = bool(message)
        reload = self.query_one("#detail-reload", Button)
        reload.display = stale
        if stale:
            reload.focus()

    # -- actions ------------------------------------------------------------------------

    def _shown(self) -> tuple[str, int | None]:
        """The person's name and the version this screen shows now."""
        body = self.body or {}
        name = text((body.get("patient") or {}).get("name")) or "(no name)"
        version = body.get("version")
        return name, version if isinstance(version, int) else None

    def _ask(
        self,
        prompt: Screen[Any],
        command: str,
        args: Callable[[Any], dict[str, Any]],
        done: str,
        draft: str | None = None,
    ) -> None:
        """Ask, then send the command built from the answer (nothing if cancelled)."""

        def answered(answer: Any) -> None:
            if answer is None or answer is False:
                return
            typed = answer if isinstance(answer, str) else ""
            if isinstance(answer, dict):
                typed = str(answer.get("note", ""))
            self.send(command, args(answer), done, draft, typed)

        self.app.push_screen(prompt, answered)

    def _versioned(self, **args: Any) -> dict[str, Any]:
        return {"referral_id": self.referral_id, "version": self._shown()[1], **args}

    def action_triage(self) -> None:
        name, _ = self._shown()
        body = self.body or {}
        base = self._versioned()
        prompt = TriagePrompt(
            f"Triage referral {self.referral_id}: {name}",
            priority=str(body.get("priority") or ""),
            needs=[str(n) for n in body.get("needs") or []],
        )
        self._ask(prompt, "triage_referral", lambda a: base | a, "Triaged")

    def action_decline(self) -> None:
        name, _ = self._shown()
        base = self._versioned()
        prompt = TextPrompt(
            f"Decline referral {self.referral_id} ({name}): why?",
            draft=self.drafts.get("decline", ""),
        )
        self._ask(prompt, "decline_referral", lambda a: base | {"reason": a}, "Declined", "decline")

    def action_arrival(self) -> None:
        visit = self.live_visit()
        if visit is None:
            self.show_problem("No planned visit to record an arrival for: plan a visit first.")
            return
        now = hhmm(self.app.clock().isoformat())  # type: ignore[attr-defined]
        args = {"visit_id": visit.get("id"), "version": visit.get("version")}
        question = f"Record arrival now ({now}) for the visit {visit_line(visit)}?"
        prompt = ConfirmPrompt(question, yes="Record arrival")
        self._ask(prompt, "record_arrival", lambda _: args, "Arrival recorded")

    def action_crisis_care(self) -> None:
        name, _ = self._shown()
        base = self._versioned()
        continuing = (self.body or {}).get("status") == ReferralStatus.CRISIS_CARE
        question = (
            f"Crisis care continues for {name}: why?"
            if continuing
            else f"Begin crisis care for {name} (note optional)"
        )
        draft = self.drafts.get("care", "")
        prompt = TextPrompt(question, draft=draft, required=continuing)
        done = "Crisis care continues" if continuing else "Crisis care began"
        self._ask(prompt, "begin_crisis_care", lambda a: base | {"reason": a}, done, "care")

    def action_close_referral(self) -> None:
        name, _ = self._shown()
        base = self._versioned()
        prompt = ClosePrompt(
            f"Close referral {self.referral_id} ({name})", draft=self.drafts.get("close", "")
        )
        self._ask(prompt, "close_referral", lambda a: base | a, "Referral closed", "close")

    def action_note(self) -> None:
        name, _ = self._shown()
        prompt = TextPrompt(f"Note on {name}'s referral", draft=self.drafts.get("note", ""))
        args = {"referral_id": self.referral_id}
        self._ask(prompt, "add_note", lambda a: args | {"text": a}, "Note added", "note")

    @work(group="detail-send", exit_on_error=False)
    async def send(
        self, command: str, args: dict[str, Any], done: str, draft: str | None, typed: str
    ) -> None:
        self.show_problem("Sending…")
        try:
            await self.app.commands.call(command, args)  # type: ignore[attr-defined]
        except CommandRefused as exc:
            self._keep(draft, typed)
            self.show_problem(exc.message, stale=exc.code == STALE)
            return
        except HubUnavailable as exc:
            self._keep(draft, typed)
            self.show_problem(f"{exc.message} Nothing is lost: try again.")
            return
        if draft:
            self.drafts.pop(draft, None)
        self.show_problem("")
        self.app.notify(done, markup=False)
        self.load()

    def _keep(self, draft: str | None, typed: str) -> None:
        if draft and typed:
            self.drafts[draft] = typed

    def action_reload(self) -> None:
        """Read the referral again from the replica (and the timeline from the hub)."""
        self.show_problem("")
        self.replica_reloaded()
        _, version = self._shown()
        self.app.notify(f"Reloaded: version {version}", markup=False)
        self.query_one("#detail-scroll").focus()

    @on(Button.Pressed, "#detail-reload")
    def _reload_pressed(self) -> None:
        self.action_reload()

    def action_assign(self) -> None:
        """Assign a visit to this referral (the assignment screen opens over this one)."""
        self.app.action_assign_visit(self.key)  # type: ignore[attr-defined]

    def action_back(self) -> None:
        self.dismiss(None)
