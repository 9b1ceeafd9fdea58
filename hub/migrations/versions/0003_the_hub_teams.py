"""The hub's five teams (reference data: referral needs and staff refer to them).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here as they were when this migration was written (models.enums.TeamCode).
TEAMS = [
    (1, "CRT", "Crisis response"),
    (2, "NUR", "Community nursing"),
    (3, "THY", "Therapy"),
    (4, "MH", "Mental health"),
    (5, "REA", "Reablement"),
]

team = sa.table("team", sa.column("id", sa.Integer), sa.column("code", sa.String),
                sa.column("name", sa.String))  # fmt: skip


def upgrade() -> None:
    connection = op.get_bind()
    present = {row[0] for row in connection.execute(sa.select(team.c.code))}
    missing = [{"id": i, "code": c, "name": n} for i, c, n in TEAMS if c not in present]
    if missing:
        op.bulk_insert(team, missing)
    if connection.dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('team', 'id'), "
                   "(SELECT COALESCE(MAX(id), 0) + 1 FROM team), false)")  # fmt: skip


def downgrade() -> None:
    op.execute(team.delete().where(team.c.code.in_([c for _, c, _ in TEAMS])))
