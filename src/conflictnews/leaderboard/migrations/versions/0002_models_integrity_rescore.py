"""One row per model, integrity flags, gap-free rescoring, counted upload failures.

* submissions: model_version, model_key (team + model name + declared version, per user),
  predictions_sha256 and row_digests (duplicate and near-duplicate checks), flags;
* evaluations: generation (a rescore writes a new one; unique per submission, version, generation);
* scores: counts (the per-article count table for the paired tie test);
* version_states: the published and target generation of each dataset version;
* upload_failures: rejected uploads, for the hourly cap.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("model_version", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("model_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("predictions_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("row_digests", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("flags", sa.JSON(), nullable=True))
        batch.create_index(op.f("ix_submissions_model_key"), ["model_key"])
        batch.create_index(op.f("ix_submissions_predictions_sha256"), ["predictions_sha256"])
    with op.batch_alter_table("evaluations") as batch:
        batch.add_column(
            sa.Column("generation", sa.Integer(), nullable=False, server_default="0")
        )
        batch.drop_constraint("uq_evaluations_submission_version", type_="unique")
        batch.create_unique_constraint(
            "uq_evaluations_submission_version_generation",
            ["submission_id", "dataset_version", "generation"],
        )
    with op.batch_alter_table("scores") as batch:
        batch.add_column(sa.Column("counts", sa.JSON(), nullable=True))
    op.create_table(
        "version_states",
        sa.Column("dataset_version", sa.String(length=32), nullable=False),
        sa.Column("published", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("dataset_version", name=op.f("pk_version_states")),
    )
    op.create_table(
        "upload_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_upload_failures_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_failures")),
    )
    op.create_index(op.f("ix_upload_failures_user_id"), "upload_failures", ["user_id"])
    op.create_index(op.f("ix_upload_failures_created_at"), "upload_failures", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_upload_failures_created_at"), table_name="upload_failures")
    op.drop_index(op.f("ix_upload_failures_user_id"), table_name="upload_failures")
    op.drop_table("upload_failures")
    op.drop_table("version_states")
    with op.batch_alter_table("scores") as batch:
        batch.drop_column("counts")
    op.execute("DELETE FROM scores WHERE evaluation_id IN (SELECT id FROM evaluations WHERE generation > 0)")
    op.execute("DELETE FROM evaluations WHERE generation > 0")
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_constraint("uq_evaluations_submission_version_generation", type_="unique")
        batch.create_unique_constraint(
            "uq_evaluations_submission_version", ["submission_id", "dataset_version"]
        )
        batch.drop_column("generation")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_index(op.f("ix_submissions_predictions_sha256"))
        batch.drop_index(op.f("ix_submissions_model_key"))
        batch.drop_column("flags")
        batch.drop_column("row_digests")
        batch.drop_column("predictions_sha256")
        batch.drop_column("model_key")
        batch.drop_column("model_version")
