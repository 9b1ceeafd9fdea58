"""Intake: a referral typed at one desk, with the keyboard, reaches every desk's board; bad
fields are marked as they are left; the hub's refusals lose nothing; existing patients are
offered. Real desks on a real hub (the `fixed_hub` fixture), no stand-ins."""

from __future__ import annotations

from typing import Any

from messaging.protocol import REFERRAL
from models.nhs import format_nhs_number
from screens.forms import uk_date
from screens.intake import IntakeScreen
from screens.prompts import ConfirmPrompt
from screens.widgets.board import ReferralBoard
from tests.conftest import RunningHub, desk_app
from tests.screens.coordinator import (
    SIZE,
    board_ready,
    error_beside,
    field,
    nhs_number,
    shown,
    type_text,
    until,
)


async def open_intake(pilot: Any) -> IntakeScreen:
    await board_ready(pilot)
    await pilot.press("n")
    return await until(
        pilot, lambda: isinstance(pilot.app.screen, IntakeScreen) and pilot.app.screen
    )


async def fill(pilot: Any, name: str, text: str) -> None:
    """Put the cursor in one field, type, and leave it with tab."""
    field(pilot.app, name).focus()
    await pilot.pause()
    await type_text(pilot, text)
    await pilot.press("tab")


async def choose_source_and_teams(pilot: Any) -> None:
    """Pick the first source (GP) and the first team with the keyboard."""
    pilot.app.screen.query_one("#intake-source").focus()
    await pilot.press("enter", "down", "enter")
    pilot.app.screen.query_one("#intake-needs").focus()
    await pilot.press("space")


def seeded_patient(app: Any) -> dict[str, Any]:
    """A patient on the seeded board who has an NHS number and a date of birth."""
    for key, body in sorted(app.replica.data.items()):
        patient = (body.get("patient") or {}) if key.startswith(REFERRAL) else {}
        if patient.get("nhs_number") and patient.get("date_of_birth"):
            return patient
    raise AssertionError("the seed has no such patient")


async def test_a_referral_typed_with_the_keyboard_reaches_a_second_desk(
    fixed_hub: RunningHub,
) -> None:
    async with (
        desk_app(fixed_hub, desk_id="desk-b") as other,
        other.run_test(size=SIZE) as other_pilot,
    ):
        other_board = await board_ready(other_pilot)
        async with desk_app(fixed_hub, desk_id="desk-a") as app, app.run_test(size=SIZE) as pilot:
            await open_intake(pilot)
            number = nhs_number(1201)
            # In the order of a phone call; tab moves on and each field is checked as it is left.
            for text in ("Edna Newcomer", "02/04/1938", number, "12 Granby Street, Leicester"):
                await type_text(pilot, text)
                await pilot.press("tab")
            for text in ("le15ww", "0116 496 0000", "Key safe 1234 by the back door"):
                await type_text(pilot, text)
                await pilot.press("tab")
            await pilot.press("enter", "down", "enter", "tab")  # source: GP
            for text in ("Dr A. Shah", "0116 496 0001", "Fall at home, cannot get up"):
                await type_text(pilot, text)
                await pilot.press("tab")
            await pilot.press("space", "down", "space", "tab")  # needs: CRT and NUR
            assert not app.screen.errors
            await pilot.press("ctrl+s")
            await until(pilot, lambda: not isinstance(app.screen, IntakeScreen))
            logged = await until(
                pilot, lambda: [n.message for n in app._notifications if "logged" in n.message]
            )
            assert logged
            assert logged[0].startswith("Referral ")
            referral_id = int(logged[0].split()[1])

        key = f"{REFERRAL}{referral_id}"
        await until(other_pilot, lambda: key in other_board.order)
        assert str(other_board.get_cell(key, "name")) == "Edna Newcomer"
        assert str(other_board.get_cell(key, "nhs")) == format_nhs_number(number)
        assert str(other_board.get_cell(key, "needs")) == "CRT NUR"
    body = (await fixed_hub.call("get_referral", {"referral_id": referral_id}))["referral"]
    assert body["patient"]["postcode"] == "LE1 5WW"
    assert body["patient"]["date_of_birth"] == "1938-04-02"
    assert body["patient"]["access_notes"] == "Key safe 1234 by the back door"
    assert body["source"] == "gp"
    assert body["priority"] == "crisis"
    assert body["referrer_name"] == "Dr A. Shah"


async def test_a_bad_nhs_number_is_marked_beside_its_field_and_submit_is_refused(
    fixed_hub: RunningHub,
) -> None:
    before = len((await fixed_hub.call("list_referrals", {}))["referrals"])
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await fill(pilot, "name", "Walter Wrongnumber")
        bad = nhs_number(1300, valid=False)
        await fill(pilot, "nhs_number", bad)
        assert "fails its check digit" in error_beside(app, "nhs_number")
        assert "check digit" in shown(app)
        await fill(pilot, "postcode", "not a postcode")
        assert "not a valid UK postcode" in error_beside(app, "postcode")
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert app.screen is screen
        assert "Not sent" in str(screen.query_one("#intake-problem").render())
        assert set(screen.errors) >= {"nhs_number", "postcode", "reason", "source", "needs"}
        # correcting the number clears its message as it is typed
        field(app, "nhs_number").value = nhs_number(1300)
        await pilot.pause()
        assert error_beside(app, "nhs_number") == ""
    after = len((await fixed_hub.call("list_referrals", {}))["referrals"])
    assert after == before


