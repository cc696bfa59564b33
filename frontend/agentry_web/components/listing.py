"""Marketplace building blocks: agent avatar, listing card, search box, category filter, sort menu."""

from collections.abc import Callable

import reflex as rx

from agentry_web.state.models import Facet, Listing

SEARCH_DEBOUNCE_MS = 250
# Lucide icons an agent's ``icon`` may name. A fixed set is bundled with the page; Reflex's dynamic icon would
# load Lucide's whole name map at start-up and draw icons late. Other names show the agent's initial.
# fmt: off
AGENT_ICONS = (
    "bot", "brain", "message-circle", "messages-square", "life-buoy", "git-branch", "search", "book-open",
    "code", "terminal", "database", "chart-bar", "calendar", "mail", "file-text", "globe", "shield", "lock",
    "wrench", "hammer", "sparkles", "lightbulb", "graduation-cap", "briefcase", "shopping-cart",
    "credit-card", "dollar-sign", "heart", "stethoscope", "plane", "map", "map-pin", "compass", "music",
    "image", "camera", "video", "pen-tool", "palette", "languages", "scale", "users", "user", "headphones",
    "phone", "clipboard-list", "list-checks", "calculator", "cloud", "server", "cpu", "newspaper", "rocket",
    "zap", "leaf", "house", "store", "truck", "package", "megaphone", "target", "trending-up", "bug",
    "flask-conical",
)
# fmt: on


def agent_avatar(
    icon: rx.Var[str], glyph: rx.Var[str], name: rx.Var[str], size: str = "40px"
) -> rx.Component:
    """The agent's Lucide icon, else its emoji, else its initial, on a tinted square."""
    fallback = rx.text(rx.cond(glyph != "", glyph, name[:1].upper()), weight="bold", aria_hidden="true")
    return rx.center(
        rx.match(icon, *[(tag, rx.icon(tag, size=20, aria_hidden="true")) for tag in AGENT_ICONS], fallback),
        width=size,
        height=size,
        min_width=size,
        border_radius="10px",
        background_color=rx.color("indigo", 3),
        color=rx.color("indigo", 11),
        font_size="1.3rem",
    )


def usage_text(usage: rx.Var[int]) -> rx.Component:
    return rx.hstack(
        rx.icon("message-circle", size=14, aria_hidden="true"),
        rx.text(usage.to_string(), " ", rx.cond(usage == 1, "conversation", "conversations"), size="1"),
        align="center",
        spacing="1",
        color=rx.color("gray", 11),
        white_space="nowrap",
    )


def category_badge(category: rx.Var[str], max_width: str = "100%") -> rx.Component:
    return rx.cond(
        category != "",
        rx.badge(
            rx.text(category, class_name="truncate"),
            variant="soft",
            color_scheme="indigo",
            radius="full",
            max_width=max_width,
            title=category,
        ),
    )


def listing_card(listing: Listing) -> rx.Component:
    return rx.card(
        rx.link(
            rx.vstack(
                rx.hstack(
                    agent_avatar(listing.icon, listing.glyph, listing.name),
                    rx.vstack(
                        rx.heading(listing.name, size="3", as_="h3", high_contrast=True),
                        rx.text(listing.organization, size="1", color=rx.color("gray", 11)),
                        spacing="0",
                        min_width="0",
                    ),
                    spacing="3",
                    align="center",
                    width="100%",
                ),
                rx.text(
                    listing.description,
                    size="2",
                    color=rx.color("gray", 11),
                    style={
                        "display": "-webkit-box",
                        "-webkit-line-clamp": "3",
                        "-webkit-box-orient": "vertical",
                        "overflow": "hidden",
                    },
                ),
                rx.spacer(),
                rx.flex(
                    category_badge(listing.category, max_width="55%"),
                    usage_text(listing.usage),
                    align="center",
                    justify="between",
                    gap="0.5rem",
                    width="100%",
                ),
                spacing="3",
                height="100%",
            ),
            href=f"/agents/{listing.deployment_id}",
            underline="none",
            color="inherit",
        ),
        as_child=True,
        size="2",
        height="100%",
        class_name="listing-card",
        _hover={"box_shadow": f"0 4px 16px {rx.color('gray', 4)}", "transform": "translateY(-1px)"},
        transition="box-shadow 120ms, transform 120ms",
    )


def search_box(value: rx.Var[str], on_change: Callable, on_clear: Callable) -> rx.Component:
    """Search as you type: the browser waits for a pause in typing before it sends the query."""
    return rx.box(
        rx.el.label("Search agents", html_for="marketplace-search", class_name="sr-only"),
        rx.debounce_input(
            rx.input(
                rx.input.slot(rx.icon("search", size=16, aria_hidden="true")),
                rx.cond(
                    value != "",
                    rx.input.slot(
                        rx.icon_button(
                            rx.icon("x", size=14),
                            variant="ghost",
                            color_scheme="gray",
                            size="1",
                            on_click=on_clear,
                            aria_label="Clear search",
                            type="button",
                        ),
                    ),
                ),
                id="marketplace-search",
                type="search",
                placeholder="Search agents by name, topic or description…",
                value=value,
                on_change=on_change,
                size="3",
                width="100%",
                auto_complete="off",
            ),
            debounce_timeout=SEARCH_DEBOUNCE_MS,
        ),
        width="100%",
    )


def facet_button(
    label: rx.Var[str] | str, count: rx.Var[int], selected: rx.Var[bool], on_click
) -> rx.Component:
    return rx.button(
        rx.text(label, flex="1", text_align="left", class_name="truncate"),
        rx.badge(
            count.to_string(), variant=rx.cond(selected, "solid", "soft"), color_scheme="gray", radius="full"
        ),
        variant=rx.cond(selected, "soft", "ghost"),
        color_scheme=rx.cond(selected, "indigo", "gray"),
        aria_pressed=rx.cond(selected, "true", "false"),
        on_click=on_click,
        width="100%",
        justify="between",
        size="2",
    )


def category_filter(
    facets: rx.Var[list[Facet]], selected: rx.Var[str], total: rx.Var[int], on_select: Callable
) -> rx.Component:
    return rx.el.nav(
        rx.heading("Categories", size="2", as_="h2", color=rx.color("gray", 11), margin_bottom="0.5rem"),
        rx.vstack(
            facet_button("All agents", total, selected == "", on_select("")),
            rx.foreach(
                facets,
                lambda facet: facet_button(
                    facet.category, facet.count, selected == facet.category, on_select(facet.category)
                ),
            ),
            spacing="1",
            width="100%",
        ),
        aria_label="Categories",
        width="100%",
    )


def sort_select(value: rx.Var[str], labels: dict[str, str], on_change: Callable) -> rx.Component:
    return rx.hstack(
        rx.el.label(rx.text("Sort by", size="2", color=rx.color("gray", 11)), html_for="marketplace-sort"),
        rx.select.root(
            rx.select.trigger(id="marketplace-sort", aria_label="Sort by"),
            rx.select.content(*[rx.select.item(label, value=key) for key, label in labels.items()]),
            value=value,
            on_change=on_change,
            size="2",
        ),
        align="center",
        spacing="2",
    )
