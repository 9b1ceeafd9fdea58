"""Realistic synthetic data for the demo hub, shaped like Leicester's crisis response service.

About 550 referrals a month, a 2-hour response for most, 40% joint visits, 75% staying at
home; 30 staff on early, late and night shifts; a board of live referrals in every clock
state. Deterministic: everything comes from `random.Random(seed)` and the `now` passed in.
NHS numbers come only from the 999 test range; phone numbers from Ofcom's drama ranges.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert
from sqlalchemy import text as sql
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from messaging.protocol import referral_key, staff_key, visit_key
from models.clock import RESPONSE_WINDOW
from models.enums import Outcome, ReferralSource, StaffRole, StaffStatus, TeamCode
from models.nhs import nhs_check_digit
from models.tables import AuditEvent, Note, Patient, Referral, Shift, Staff, Team, Visit, VisitStaff

LONDON = ZoneInfo("Europe/London")
DESK = "demo-desk-1"
_M = timedelta(minutes=1)


def _rows(text: str) -> list[list[str]]:
    """Rows of a table written as text: one a line (or "; " between), fields split by "|"."""
    lines = text.strip().replace("; ", "\n").splitlines()
    return [line.split("|") for line in lines]


# name | team | role; the first is the demo desk's own user (staff id 1)
_STAFF_ROWS = _rows("""
Alex Morgan|CRT|coordinator; Priya Mistry|NUR|coordinator; Marcus Campbell|MH|coordinator
Ruth Clarke|CRT|supervisor; Deepak Lad|CRT|admin; Grace Okafor|CRT|liaison
Liam O'Connor|REA|liaison; Imran Hussain|CRT|clinician; Sian Davies|CRT|clinician
Tomasz Nowak|CRT|clinician; Harpreet Kaur|CRT|clinician; Chloe Bennett|CRT|clinician
Kwame Mensah|NUR|clinician; Fatima Ali|NUR|clinician; Jack Thompson|NUR|clinician
Aisha Begum|NUR|clinician; Megan Hughes|NUR|clinician; Sunita Parmar|THY|clinician
Oliver Grant|THY|clinician; Ewa Kowalska|THY|clinician; Callum Reid|THY|clinician
Zainab Osman|MH|clinician; Hannah Shaw|MH|clinician; Rajesh Chauhan|MH|clinician
Siobhan Byrne|MH|clinician; Nadia Rahman|REA|clinician; Sophie Turner|REA|clinician
Yusuf Patel|REA|clinician; Bethany Cole|REA|clinician; Kirsty Walsh|REA|clinician
""")
# weight | female first names | male first names | surnames, by community ("_" is a space)
_NAMES = _rows("""
48|Margaret Dorothy Joan Patricia Jean Sheila Brenda Eileen Valerie Irene Barbara Maureen\
|Harold Kenneth Ronald Dennis Brian Derek Roy Peter Keith Raymond Gordon Alan|Smith Jones Taylor \
Brown Wilson Walker Wright Robinson Thompson White Hughes Edwards Green Hall Wood Harris Clarke \
Jackson Turner Hill Cooper Ward Marshall Bailey Orton
20|Pushpa Manjula Hansaben Kantaben Savita Jayshree Bhanumati Kusum Lataben|Ramesh Mahesh Jayant \
Dhirajlal Navinchandra Pravin Kishor Vinod|Patel Mistry Parmar Chauhan Lad Solanki Joshi Mehta \
Shah Lakhani Pandya Thakrar
7|Surjit_Kaur Balwinder_Kaur Harbans_Kaur Kuldip_Kaur Gurmit_Kaur|Gurdev_Singh Jaswant_Singh \
Mohinder_Singh Ajit_Singh Sohan_Singh|Sandhu Gill Dhillon Bains Sidhu Johal
6|Hyacinth Gloria Beverley Pearline Myrtle|Winston Clifton Errol Delroy Lloyd|Campbell Francis \
Henry Williams Reid Gordon Forbes
5|Bridget Mary Kathleen Philomena Nora|Patrick Michael Seamus Declan Eamon|Murphy O'Brien Kelly \
Byrne Doyle Gallagher
8|Amina Fadumo Hawa Khadija Zubeida Rukhsana|Abdi Mohamed Yusuf Ibrahim Abdul Bashir|Hussain Ali \
Osman Mohamud Rahman Ahmed Farah
4|Zofia Halina Krystyna Danuta|Tadeusz Jerzy Stanisław Zbigniew|Nowak Mazur Wójcik Krawczyk
""")
_NAME_WEIGHTS = [int(row[0]) for row in _NAMES]
# district | weight | streets (a locality follows a comma; otherwise the city is Leicester)
_STREETS = {
    d: (int(w), streets.split(";"))
    for d, w, streets in _rows("""
