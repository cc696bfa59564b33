"""Folding ``runEvents`` into the streamed answer (``state.run_events``), with the API's event shapes."""

from __future__ import annotations

from typing import Any

from agentry_web.api.marketplace import split_icon
from agentry_web.state import run_events
from agentry_web.state.session import safe_next


def ev(seq: int, type: str, kind: str = "", **data: Any) -> dict[str, Any]:
    return {"seq": seq, "type": type, "kind": kind, "data": data}


def fold(*events: dict[str, Any]) -> run_events.LiveAnswer:
    answer = run_events.LiveAnswer()
    for event in events:
        run_events.apply(answer, event)
    return answer


def test_deltas_stream_then_the_persisted_message_and_done_settle_it() -> None:
    answer = fold(
        ev(1, "status", status="QUEUED"),
        ev(2, "status", status="RUNNING", attempt=1),
        ev(2, "message", "delta", delta="echo: "),  # deltas repeat the last persisted seq
        ev(2, "message", "delta", delta="hi"),
    )
    assert (answer.content, answer.status, answer.done) == ("echo: hi", "RUNNING", False)
    run_events.apply(answer, ev(3, "message", role="assistant", content="echo: hi (0 earlier messages)"))
    run_events.apply(answer, ev(4, "status", status="SUCCEEDED", reason=None))
    run_events.apply(
        answer, ev(5, "done", status="SUCCEEDED", output="echo: hi (0 earlier messages)", error=None)
    )
    assert answer.content == "echo: hi (0 earlier messages)"
    assert (answer.status, answer.done, answer.error, answer.last_seq) == ("SUCCEEDED", True, "", 5)


def test_reset_drops_partial_text_and_replayed_events_are_skipped() -> None:
    answer = fold(ev(2, "message", "delta", delta="partial"), ev(2, "message", "reset"))
    assert answer.content == ""
    answer = fold(ev(3, "message", content="full"), ev(3, "message", content="again"))
    assert answer.content == "full"


def test_failure_keeps_the_error_of_done_not_the_terminal_status() -> None:
    answer = fold(
        ev(3, "status", status="FAILED", reason="model_error"),
        ev(
            4,
            "done",
            status="FAILED",
            output=None,
            error="Model error: the model broke",
            reason="model_error",
        ),
    )
    assert (answer.status, answer.error, answer.done) == ("FAILED", "Model error: the model broke", True)


def test_tool_call_and_result_fold_into_one_collapsible_step() -> None:
    answer = fold(
        ev(3, "step", "model_request", step=1),
        ev(5, "step", "tool_call", step=1, tool_call_id="c1", tool_name="lookup", args={"q": "tea"}),
        ev(
            6,
            "step",
            "tool_result",
            step=1,
            tool_call_id="c1",
            tool_name="lookup",
            content="found",
            is_error=False,
        ),
        ev(7, "step", "tool_call", step=2, tool_call_id="c2", tool_name="handoff_support_triage", args={}),
    )
    assert [(s.kind, s.title, s.status) for s in answer.steps] == [
        ("tool", "Used lookup", "done"),
        ("handoff", "Handed off to support-triage", "running"),
    ]
    assert "Input:" in answer.steps[0].detail and "Result:\nfound" in answer.steps[0].detail


def test_redacted_steps_still_show_that_a_tool_was_used() -> None:
    answer = fold(ev(5, "step", "tool_call", step=1), ev(6, "step", "tool_result", step=1))
    assert [(s.title, s.detail) for s in answer.steps] == [("Used a tool", "")]


def test_icons_are_lucide_names_or_emoji() -> None:
    assert split_icon("life-buoy") == ("life-buoy", "")
    assert split_icon("🧭") == ("", "🧭")
    assert split_icon(None) == ("", "")


def test_next_paths_stay_on_this_site() -> None:
    assert safe_next("/chat/1?x=2") == "/chat/1?x=2"
    for hostile in ("//evil.example", "https://evil.example", "/\\evil", "", None):
        assert safe_next(hostile) == "/marketplace"
