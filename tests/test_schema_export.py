"""The committed SDL is exactly what ``agentry export-schema`` prints."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from agentry.cli import app

SCHEMA = Path(__file__).resolve().parents[1] / "graph" / "schema.graphql"


def test_export_schema_matches_committed_sdl() -> None:
    result = CliRunner().invoke(app, ["export-schema"])
    assert result.exit_code == 0, result.output
    assert result.stdout == SCHEMA.read_text(), "run `make schema` and commit graph/schema.graphql"