LE1|4|Granby Street;Church Gate;Upper Brown Street
LE2|16|Evington Road;Welford Road;Saffron Lane;London Road;Knighton Lane
LE3|14|Narborough Road;Hinckley Road;Braunstone Lane;Fosse Road South
LE4|16|Belgrave Road;Melton Road;Harrison Road;Thurcaston Road
LE5|14|Uppingham Road;Green Lane Road;Coleman Road;St Saviour's Road
LE7|2|Melton Road, Syston
LE8|2|Lutterworth Road, Blaby
LE9|1|Station Road, Earl Shilton
LE10|1|Castle Street, Hinckley
LE11|1|Ashby Road, Loughborough
LE12|1|Charnwood Road, Shepshed
LE13|1|Scalford Road, Melton Mowbray
LE14|1|Main Street, Asfordby
LE15|1|High Street, Oakham
LE16|1|Northampton Road, Market Harborough
LE17|1|Bitteswell Road, Lutterworth
LE18|3|Bull Head Street, Wigston
LE19|2|Mill Lane, Enderby
""")
}
_DISTRICTS = list(_STREETS)
_DISTRICT_WEIGHTS = [w for w, _ in _STREETS.values()]
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# reason | the team it needs first | teams that may join it on a joint visit | weight
_REASONS = _rows("""
Fall at home, no injury, cannot get up without help|THY|CRT NUR|14
Carer breakdown: husband (main carer) admitted to hospital|CRT|REA NUR|10
Acute confusion, suspected UTI: GP started antibiotics|NUR|CRT MH|12
Unable to cope at home two days after discharge|REA|THY NUR|10
Mental health crisis: low mood, not eating, family worried|MH|CRT NUR|7
Reduced mobility after chest infection, struggling with stairs|THY|REA NUR|8
Blocked catheter, in discomfort|NUR|CRT|6
Lives alone, found wandering at night by neighbour|CRT|MH NUR|6
Leg ulcer dressing overdue, pain increasing|NUR|THY|5
Package of care broke down: agency cannot cover calls|CRT|REA|8
Second fall this week, needs equipment and assessment|THY|CRT REA|7
Distressed and agitated with dementia, wife exhausted|MH|CRT|4
End of life: family need support overnight|NUR|CRT|3
""")
_REASON_WEIGHTS = [int(row[3]) for row in _REASONS]
_SOURCES, _SOURCE_WEIGHTS = list(ReferralSource), [30, 24, 10, 12, 6, 8, 7, 3]
_OUTCOMES, _OUTCOME_WEIGHTS = list(Outcome), [75, 10, 8, 3, 0.6, 3.4]
# one table of short texts: kind | text
_TEXTS = _rows("""
decline|Needs an emergency ambulance: advised to call 999
decline|Not urgent: passed to the district nursing routine list
decline|Already admitted to the Royal Infirmary
decline|Lives outside the hub's area
decline|Patient does not consent to a visit
care|Twice-daily calls until the care package restarts
care|Night sitting for 3 nights
care|Daily nursing review while antibiotics take effect
care|Equipment arriving tomorrow
access|
access|
access|Key safe by front door, code held by CRT
access|Ring twice, hard of hearing
access|Lives alone, daughter visits daily
access|Dog in the house, ask for it to be shut away
access|Flat 3, second floor, no lift
access|Speaks Gujarati, son can interpret
note|Daughter says [b]urgent[/b] — key safe code in notes [TODO]
note|Spoke to son, he will meet the crew at the house
note|GP asked for a call back after the visit
""")
_DECLINES, _CARE_REASONS, _ACCESS, _NOTES = (
    [text for k, text in _TEXTS if k == kind] for kind in ("decline", "care", "access", "note")
)
# local hour of day a referral arrives (most in the working day)
_HOURS = [1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 8, 8, 8, 7, 7, 6, 5, 4, 3, 2, 2, 1]
_SHIFTS = [("early", 8, 0, 14, 30, 0), ("late", 14, 0, 21, 30, 0), ("night", 21, 0, 8, 30, 1)]
_REST = timedelta(hours=10)
_EVENT_COLUMNS = ("at", "command_id", "action", "key", "referral_id", "actor_id", "summary")
# The live board: minutes since received | how far the referral has got. The first four are
# breached, due soon, on track and met; then more of each, crisis care and one missed clock.
_LIVE_TEXT = """
138|triaged; 104|assigned; 52|assigned; 88|arrived; 16|received; 1620|crisis_care
71|travelling; 96|triaged; 34|triaged; 125|assigned; 2940|crisis_care_late; 9|received
112|completed; 3|received
"""
_LIVE = [(int(m), state) for m, state in _rows(_LIVE_TEXT)]


@dataclass(frozen=True)
class DemoSummary:
    teams: int
    staff: int
    referrals_closed: int
    referrals_open: int
    joint_visit_share: float
    stayed_home_share: float
    last_sequence: int


def _local(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=LONDON).astimezone(UTC)


def _hhmm(at: datetime) -> str:
    return at.astimezone(LONDON).strftime("%H:%M")


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k, p = k + 1, p * rng.random()
    return k


def _nhs_number(rng: random.Random, first: int, used: set[str] | None = None) -> str:
    """A valid 999-range number whose fourth digit is `first`..9 (the seed uses 0-4,
    the stream of new arrivals 5-9, so they never collide)."""
    while True:
        nine = f"999{rng.randrange(first * 10**5, (first + 5) * 10**5):06d}"
        check = nhs_check_digit(nine)
        if check is not None and (used is None or nine + str(check) not in used):
            if used is not None:
                used.add(nine + str(check))
            return nine + str(check)


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return f"07700 900{rng.randrange(1000):03d}"
    return f"0116 496 0{rng.randrange(1000):03d}"


def _person(rng: random.Random) -> tuple[str, str]:
    _, female, male, surnames = rng.choices(_NAMES, weights=_NAME_WEIGHTS)[0]
    first = rng.choice((female if rng.random() < 0.6 else male).split()).replace("_", " ")
    return first, rng.choice(surnames.split())


def _patient(rng: random.Random, today: date, nhs_number: str | None) -> dict[str, Any]:
    first, surname = _person(rng)
    age = rng.randint(25, 64) if rng.random() < 0.08 else min(101, max(65, int(rng.gauss(81, 7))))
    district = rng.choices(_DISTRICTS, weights=_DISTRICT_WEIGHTS)[0]
    street = rng.choice(_STREETS[district][1])
    town = "" if "," in street else ", Leicester"
    inward = f"{rng.randrange(10)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
    born = today - timedelta(days=age * 365 + rng.randrange(365))
    return {"name": f"{first} {surname}", "nhs_number": nhs_number, "date_of_birth": born} | {
        "address": f"{rng.randint(1, 180)} {street}{town}",
        "postcode": f"{district} {inward}",
        "phone": _phone(rng),
        "access_notes": rng.choice(_ACCESS),
    }


def _referrer(rng: random.Random, source: ReferralSource, surname: str) -> tuple[str, str]:
    first, other = _person(rng)
    name = {
        "gp": f"Dr {first[0]}. {other} (GP)",
        "ambulance": f"Paramedic {first} {other}, EMAS",
        "emergency_department": f"Sister {other}, LRI Emergency Department",
        "hospital_ward": f"{first} {other}, Ward {rng.randint(1, 40)} discharge team",
        "care_home": f"{first} {other}, care home manager",
        "nhs_111": "NHS 111 clinical advisor",
        "family_or_self": f"{rng.choice(['Daughter', 'Son', 'Wife', 'Neighbour'])} {surname}",
    }.get(source.value, f"{first} {other}, housing support")
    return name, _phone(rng)


def _source(rng: random.Random) -> ReferralSource:
    return rng.choices(_SOURCES, weights=_SOURCE_WEIGHTS)[0]


def _needs(rng: random.Random, joint: bool) -> tuple[str, list[str]]:
    reason, first, partners, _ = rng.choices(_REASONS, weights=_REASON_WEIGHTS)[0]
    return reason, [first] + ([rng.choice(partners.split())] if joint else [])


def demo_referral_args(
    rng: random.Random, now: datetime, *, patient_ids: Sequence[int] = ()
) -> dict[str, Any]:
    """The `args` of a `create_referral` command for a new arrival in the demo's stream.

    With `patient_ids`, about one arrival in eight is a known patient referred again
    (`"patient_id"` instead of `"patient"`). NHS numbers here never clash with the seed's."""
    source = _source(rng)
    reason, needs = _needs(rng, rng.random() < 0.4)
    args: dict[str, Any] = {}
    if patient_ids and rng.random() < 0.125:
        args["patient_id"] = rng.choice(list(patient_ids))
        surname = _person(rng)[1]
    else:
        nhs = None if rng.random() < 0.1 else _nhs_number(rng, 5)
        patient = _patient(rng, now.astimezone(LONDON).date(), nhs)
        args["patient"] = patient | {"date_of_birth": patient["date_of_birth"].isoformat()}
        surname = patient["name"].rsplit(" ", 1)[-1]
    referrer, contact = _referrer(rng, source, surname)
    return (
        args
        | {"source": source.value, "referrer_name": referrer, "reason": reason}
        | {"referrer_contact": contact, "needs": needs, "priority": "crisis"}
    )


