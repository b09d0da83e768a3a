"""former communes: the district a former commune was in, successors by commune

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: former communes are loaded with the district they were in."""
    with op.batch_alter_table("former_area", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "former_district",
                sa.String(length=120),
                nullable=True,
                comment="for a commune, the district it was in, e.g. 'Huyện Ninh Sơn'",
            )
        )
    with op.batch_alter_table("former_area_successor", schema=None) as batch_op:
        batch_op.create_index("ix_former_area_successor_area_id", ["area_id"], unique=False)


def downgrade() -> None:
    """Revert this revision: former communes go with the column (they are reloaded as needed)."""
    with op.batch_alter_table("former_area_successor", schema=None) as batch_op:
        batch_op.drop_index("ix_former_area_successor_area_id")
    op.execute("DELETE FROM former_area WHERE level = 'commune'")
    with op.batch_alter_table("former_area", schema=None) as batch_op:
        batch_op.drop_column("former_district")
