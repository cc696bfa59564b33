"""``/agents/[deployment_id]``: what an agent does, prompts to try, and "Start chat"."""

import reflex as rx

from agentry_web.components import empty_state, loading_region, shell, skeleton_lines
from agentry_web.components.forms import link_button
from agentry_web.components.listing import agent_avatar, category_badge, usage_text
from agentry_web.components.shell import FAVICON
from agentry_web.state import AgentState


def _prompt(prompt: rx.Var[str]) -> rx.Component:
    return rx.button(
        rx.icon("sparkles", size=14, aria_hidden="true"),
        rx.text(prompt, text_align="left", white_space="normal"),
        variant="surface",
        color_scheme="gray",
        size="3",
        on_click=AgentState.start_chat(prompt),
        disabled=AgentState.starting,
        justify_content="flex-start",
        width="100%",
        height="auto",
        padding_y="0.75rem",
        aria_label="Start a chat with: " + prompt,
    )


def _agent() -> rx.Component:
    return rx.vstack(
        rx.card(
            rx.flex(
                agent_avatar(AgentState.icon, AgentState.glyph, AgentState.name, size="64px"),
                rx.vstack(
                    rx.heading(AgentState.name, size="7", as_="h1"),
                    rx.hstack(
                        rx.cond(
                            AgentState.organization != "",
                            rx.text("by ", AgentState.organization, size="2", color=rx.color("gray", 11)),
                        ),
                        category_badge(AgentState.category),
                        usage_text(AgentState.usage),
                        spacing="3",
                        align="center",
                    ),
                    spacing="2",
                    flex="1",
                ),
                rx.button(
                    rx.icon("message-square-plus", size=18, aria_hidden="true"),
                    "Start chat",
                    size="3",
                    on_click=AgentState.start_chat(""),
                    loading=AgentState.starting,
                    id="start-chat",
                ),
                spacing="4",
                align=rx.breakpoints(initial="start", sm="center"),
                direction=rx.breakpoints(initial="column", sm="row"),
                width="100%",
            ),
            size="4",
            width="100%",
        ),
        rx.grid(
            rx.vstack(
                rx.heading("About", size="4", as_="h2"),
                rx.text(AgentState.description, size="3", white_space="pre-wrap"),
                rx.cond(
                    AgentState.tags.length() > 0,
                    rx.hstack(
                        rx.foreach(
                            AgentState.tags,
                            lambda t: rx.badge("#", t, variant="outline", color_scheme="gray"),
                        ),
                        wrap="wrap",
                        spacing="2",
                    ),
                ),
                spacing="3",
            ),
            rx.vstack(
                rx.heading("Try asking", size="4", as_="h2"),
                rx.cond(
                    AgentState.example_prompts.length() > 0,
                    rx.vstack(rx.foreach(AgentState.example_prompts, _prompt), spacing="2", width="100%"),
                    rx.text("Ask it anything about what it does.", size="2", color=rx.color("gray", 11)),
                ),
                spacing="3",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="6",
            width="100%",
        ),
        spacing="6",
        width="100%",
    )


@rx.page(image=FAVICON, route="/agents/[deployment_id]", title="Agent · Agentry", on_load=AgentState.load)
def agent() -> rx.Component:
    return shell(
        rx.link(
            rx.hstack(
                rx.icon("arrow-left", size=14, aria_hidden="true"), "Marketplace", align="center", spacing="1"
            ),
            href="/marketplace",
            size="2",
        ),
        rx.cond(
            AgentState.loading,
            loading_region(rx.card(skeleton_lines(4), size="4", width="100%"), label="Loading the agent"),
            rx.cond(
                AgentState.missing,
                empty_state(
                    "search-x",
                    "Agent not found",
                    "It may have been removed, or it is not available to you.",
                    link_button("Back to the marketplace", variant="soft", href="/marketplace"),
                ),
                _agent(),
            ),
        ),
    )
