"""Configuration and listing validation, hashing and structured diffs (no database)."""

from __future__ import annotations

import uuid

import pytest

from backend.agents.schemas import AgentConfig, parse_model, validate_config, validate_listing
from backend.agents.versioning import FieldChange, config_hash, diff_configs
from backend.errors import Invalid

LISTING = {"name": "Helper", "slug": "helper"}


@pytest.mark.parametrize(
    "model",
    [
        "offline",
        "openai:gpt-4o-mini",
        "anthropic:claude-sonnet-4-5",
        f"integration:{uuid.uuid4()}",
        f"integration:{uuid.uuid4()}/llama3.1:8b",
    ],
)
def test_known_models_are_accepted(model: str) -> None:
    assert validate_config({"model": model}).model == model


@pytest.mark.parametrize(
    "model",
    ["", "gpt-4", "mistral:large", "openai:", "integration:not-a-uuid", "offline:x", "openai:bad model"],
)
def test_unknown_models_are_bad_input(model: str) -> None:
    with pytest.raises(Invalid) as err:
        validate_config({"model": model})
    assert err.value.field == "model"


def test_parse_model_integration_ref() -> None:
    ident = uuid.uuid4()
    ref = parse_model(f"integration:{ident}/qwen2")
    assert (ref.provider, ref.integration_id, ref.name) == ("integration", ident, "qwen2")


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"instructions": "x" * 32_001}, "instructions"),
        ({"model_settings": {"temperature": 2.5}}, "modelSettings.temperature"),
        ({"model_settings": {"top_p": 0}}, "modelSettings.topP"),
        ({"limits": {"max_steps": 0}}, "limits.maxSteps"),
        ({"limits": {"max_run_seconds": 99_999}}, "limits.maxRunSeconds"),
        ({"memory": {"history_token_budget": -1}}, "memory.historyTokenBudget"),
        ({"handoffs": ["nope"]}, "handoffs.0"),
        ({"tools": [{"integration_id": str(uuid.UUID(int=1)), "tools": []}]}, "tools.0.tools"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_out_of_bounds_config_names_the_field(config: dict, field: str) -> None:
    with pytest.raises(Invalid) as err:
        validate_config(config)
    assert err.value.field == field
    assert err.value.code == "BAD_USER_INPUT"


def test_duplicate_bindings_and_handoffs_are_refused() -> None:
    ident = str(uuid.uuid4())
    with pytest.raises(Invalid):
        validate_config({"tools": [{"integration_id": ident}, {"integration_id": ident}]})
    with pytest.raises(Invalid):
        validate_config({"handoffs": [ident, ident]})


def test_defaults_are_sane() -> None:
    config = AgentConfig()
    assert config.model == "offline"
    assert config.limits.max_steps == 10 and config.limits.max_run_seconds == 120
    assert config.memory.enabled is True


@pytest.mark.parametrize(
    ("listing", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"slug": "Has Spaces"}, "slug"),
        ({"slug": "-dash"}, "slug"),
        ({"description": "d" * 2001}, "description"),
        ({"tags": [f"t{i}" for i in range(11)]}, "tags"),
        ({"tags": ["x" * 41]}, "tags.0"),
    ],
)
def test_bad_listing_fields(listing: dict, field: str) -> None:
    with pytest.raises(Invalid) as err:
        validate_listing({**LISTING, **listing})
    assert err.value.field == field


def test_listing_normalises_whitespace_and_tags() -> None:
    listing = validate_listing(
        {**LISTING, "name": "  Trip   planner ", "tags": ["Travel", "travel", " Japan "]}
    )
    assert listing.name == "Trip planner"
    assert listing.tags == ["travel", "japan"]


def test_hash_is_canonical() -> None:
    a = {"model": "offline", "limits": {"max_steps": 3, "max_tokens": 100}}
    b = {"limits": {"max_tokens": 100, "max_steps": 3}, "model": "offline"}
    assert config_hash(a) == config_hash(b)
    assert config_hash(a) != config_hash({**a, "model": "openai:gpt-4o"})


def test_diff_reports_field_and_element_changes() -> None:
    i1, i2, d1, d2 = (str(uuid.uuid4()) for _ in range(4))
    before = validate_config(
        {
            "instructions": "old",
            "tools": [{"integration_id": i1, "tools": ["query"]}],
            "handoffs": [d1],
        }
    ).stored()
    after = validate_config(
        {
            "instructions": "new",
            "model_settings": {"temperature": 0.1},
            "tools": [{"integration_id": i1, "tools": ["query", "list_tables"]}, {"integration_id": i2}],
            "handoffs": [d2],
        }
    ).stored()
    changes = diff_configs(before, after)
    assert FieldChange("instructions", "changed", "old", "new") in changes
    assert FieldChange("modelSettings.temperature", "changed", 0.7, 0.1) in changes
    assert FieldChange(f"tools[{i1}].tools", "added", after="list_tables") in changes
    assert FieldChange(f"tools[{i2}]", "added", after={"integrationId": i2, "tools": None}) in changes
    assert FieldChange("handoffs", "removed", before=d1) in changes
    assert FieldChange("handoffs", "added", after=d2) in changes
    assert len(changes) == 6
    assert diff_configs(after, after) == []