async def test_a_refusal_from_the_hub_keeps_the_form_filled_and_names_the_field(
    fixed_hub: RunningHub,
) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        taken = seeded_patient(app)["nhs_number"]  # somebody else's number: the hub refuses
        await fill(pilot, "name", "Someone Else")
        await fill(pilot, "nhs_number", taken)
        await fill(pilot, "reason", "Carer admitted to hospital")
        await choose_source_and_teams(pilot)
        await pilot.press("ctrl+s")
        message = await until(pilot, lambda: error_beside(app, "nhs_number"))
        assert "NHS number already belongs to" in message
        assert app.screen is screen
        assert "The hub refused" in str(screen.query_one("#intake-problem").render())
        assert field(app, "name").value == "Someone Else"
        assert field(app, "reason").value == "Carer admitted to hospital"
        assert field(app, "nhs_number").value == taken
        assert app.focused is field(app, "nhs_number")


async def test_an_existing_patient_is_offered_and_used_instead_of_retelling(
    fixed_hub: RunningHub,
) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        patient = seeded_patient(app)
        # by name and date of birth
        await fill(pilot, "name", patient["name"])
        await fill(pilot, "date_of_birth", uk_date(patient["date_of_birth"]))
        matches = screen.query_one("#intake-matches")
        await until(pilot, lambda: matches.display and matches.option_count)
        offer = f"Use existing patient: {patient['name']}, {uk_date(patient['date_of_birth'])}"
        assert str(matches.get_option_at_index(0).prompt).startswith(offer)
        # by NHS number
        screen.show_matches([])  # forget the first offer
        await fill(pilot, "nhs_number", patient["nhs_number"])
        await until(pilot, lambda: matches.display and matches.option_count == 1)
        assert offer in shown(app)
        matches.focus()
        await pilot.press("enter")
        assert screen.patient_id == patient["id"]
        assert field(app, "address").disabled
        assert "Using existing patient" in shown(app)
        await fill(pilot, "reason", "Second fall this week")
        await choose_source_and_teams(pilot)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, IntakeScreen))
        board = app.query_one(ReferralBoard)
        mine = await until(
            pilot,
            lambda: [
                key
                for key, body in app.replica.data.items()
                if key.startswith(REFERRAL)
                and body.get("reason") == "Second fall this week"
                and key in board.order
            ],
        )
        assert app.replica.data[mine[0]]["patient"]["id"] == patient["id"]


async def test_escape_asks_before_throwing_away_what_was_typed(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await pilot.press("escape")  # nothing typed: closes at once
        await until(pilot, lambda: not isinstance(app.screen, IntakeScreen))
        screen = await open_intake(pilot)
        await type_text(pilot, "Half a name")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmPrompt))
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen)
        assert field(app, "name").value == "Half a name"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmPrompt))
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, (IntakeScreen, ConfirmPrompt)))


async def test_hostile_text_in_the_form_is_shown_literally(fixed_hub: RunningHub) -> None:
    hostile = "[b]x[/b] [TODO] [@click=app.quit]y"
    async with desk_app(fixed_hub) as app, app.run_test(size=(120, 30)) as pilot:
        await open_intake(pilot)
        await fill(pilot, "name", hostile)
        await fill(pilot, "postcode", "[red]LE1[/red]")
        assert app.is_running
        assert hostile in shown(app)
        assert "[red]LE1[/red] is not" in error_beside(app, "postcode") or "letters and digits" in (
            error_beside(app, "postcode")
        )


async def test_a_resubmit_after_the_hub_did_not_answer_logs_one_referral(
    fixed_hub: RunningHub,
) -> None:
    name = "Ivy Onceonly"
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        ids: list[str | None] = []
        call = app.commands.call

        async def spy(command: str, args: Any = None, **kwargs: Any) -> Any:
            if command == "create_referral":
                ids.append(kwargs.get("command_id"))
            return await call(command, args, **kwargs)

        app.commands.call = spy  # type: ignore[method-assign]
        await fill(pilot, "name", name)
        await fill(pilot, "reason", "Fall at home")
        await choose_source_and_teams(pilot)
        app.commands._timeout = 0.3  # give up on the stopped hub quickly
        fixed_hub.stop()
        await pilot.press("ctrl+s")
        problem = screen.query_one("#intake-problem")
        await until(pilot, lambda: "did not answer" in str(problem.render()))
        assert app.screen is screen
        await fixed_hub.astart()
        app.commands._timeout = 5.0
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, IntakeScreen))
    assert len(ids) == 2
    assert ids[0] is not None
    assert ids[0] == ids[1]
    referrals = (await fixed_hub.call("list_referrals", {"limit": 1000}))["referrals"]
    mine = [r for r in referrals if (r.get("patient") or {}).get("name") == name]
    assert len(mine) == 1


async def test_a_changed_form_after_no_answer_is_a_new_submission() -> None:
    screen = IntakeScreen()
    first = screen._command_id_for({"reason": "a"})
    assert screen._command_id_for({"reason": "a"}) == first  # unanswered, unchanged: same id
    second = screen._command_id_for({"reason": "b"})
    assert second != first
    screen._forget_command()
    assert screen._command_id_for({"reason": "b"}) != second
