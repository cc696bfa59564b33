"""Chat building blocks: messages, collapsible steps, the answer in flight, the composer, the thread list."""

from collections.abc import Callable

import reflex as rx

from agentry_web.components.listing import agent_avatar
from agentry_web.components.markdown import safe_markdown
from agentry_web.state.models import ChatMessage, Step, ThreadItem


def step_item(step: Step) -> rx.Component:
    """A tool call or handoff, collapsed to one line; expanding shows its input and result."""
    return rx.el.details(
        rx.el.summary(
            rx.hstack(
                rx.icon(
                    rx.cond(step.kind == "handoff", "arrow-right-left", "wrench"), size=14, aria_hidden="true"
                ),
                rx.text(step.title, size="1", weight="medium"),
                align="center",
                spacing="2",
                display="inline-flex",
            ),
            cursor="pointer",
        ),
        rx.cond(
            step.detail != "",
            rx.el.pre(step.detail, class_name="step-detail"),
            rx.text("No details.", size="1", color=rx.color("gray", 11)),
        ),
        class_name="run-step",
    )


def steps_list(steps: rx.Var[list[Step]]) -> rx.Component:
    return rx.cond(steps.length() > 0, rx.vstack(rx.foreach(steps, step_item), spacing="1", width="100%"))


def _bubble(*children: rx.Component, mine: rx.Var[bool] | bool) -> rx.Component:
    return rx.box(
        *children,
        padding_x="1rem",
        padding_y="0.6rem",
        border_radius="14px",
        max_width="100%",
        min_width="0",
        background_color=rx.cond(mine, rx.color("indigo", 9), rx.color("gray", 1)),
        color=rx.cond(mine, "white", "inherit"),
        border=rx.cond(mine, "none", f"1px solid {rx.color('gray', 4)}"),
        class_name=rx.cond(mine, "bubble bubble-user", "bubble bubble-agent"),
    )


def assistant_avatar(icon: rx.Var[str], glyph: rx.Var[str], name: rx.Var[str]) -> rx.Component:
    return rx.box(agent_avatar(icon, glyph, name, size="32px"), padding_top="2px")


def failure_note(message: ChatMessage, on_retry: Callable) -> rx.Component:
    return rx.cond(
        message.error != "",
        rx.callout.root(
            rx.callout.icon(rx.icon(rx.cond(message.status == "cancelled", "circle-stop", "triangle-alert"))),
            rx.callout.text(
                message.error,
                rx.cond(
                    message.retry != "",
                    rx.button(
                        "Retry",
                        size="1",
                        variant="soft",
                        on_click=on_retry(message.retry),
                        margin_left="0.75rem",
                    ),
                ),
            ),
            color_scheme=rx.cond(message.status == "cancelled", "gray", "red"),
            size="1",
            role=rx.cond(message.status == "cancelled", "status", "alert"),
        ),
    )


def message_row(
    message: ChatMessage, icon: rx.Var[str], glyph: rx.Var[str], name: rx.Var[str], on_retry: Callable
) -> rx.Component:
    mine = message.role == "user"
    return rx.el.article(
        rx.hstack(
            rx.cond(mine, rx.spacer(), assistant_avatar(icon, glyph, name)),
            rx.vstack(
                rx.text(
                    rx.cond(mine, "You", name),
                    size="1",
                    weight="medium",
                    color=rx.color("gray", 11),
                    class_name="sr-only",
                ),
                steps_list(message.steps),
                rx.cond(
                    message.content != "",
                    _bubble(
                        rx.cond(
                            mine,
                            rx.text(message.content, white_space="pre-wrap", size="3"),
                            safe_markdown(message.content),
                        ),
                        mine=mine,
                    ),
                ),
                failure_note(message, on_retry),
                align=rx.cond(mine, "end", "start"),
                spacing="2",
                max_width=rx.cond(mine, "80%", "calc(100% - 44px)"),
                min_width="0",
            ),
            spacing="3",
            width="100%",
            align="start",
        ),
        class_name=rx.cond(mine, "message message-user", "message message-agent"),
        width="100%",
    )


def typing_dots() -> rx.Component:
    return rx.hstack(
        rx.box(class_name="dot"),
        rx.box(class_name="dot"),
        rx.box(class_name="dot"),
        class_name="typing",
        spacing="1",
        aria_label="The agent is answering",
        role="status",
    )


