"""Programmatic Alembic: used by ``agentry migrate``, ``agentry up`` and the tests.

Alembic is imported inside the functions: importing it costs most of a second, and most
starts have nothing to migrate (see :mod:`backend.schema_version`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from backend.schema_version import head_revision

__all__ = ["alembic_config", "check", "downgrade", "head_revision", "upgrade"]

if TYPE_CHECKING:
    from alembic.config import Config

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Raises when the models and the migrations disagree."""
    from alembic import command

    command.check(alembic_config(url))
