"""The chat page's dialogs: rename or delete a conversation; what the agent remembers about the viewer."""

import reflex as rx

from agentry_web.components import loading_region, skeleton_lines
from agentry_web.state import ChatState
from agentry_web.state.models import Memory


def rename_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rename conversation"),
            rx.form(
                rx.vstack(
                    rx.el.label(rx.text("Title", size="2", weight="medium"), html_for="thread-title"),
                    rx.input(
                        id="thread-title",
                        name="title",
                        default_value=ChatState.rename_value,
                        size="3",
                        max_length=200,
                        auto_focus=True,
                        key=ChatState.target_id,
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button("Save", type="submit"),
                        justify="end",
                        spacing="2",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=ChatState.save_rename,
            ),
            max_width="28rem",
        ),
        open=ChatState.rename_open,
        on_open_change=ChatState.set_rename_open,
    )


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this conversation?"),
            rx.alert_dialog.description("Its messages are deleted for good.", size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Delete", color_scheme="red", on_click=ChatState.confirm_delete)
                ),
                justify="end",
                spacing="2",
                margin_top="1rem",
            ),
            max_width="28rem",
        ),
        open=ChatState.delete_open,
        on_open_change=ChatState.set_delete_open,
    )


def _memory(memory: Memory) -> rx.Component:
    return rx.hstack(
        rx.text(memory.content, size="2", flex="1"),
        rx.icon_button(
            rx.icon("trash-2", size=14),
            variant="ghost",
            color_scheme="red",
            size="1",
            aria_label="Delete memory: " + memory.content,
            on_click=ChatState.delete_memory(memory.id),
        ),
        align="start",
        width="100%",
        padding="0.6rem",
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="8px",
    )


def memories_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("What " + ChatState.agent_name + " remembers about you"),
            rx.dialog.description(
                "Facts this agent saved across your conversations. Delete any you don't want it to keep.",
                size="2",
                color=rx.color("gray", 11),
            ),
            rx.box(
                rx.cond(
                    ChatState.memories_loading,
                    loading_region(skeleton_lines(3), label="Loading memories"),
                    rx.cond(
                        ChatState.memories.length() > 0,
                        rx.vstack(rx.foreach(ChatState.memories, _memory), spacing="2"),
                        rx.text("Nothing yet.", size="2", color=rx.color("gray", 11)),
                    ),
                ),
                margin_y="1rem",
            ),
            rx.hstack(rx.dialog.close(rx.button("Close", variant="soft")), justify="end"),
            max_width="32rem",
        ),
        open=ChatState.memories_open,
        on_open_change=ChatState.set_memories_open,
    )