def live_answer(
    content: rx.Var[str], steps: rx.Var[list[Step]], icon: rx.Var[str], glyph: rx.Var[str], name: rx.Var[str]
) -> rx.Component:
    """The answer while it streams (announced to screen readers as it grows)."""
    return rx.el.article(
        rx.hstack(
            assistant_avatar(icon, glyph, name),
            rx.vstack(
                steps_list(steps),
                rx.cond(
                    content != "",
                    _bubble(safe_markdown(content), mine=False),
                    typing_dots(),
                ),
                spacing="2",
                align="start",
                max_width="calc(100% - 44px)",
                min_width="0",
            ),
            spacing="3",
            width="100%",
            align="start",
        ),
        class_name="message message-agent message-live",
        aria_live="polite",
        aria_busy="true",
        width="100%",
    )


def composer(
    on_submit: Callable,
    streaming: rx.Var[bool],
    stopping: rx.Var[bool],
    on_stop: Callable,
    agent_name: rx.Var[str],
) -> rx.Component:
    """The message box: Enter sends, Shift+Enter adds a line; while an answer streams, Send becomes Stop."""
    return rx.form(
        rx.hstack(
            rx.el.label("Message", html_for="chat-message", class_name="sr-only"),
            rx.text_area(
                id="chat-message",
                name="message",
                placeholder=rx.cond(agent_name != "", "Message " + agent_name + "…", "Message…"),
                enter_key_submit=True,
                auto_height=True,
                rows="1",
                size="3",
                variant="soft",
                color_scheme="gray",
                flex="1",
                max_height="12rem",
                auto_focus=True,
                class_name="composer-input",
            ),
            rx.box(
                rx.cond(
                    streaming,
                    rx.icon_button(
                        rx.box(width="11px", height="11px", border_radius="2px", background="currentColor"),
                        type="button",
                        on_click=on_stop,
                        aria_label="Stop",
                        color_scheme="red",
                        variant="solid",
                        size="3",
                        radius="full",
                        disabled=stopping,
                        id="chat-stop",
                    ),
                    rx.icon_button(
                        rx.icon("arrow-up", size=18),
                        type="submit",
                        aria_label="Send",
                        size="3",
                        radius="full",
                        id="chat-send",
                    ),
                ),
            ),
            align="end",
            spacing="2",
            width="100%",
            padding="0.45rem",
            border=f"1px solid {rx.color('gray', 6)}",
            border_radius="18px",
            background_color=rx.color("gray", 1),
            box_shadow=f"0 2px 10px {rx.color('gray', 4)}",
            class_name="composer",
        ),
        rx.text(
            "Enter to send · Shift+Enter for a new line. Answers can be wrong; check important facts.",
            size="1",
            color=rx.color("gray", 11),
            margin_top="0.5rem",
            text_align="center",
        ),
        on_submit=on_submit,
        reset_on_submit=True,
        width="100%",
    )


def thread_item(
    thread: ThreadItem, current: rx.Var[str], on_rename: Callable, on_delete: Callable
) -> rx.Component:
    selected = thread.id == current
    return rx.hstack(
        rx.link(
            rx.hstack(
                agent_avatar(thread.agent_icon, thread.agent_glyph, thread.agent_name, size="28px"),
                rx.vstack(
                    rx.text(
                        thread.title,
                        size="2",
                        weight=rx.cond(selected, "bold", "regular"),
                        class_name="truncate",
                        width="100%",
                    ),
                    rx.text(
                        thread.agent_name,
                        size="1",
                        color=rx.color("gray", 11),
                        class_name="truncate",
                        width="100%",
                    ),
                    spacing="0",
                    min_width="0",
                    flex="1",
                ),
                spacing="2",
                align="center",
                width="100%",
            ),
            href=f"/chat/{thread.id}",
            underline="none",
            color="inherit",
            display="block",
            aria_current=rx.cond(selected, "page", "false"),
            flex="1",
            min_width="0",
        ),
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(
                    rx.icon("ellipsis", size=16),
                    variant="ghost",
                    color_scheme="gray",
                    size="1",
                    aria_label="Conversation actions: " + thread.title,
                ),
            ),
            rx.menu.content(
                rx.menu.item("Rename", on_select=on_rename(thread.id, thread.title)),
                rx.menu.item("Delete", color="red", on_select=on_delete(thread.id)),
            ),
        ),
        align="center",
        spacing="1",
        padding_x="0.6rem",
        padding_y="0.45rem",
        border_radius="8px",
        background_color=rx.cond(selected, rx.color("indigo", 3), "transparent"),
        _hover={"background_color": rx.cond(selected, rx.color("indigo", 4), rx.color("gray", 3))},
        width="100%",
    )
