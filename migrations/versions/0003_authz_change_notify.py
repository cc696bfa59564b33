"""Writes that change principals or credentials NOTIFY ``agentry_authz``.

API processes cache authenticated actors for a few seconds and LISTEN on this channel to drop
them (backend/authz/changes.py, whose ``WATCHED`` table must match this one).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (whether INSERT matters, columns whose UPDATE matters (None: any)); DELETE always does
WATCHED: dict[str, tuple[bool, tuple[str, ...] | None]] = {
    "memberships": (True, None),
    "agent_grants": (True, None),
    "agents": (True, ("created_by_id", "organization_id")),
    "deployments": (True, ("agent_id",)),
    "users": (False, ("disabled_at",)),
    "sessions": (False, ("revoked_at", "expires_at", "user_id")),
    "api_keys": (False, ("revoked_at", "expires_at", "scopes", "user_id", "organization_id")),
}


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION agentry_authz_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('agentry_authz', TG_TABLE_NAME);
            RETURN NULL;
        END $$;
        """
    )
    for table, (on_insert, columns) in WATCHED.items():
        events = ["INSERT"] if on_insert else []
        events.append("UPDATE" if columns is None else "UPDATE OF " + ", ".join(columns))
        events += ["DELETE", "TRUNCATE"]
        op.execute(
            f"CREATE TRIGGER {table}_authz_changed AFTER {' OR '.join(events)} "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION agentry_authz_changed()"
        )


def downgrade() -> None:
    for table in WATCHED:
        op.execute(f"DROP TRIGGER {table}_authz_changed ON {table}")
    op.execute("DROP FUNCTION agentry_authz_changed()")
