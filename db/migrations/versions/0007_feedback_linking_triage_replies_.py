"""feedback linking, triage, replies, reactions, polls and attendance

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 20:21:08.132439
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "poll",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="pollstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "broadcast_id", sa.Integer(), nullable=True, comment="the broadcast that asked it"
        ),
        sa.Column(
            "created_by", sa.String(length=64), nullable=False, comment="staff:<id> or cli:<user>"
        ),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "closes_at",
            db.base.UTCDateTime(timezone=True),
            nullable=True,
            comment="closed by itself at this time",
        ),
        sa.Column("closed_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcast.id"],
            name=op.f("fk_poll_broadcast_id_broadcast"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll")),
    )
    op.create_table(
        "reaction",
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column(
            "value",
            sa.Enum("useful", "unclear", name="reactionvalue", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "area_id", sa.Integer(), nullable=True, comment="the member's commune when they reacted"
        ),
        sa.Column("at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=op.f("fk_reaction_area_id_area")),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcast.id"],
            name=op.f("fk_reaction_broadcast_id_broadcast"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_reaction_subscriber_id_subscriber"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "subscriber_id", name=op.f("pk_reaction")),
    )
    with op.batch_alter_table("reaction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reaction_subscriber_id"), ["subscriber_id"], unique=False
        )

    op.create_table(
        "feedback_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column(
            "author", sa.String(length=64), nullable=False, comment="staff:<id> or cli:<user>"
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sent_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "broadcast_id", sa.Integer(), nullable=True, comment="the message of one that bore it"
        ),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcast.id"],
            name=op.f("fk_feedback_reply_broadcast_id_broadcast"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_feedback_reply_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_feedback_reply_staff_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_reply")),
    )
    with op.batch_alter_table("feedback_reply", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_reply_feedback_id"), ["feedback_id"], unique=False
        )

    op.create_table(
        "poll_answer",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.Integer(), nullable=False, comment="the option's index, from 0"),
        sa.Column(
            "area_id",
            sa.Integer(),
            nullable=True,
            comment="the member's commune when they answered",
        ),
        sa.Column("answered_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=op.f("fk_poll_answer_area_id_area")),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll.id"], name=op.f("fk_poll_answer_poll_id_poll"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_poll_answer_subscriber_id_subscriber"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("poll_id", "subscriber_id", name=op.f("pk_poll_answer")),
    )
    with op.batch_alter_table("poll_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_poll_answer_subscriber_id"), ["subscriber_id"], unique=False
        )

    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reactions",
                sa.Boolean(),
                server_default=sa.true(),
                nullable=False,
                comment="carries the one-tap reactions (Hữu ích / Chưa rõ) under the message",
            )
        )

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum("message", "difficulty", name="feedbackkind", native_enum=False, length=32),
                server_default="message",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "broadcast_id",
                sa.Integer(),
                nullable=True,
                comment=(
                    "the broadcast it answers: replied to, or the last one received shortly before"
                ),
            )
        )
        batch_op.add_column(
            sa.Column(
                "area_id",
                sa.Integer(),
                nullable=True,
                comment="the member's commune when it was sent",
            )
        )
        batch_op.add_column(
            sa.Column(
                "category",
                sa.String(length=16),
                nullable=True,
                comment="the difficulty's category, as the member chose it",
            )
        )
        batch_op.add_column(
            sa.Column(
                "topic", sa.String(length=32), nullable=True, comment="given by the triage rules"
            )
        )
        batch_op.add_column(
            sa.Column(
                "flags",
                sa.JSON(),
                server_default="[]",
                nullable=False,
                comment="triage flags: abusive, sensitive",
            )
        )
        batch_op.add_column(
            sa.Column(
                "flagged",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
                comment="has flags: shown first, staff told at once",
            )
        )
        batch_op.add_column(
            sa.Column(
                "photo", sa.String(length=500), nullable=True, comment="the platform's file id"
            )
        )
        batch_op.add_column(
            sa.Column(
                "assigned_to_id", sa.Integer(), nullable=True, comment="the officer who takes it"
            )
        )
        batch_op.add_column(
            sa.Column(
                "answered_at",
                db.base.UTCDateTime(timezone=True),
                nullable=True,
                comment="the first reply from staff",
            )
        )
        batch_op.add_column(
            sa.Column("closed_at", db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_feedback_area_id"), ["area_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_feedback_broadcast_id"), ["broadcast_id"], unique=False
        )
        batch_op.create_index(
            "ix_feedback_inbox", ["status", "flagged", "received_at"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_feedback_broadcast_id_broadcast"),
            "broadcast",
            ["broadcast_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_feedback_area_id_area"), "area", ["area_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_feedback_assigned_to_id_staff"),
            "staff",
            ["assigned_to_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("training_registration", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "attended_at",
                db.base.UTCDateTime(timezone=True),
                nullable=True,
                comment="marked present from the returned attendance sheet",
            )
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("training_registration", schema=None) as batch_op:
        batch_op.drop_column("attended_at")

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_feedback_assigned_to_id_staff"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_feedback_area_id_area"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_feedback_broadcast_id_broadcast"), type_="foreignkey"
        )
        batch_op.drop_index("ix_feedback_inbox")
        batch_op.drop_index(batch_op.f("ix_feedback_broadcast_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_area_id"))
        batch_op.drop_column("closed_at")
        batch_op.drop_column("answered_at")
        batch_op.drop_column("assigned_to_id")
        batch_op.drop_column("photo")
        batch_op.drop_column("flagged")
        batch_op.drop_column("flags")
        batch_op.drop_column("topic")
        batch_op.drop_column("category")
        batch_op.drop_column("area_id")
        batch_op.drop_column("broadcast_id")
        batch_op.drop_column("kind")

    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_column("reactions")

    with op.batch_alter_table("poll_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poll_answer_subscriber_id"))

    op.drop_table("poll_answer")
    with op.batch_alter_table("feedback_reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_reply_feedback_id"))

    op.drop_table("feedback_reply")
    with op.batch_alter_table("reaction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reaction_subscriber_id"))

    op.drop_table("reaction")
    op.drop_table("poll")