def _clinicians_wanted(team: str, kind: str, current: bool) -> int:
    """Clinicians a team puts on a shift: 2 by day and 1 at night (therapy: none), but 3 on
    the shift under way at `now` (therapy at night: 1), so the demo board is well staffed."""
    if kind == "night" and team == TeamCode.THERAPY:
        return int(current)
    if current:
        return 3
    return 1 if kind == "night" else 2


class _Builder:
    """Rows (as dicts, by table) and audit events, built in memory and inserted in bulk."""

    def __init__(self, rng: random.Random, now: datetime, months: int) -> None:
        self.rng, self.now = rng, now
        self.start = now - timedelta(days=round(months * 365.25 / 12))
        self.today = now.astimezone(LONDON).date()
        self.rows: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        self.events: list[tuple[datetime, int, tuple[Any, ...]]] = []
        self.versions: dict[str, list[Any]] = {}  # key -> [version, updated_at, updated_by]
        self.nhs_used: set[str] = set()
        self.shifts: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        self.booked: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        self.status: dict[int, StaffStatus] = {}
        self.closed = 0

    def cid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def ev(
        self,
        at: datetime,
        action: str,
        key: str,
        actor: int,
        summary: str,
        rid: int | None = None,
        *,
        cid: str = "",
        change: bool = True,
    ) -> None:
        cid = cid or self.cid()
        self.events.append((at, len(self.events), (at, cid, action, key, rid, actor, summary)))
        state = self.versions.setdefault(key, [0, at, actor])
        if change:
            state[:] = [state[0] + 1, at, actor]

    def stamp(self, key: str, row: dict[str, Any]) -> dict[str, Any]:
        version, at, actor = self.versions[key]
        return row | {"version": version, "updated_at": at, "updated_by": actor}

    def on_shift(self, pid: int, start: datetime, end: datetime) -> bool:
        return any(s <= start and end <= e for s, e in self.shifts[pid])

    def rested(self, pid: int, start: datetime, end: datetime) -> bool:
        return all(start >= e + _REST or end + _REST <= s for s, e in self.shifts[pid])

    def staff(self) -> None:
        self.teams = {code.value: i for i, code in enumerate(TeamCode, 1)}
        self.rows[Team] = [
            {"id": i, "code": c, "name": TeamCode(c).label} for c, i in self.teams.items()
        ]
        self.people = [(i, n, t, StaffRole(r)) for i, (n, t, r) in enumerate(_STAFF_ROWS, 1)]
        self.clinicians = {
            t: [p[0] for p in self.people if p[2] == t and p[3] == "clinician"] for t in self.teams
        }
        self.coordinators = [p[0] for p in self.people if p[3] == StaffRole.COORDINATOR]
        self.rota()
        districts = _DISTRICTS[:5] * 3 + _DISTRICTS[5:]
        for pid, name, team, role in self.people:
            key, patch = staff_key(pid), ""
            text = f"{name} joined {TeamCode(team).label} as {role}"
            self.ev(self.start - timedelta(days=1), "staff_added", key, 1, text)
            if role == StaffRole.CLINICIAN:
                picked = set(self.rng.sample(districts, self.rng.randint(1, 3)))
                patch = " ".join(sorted(picked, key=lambda d: int(d[2:])))
            on = any(s <= self.now < e for s, e in self.shifts[pid])
            self.status.setdefault(pid, StaffStatus.AVAILABLE if on else StaffStatus.OFF)
            row = {"id": pid, "name": name, "team_id": self.teams[team], "role": role.value}
            self.rows[Staff].append(row | {"patch": patch})
            for start, end in sorted(self.shifts[pid]):
                self.rows[Shift].append({"staff_id": pid, "starts_at": start, "ends_at": end})
                for at, status in ((start, StaffStatus.AVAILABLE), (end, StaffStatus.OFF)):
                    if self.now - timedelta(days=7) <= at <= self.now:
                        self.ev(at, "staff_status_set", key, pid, f"{name} is {status.label}")

    def rota(self) -> None:
        """Early, late and night shifts from a week ago to 3 days ahead, with 10 hours' rest
        between shifts; the shift under way at `now` is filled first (3 per team, and
        Alex Morgan coordinating)."""
        slots = []
        for offset in range(-8, 4):
            day = self.today + timedelta(days=offset)
            for kind, sh, sm, eh, em, next_day in _SHIFTS:
                start, end = _local(day, sh, sm), _local(day + timedelta(days=next_day), eh, em)
                if end > self.now - timedelta(days=7) and start < self.now + timedelta(days=3):
                    slots.append((start, end, kind, day.weekday() < 5))
        current = [s for s in slots if s[0] <= self.now < s[1]]
        order = current + [s for s in slots if s not in current]

        def role(wanted: StaffRole) -> list[int]:
            return [p[0] for p in self.people if p[3] == wanted]

        # slot = (start, end, kind, weekday); demand(slot, under way at now) -> people wanted
        groups: list[tuple[list[int], Any]] = [
            (self.coordinators, lambda s, now: 1),
            (role(StaffRole.LIAISON), lambda s, now: int(s[2] != "night")),
            (
                role(StaffRole.SUPERVISOR),
                lambda s, now: int((s[2] == "early" and s[3]) or (now and s[2] != "night")),
            ),
            (role(StaffRole.ADMIN), lambda s, now: int(s[2] == "early" and s[3])),
        ]
        for team, ids in self.clinicians.items():
            groups.append((ids, lambda s, now, t=team: _clinicians_wanted(t, s[2], now)))
        for members, demand in groups:
            for slot in order:
                start, end = slot[0], slot[1]
                free = [p for p in members if self.rested(p, start, end)]
                free.sort(
                    key=lambda p, first=slot is order[0]: (
                        p != 1 or not first,
                        len(self.shifts[p]),
                        self.rng.random(),
                    )
                )
                for p in free[: demand(slot, slot in current)]:
                    self.shifts[p].append((start, end))

    def patient(self, received: datetime) -> tuple[int, str]:
        if self.rows[Patient] and self.rng.random() < 0.12:
            row = self.rng.choice(self.rows[Patient])
            return row["id"], row["name"]
        nhs = None if self.rng.random() < 0.1 else _nhs_number(self.rng, 0, self.nhs_used)
        row = _patient(self.rng, self.today, nhs)
        row |= {"id": len(self.rows[Patient]) + 1, "updated_at": received, "updated_by": 1}
        self.rows[Patient].append(row)
        return row["id"], row["name"]

    def referral(self, received: datetime, coord: int, joint: bool) -> dict[str, Any]:
        rid, source = len(self.rows[Referral]) + 1, _source(self.rng)
        reason, needs = _needs(self.rng, joint)
        patient_id, name = self.patient(received)
        referrer, contact = _referrer(self.rng, source, name.rsplit(" ", 1)[-1])
        row = {
            "id": rid,
            "patient_id": patient_id,
            "source": source.value,
            "reason": reason,
            "referrer_name": referrer,
            "referrer_contact": contact,
            "needs": needs,
            "priority": "crisis",
            "status": "received",
            "received_at": received,
            "due_at": received + RESPONSE_WINDOW,
            "created_by": coord,
        }
        self.rows[Referral].append(row)
        text = f"Referral received from {source.label}"
        self.ev(received, "referral_created", referral_key(rid), coord, text, rid)
        return row

    def move(self, ref: dict[str, Any], at: datetime, actor: int, action: str, text: str) -> None:
        self.ev(at, action, referral_key(ref["id"]), actor, text, ref["id"])

    def visit(
        self,
        ref: dict[str, Any],
        staff: list[int],
        coord: int,
        planned_event: datetime,
        planned_at: datetime,
        steps: dict[str, datetime],
        duration: int = 60,
        live: bool = False,
    ) -> None:
        vid, rid, cid = len(self.rows[Visit]) + 1, ref["id"], self.cid()
        names = " and ".join(self.people[s - 1][1] for s in staff)
        kind = "Joint visit" if len(staff) > 1 else "Visit"
        text = f"{kind} planned for {_hhmm(planned_at)} with {names}"
        self.ev(planned_event, "visit_planned", visit_key(vid), coord, text, rid, cid=cid)
        self.ev(planned_event, "visit_planned", referral_key(rid), coord, text, rid, cid=cid)
        ref["status"] = "assigned"
        row = {
            "id": vid,
            "referral_id": rid,
            "planned_at": planned_at,
            "status": "planned",
            "duration_minutes": duration,
        }
        for status, column, staff_status, action, text in (
            ("travelling", "set_off_at", StaffStatus.TRAVELLING, "visit_set_off", "set off"),
            ("arrived", "arrived_at", StaffStatus.ON_VISIT, "visit_arrived", "arrived"),
            ("completed", "completed_at", StaffStatus.AVAILABLE, "visit_completed", "completed"),
        ):
            if (at := steps.get(status)) is None:
                break
            row |= {"status": status, column: at}
            cid, text = self.cid(), f"{names} {text}"
            for s in staff if live else ():
                self.status[s] = staff_status
                summary = f"{self.people[s - 1][1]} is {staff_status.label}"
                self.ev(at, action, staff_key(s), s, summary, cid=cid)
            self.ev(at, action, visit_key(vid), staff[0], text, rid, cid=cid)
            if status == "arrived":
                text += f" at {_hhmm(at)} (first face-to-face contact: clock stopped)"
                ref |= {"status": "responded", "responded_at": at}
            if status != "travelling":
                change = status == "arrived"
                self.ev(at, action, referral_key(rid), staff[0], text, rid, cid=cid, change=change)
        self.rows[Visit].append(self.stamp(visit_key(vid), row))
        self.rows[VisitStaff].extend({"visit_id": vid, "staff_id": s} for s in staff)
        for s in staff if live else ():
            self.booked[s].append((planned_at, planned_at + duration * _M))

    def response_minutes(self) -> float:
        """Minutes to first face-to-face contact: 88% within 2 hours, mostly 40-110."""
        if self.rng.random() < 0.88:
            return self.rng.triangular(38, 119, 70)
        return 121 + min(self.rng.expovariate(1 / 35), 150)

    def history(self) -> None:
        rng, end, close_limit = self.rng, self.now - timedelta(hours=6), self.now - 15 * _M
        arrivals = []
        first_day = self.start.astimezone(LONDON).date()
        for offset in range((self.today - first_day).days + 1):
            day = first_day + timedelta(days=offset)
            for _ in range(_poisson(rng, 20.4 if day.weekday() < 5 else 12.3)):
                hour = rng.choices(range(24), weights=_HOURS)[0]
                at = _local(day, hour, rng.randrange(60), rng.randrange(60))
                if self.start <= at <= end:
                    arrivals.append(at)
        for received in sorted(arrivals):
            coord, joint = rng.choice(self.coordinators), rng.random() < 0.4
            response = self.response_minutes() * _M
            arrived, duration = received + response, rng.choice((45, 60, 60, 75, 90))
            completed = arrived + duration * _M
            if completed + 20 * _M > close_limit:
                continue
            ref = self.referral(received, coord, joint)
            if rng.random() < 0.03:
                at, why = received + rng.uniform(4, 25) * _M, rng.choice(_DECLINES)
                ref |= {"status": "declined", "triaged_at": at, "closed_at": at}
                ref["decline_reason"] = why
                self.move(ref, at, coord, "referral_declined", f"Declined: {why}")
                self.rows[Referral][-1] = self.stamp(referral_key(ref["id"]), ref)
                continue
            triaged = received + rng.uniform(2, min(15, response / _M / 3)) * _M
            ref |= {"status": "triaged", "triaged_at": triaged}
            self.move(ref, triaged, coord, "referral_triaged", "Triaged as crisis")
            planned_event = triaged + rng.uniform(1, 6) * _M
            planned_at = max(planned_event + 5 * _M, arrived - rng.randint(-5, 10) * _M)
            set_off = max(arrived - rng.uniform(10, 25) * _M, planned_event + 2 * _M)
            staff = [rng.choice(self.clinicians[t]) for t in ref["needs"]]
            steps = {"travelling": set_off, "arrived": arrived, "completed": completed}
            self.visit(
                ref, staff, coord, planned_event, planned_at.replace(second=0), steps, duration
            )
            after = completed + rng.uniform(2, 20) * _M
            closed = min(arrived + rng.uniform(12, 71.5) * 60 * _M, close_limit)
            if rng.random() < 0.55 and closed > after + 30 * _M:
                why = rng.choice(_CARE_REASONS)
                ref |= {"status": "crisis_care", "care_continues_reason": why}
                self.move(ref, after, staff[0], "crisis_care_began", f"Crisis care began: {why}")
            else:
                closed = min(completed + rng.uniform(10, 180) * _M, close_limit)
            outcome = rng.choices(_OUTCOMES, weights=_OUTCOME_WEIGHTS)[0]
            ref |= {"status": "closed", "closed_at": closed, "outcome": outcome.value}
            self.move(ref, closed, coord, "referral_closed", f"Closed: {outcome.label}")
            if arrived > ref["due_at"] - 30 * _M:  # the hub alerted these at the time
                ref["due_soon_alerted_at"] = ref["due_at"] - 30 * _M
            if arrived > ref["due_at"]:
                ref["breach_alerted_at"] = ref["due_at"]
            self.rows[Referral][-1] = self.stamp(referral_key(ref["id"]), ref)
        self.closed = len(self.rows[Referral])

    def free_clinician(self, team: str, start: datetime, end: datetime) -> int | None:
        ids = [
            p
            for p in self.clinicians[team]
            if self.on_shift(p, start, end)
            and all(end <= s or e <= start for s, e in self.booked[p])
        ]
        return self.rng.choice(ids) if ids else None

    def live(self, count: int) -> None:
        rng, now = self.rng, self.now
        plan = _LIVE[:count] + [
            (rng.randint(1, 95), rng.choice(("received", "triaged")))
            for _ in range(count - len(_LIVE))
        ]
        on_duty = [c for c in self.coordinators if self.on_shift(c, now, now + _M)] or [1]
        for minutes, state in sorted(plan, key=lambda p: -p[0]):
            received = now - (minutes + rng.uniform(-1.5, 1.5)) * _M
            coord, crisis = rng.choice(on_duty), state.startswith("crisis_care")
            joint = state in ("arrived", "crisis_care") or rng.random() < 0.4
            ref = self.referral(received, coord, joint)
            if state != "received":
                triaged = received + min(rng.uniform(3, 8), minutes / 3) * _M
                ref |= {"status": "triaged", "triaged_at": triaged}
                self.move(ref, triaged, coord, "referral_triaged", "Triaged as crisis")
                planned_event = triaged + min(rng.uniform(2, 6), minutes / 3) * _M
                planned_at, steps = now + rng.choice((10, 15, 20, 30, 40)) * _M, {}
                if state == "travelling":
                    planned_at = now + rng.choice((5, 10, 15)) * _M
                    steps = {"travelling": now - rng.uniform(3, 10) * _M}
                elif state in ("arrived", "completed"):
                    arrived = now - (15 if state == "arrived" else 40) * _M
                    planned_at = arrived - 3 * _M
                    steps = {"travelling": arrived - 18 * _M, "arrived": arrived}
                    if state == "completed":
                        steps["completed"] = now - 5 * _M
                elif crisis:
                    arrived = received + (140 if state.endswith("late") else 75) * _M
                    planned_at = arrived - 5 * _M
                    steps = {
                        "travelling": arrived - 20 * _M,
                        "arrived": arrived,
                        "completed": arrived + 60 * _M,
                    }
                staff: list[int] = []
                if state != "triaged":
                    first = min([planned_at, *steps.values()])
                    for team in ref["needs"]:
                        if crisis:
                            staff.append(rng.choice(self.clinicians[team]))
                        elif pick := self.free_clinician(team, first, planned_at + 60 * _M):
                            staff.append(pick)
                if staff:
                    planned_at = planned_at.replace(second=0, microsecond=0)
                    self.visit(ref, staff, coord, planned_event, planned_at, steps, live=not crisis)
                if staff and crisis:
                    why = rng.choice(_CARE_REASONS)
                    ref |= {"status": "crisis_care", "care_continues_reason": why}
                    at = steps["completed"] + 5 * _M
                    self.move(ref, at, staff[0], "crisis_care_began", f"Crisis care began: {why}")
            self.rows[Referral][-1] = self.stamp(referral_key(ref["id"]), ref)
        open_rows = self.rows[Referral][self.closed :]
        for i, text in enumerate(_NOTES[: len(open_rows)]):
            ref = open_rows[(-1 - 2 * i) % len(open_rows)]  # newest first: taken at intake
            at = ref["received_at"] + (now - ref["received_at"]) / 2
            author, rid = ref["created_by"], ref["id"]
            self.rows[Note].append(
                {"referral_id": rid, "author_id": author, "desk": DESK, "at": at, "text": text}
            )
            self.ev(at, "note_added", referral_key(rid), author, text, rid, change=False)


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Core executemany (fast, and keeps the versions given); every row gets every key."""
    table = model.__table__
    keys = sorted({k for row in rows for k in row})
    blank = {k: None if table.c[k].nullable else "" for k in keys}
    for i in range(0, len(rows), 20_000):
        session.execute(insert(table), [blank | row for row in rows[i : i + 20_000]])


def seed_demo(
    engine: Engine, *, seed: int = 7, now: datetime, months: int = 12, open_referrals: int = 14
) -> DemoSummary:
    """Fill an empty, migrated database with a realistic hub: teams, staff and their shifts,
    `months` of closed referrals, and `open_referrals` live ones in every clock state, each
    change with its audit event. Raises ValueError if the database already has staff."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    if months < 0 or open_referrals < 0:
        raise ValueError("months and open_referrals cannot be negative")
    build = _Builder(random.Random(seed), now.astimezone(UTC), months)
    build.staff()
    build.history()
    build.live(open_referrals)
    for row in build.rows[Staff]:
        row |= build.stamp(staff_key(row["id"]), row) | {"status": build.status[row["id"]].value}
    build.rows[AuditEvent] = [
        {"seq": seq, "desk": DESK} | dict(zip(_EVENT_COLUMNS, values, strict=True))
        for seq, (_, _, values) in enumerate(sorted(build.events), 1)
    ]
    with Session(engine) as session:
        if session.exec(select(func.count()).select_from(Staff)).one():
            raise ValueError("seed_demo needs a database with no staff yet")
        existing = {t.code: t.id for t in session.exec(select(Team))}
        if existing and existing != build.teams:
            raise ValueError(f"seed_demo expects the standard teams, found {existing}")
        if existing:  # the migrations already made the hub's five teams
            build.rows[Team] = []
        for model in (Team, Staff, Shift, Patient, Referral, Visit, VisitStaff, Note, AuditEvent):
            if build.rows[model]:
                _insert(session, model, build.rows[model])
        if engine.dialect.name == "postgresql":  # ids were given: move the sequences past them
            for model in (Team, Staff, Shift, Patient, Referral, Visit, Note):
                name = model.__tablename__
                top = f'(SELECT COALESCE(MAX(id), 0) + 1 FROM "{name}")'
                sequence = f"pg_get_serial_sequence('\"{name}\"', 'id')"
                session.execute(sql(f"SELECT setval({sequence}, {top}, false)"))
        session.commit()
    visited = [r for r in build.rows[Referral][: build.closed] if r["status"] == "closed"]
    share = (lambda n: n / len(visited)) if visited else (lambda n: 0.0)
    return DemoSummary(
        teams=len(build.teams),
        staff=len(build.rows[Staff]),
        referrals_closed=build.closed,
        referrals_open=len(build.rows[Referral]) - build.closed,
        joint_visit_share=share(sum(len(r["needs"]) > 1 for r in visited)),
        stayed_home_share=share(sum(r["outcome"] == Outcome.STAYED_AT_HOME for r in visited)),
        last_sequence=len(build.rows[AuditEvent]),
    )
