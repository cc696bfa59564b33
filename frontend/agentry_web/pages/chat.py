"""``/chat/[thread_id]``: a conversation with an agent, the viewer's other threads, and its memories."""

import reflex as rx

from agentry_web.components import empty_state, full_height_shell, loading_region, skeleton_lines
from agentry_web.components.chat import composer, live_answer, message_row, thread_item
from agentry_web.components.forms import link_button
from agentry_web.components.listing import agent_avatar
from agentry_web.components.shell import FAVICON
from agentry_web.pages.chat_dialogs import delete_dialog, memories_dialog, rename_dialog
from agentry_web.state import ChatState

COLUMN = "48rem"


def _sidebar() -> rx.Component:
    return rx.el.aside(
        rx.vstack(
            rx.button(
                rx.icon("plus", size=16, aria_hidden="true"),
                "New chat",
                on_click=ChatState.new_thread,
                width="100%",
                variant="soft",
                size="2",
                disabled=ChatState.deployment_id == "",
            ),
            rx.heading(
                "Conversations",
                size="1",
                as_="h2",
                color=rx.color("gray", 11),
                padding_x="0.6rem",
                padding_top="0.5rem",
                text_transform="uppercase",
                letter_spacing="0.04em",
            ),
            rx.box(
                rx.el.nav(
                    rx.vstack(
                        rx.foreach(
                            ChatState.threads,
                            lambda t: thread_item(
                                t, ChatState.thread_id, ChatState.open_rename, ChatState.open_delete
                            ),
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    aria_label="Conversations",
                ),
                flex="1",
                min_height="0",
                width="100%",
                overflow_y="auto",
            ),
            spacing="2",
            height="100%",
            padding="0.75rem",
        ),
        width="17rem",
        min_width="17rem",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background_color=rx.color("gray", 1),
        display=rx.breakpoints(initial="none", md="block"),
    )


def _top_bar() -> rx.Component:
    return rx.hstack(
        rx.link(
            agent_avatar(ChatState.agent_icon, ChatState.agent_glyph, ChatState.agent_name, size="36px"),
            href=f"/agents/{ChatState.deployment_id}",
            aria_label="About " + ChatState.agent_name,
        ),
        rx.vstack(
            rx.heading(ChatState.page_title, size="4", as_="h1", class_name="truncate", width="100%"),
            rx.link(
                ChatState.agent_name, href=f"/agents/{ChatState.deployment_id}", size="1", color_scheme="gray"
            ),
            spacing="0",
            min_width="0",
            flex="1",
            overflow="hidden",
        ),
        rx.button(
            rx.icon("brain", size=16, aria_hidden="true"),
            "What this agent remembers about me",
            variant="soft",
            color_scheme="gray",
            size="2",
            on_click=ChatState.set_memories_open(True),
            id="open-memories",
        ),
        rx.icon_button(
            rx.icon("pencil", size=16),
            variant="ghost",
            color_scheme="gray",
            size="2",
            aria_label="Rename conversation",
            on_click=ChatState.open_rename(ChatState.thread_id, ChatState.page_title),
        ),
        align="center",
        spacing="3",
        width="100%",
        padding_x="1.5rem",
        padding_y="0.75rem",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background_color=rx.color("gray", 1),
    )


def _conversation() -> rx.Component:
    return rx.vstack(
        rx.cond(
            (ChatState.messages.length() == 0) & ~ChatState.streaming,
            empty_state(
                "message-circle",
                "Start the conversation",
                "Ask " + ChatState.agent_name + " anything it can help with.",
            ),
        ),
        rx.foreach(
            ChatState.messages,
            lambda m: message_row(
                m, ChatState.agent_icon, ChatState.agent_glyph, ChatState.agent_name, ChatState.retry
            ),
        ),
        rx.cond(
            ChatState.streaming,
            live_answer(
                ChatState.live_content,
                ChatState.live_steps,
                ChatState.agent_icon,
                ChatState.agent_glyph,
                ChatState.agent_name,
            ),
        ),
        spacing="5",
        width="100%",
        max_width=COLUMN,
        margin_x="auto",
        padding_x="1.5rem",
        padding_y="1.5rem",
    )


def _main() -> rx.Component:
    return rx.flex(
        _top_bar(),
        rx.auto_scroll(
            _conversation(),
            flex="1",
            width="100%",
            id="chat-scroll",
            role="log",
            aria_label="Conversation history",
        ),
        rx.box(
            composer(
                ChatState.send, ChatState.streaming, ChatState.stopping, ChatState.stop, ChatState.agent_name
            ),
            width="100%",
            max_width=COLUMN,
            margin_x="auto",
            padding_x="1.5rem",
            padding_bottom="1rem",
            padding_top="0.5rem",
        ),
        direction="column",
        flex="1",
        min_width="0",
        height="100%",
    )


@rx.page(image=FAVICON, route="/chat/[thread_id]", title="Chat · Agentry", on_load=ChatState.load)
def chat() -> rx.Component:
    return full_height_shell(
        _sidebar(),
        rx.cond(
            ChatState.loading,
            rx.box(
                loading_region(skeleton_lines(5), label="Loading the conversation"), padding="2rem", flex="1"
            ),
            rx.cond(
                ChatState.missing,
                rx.box(
                    empty_state(
                        "search-x",
                        "Conversation not found",
                        "It may have been deleted, or it is not yours.",
                        link_button("Back to the marketplace", variant="soft", href="/marketplace"),
                    ),
                    flex="1",
                ),
                _main(),
            ),
        ),
        rename_dialog(),
        delete_dialog(),
        memories_dialog(),
    )
