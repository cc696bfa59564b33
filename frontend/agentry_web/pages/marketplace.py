"""``/marketplace``: find an agent. ``?q=`` (and ``category``, ``sort``) make a search a shareable link."""

import reflex as rx

from agentry_web.components import empty_state, loading_region, page_heading, shell, skeleton_card
from agentry_web.components.listing import category_filter, listing_card, search_box, sort_select
from agentry_web.components.shell import FAVICON
from agentry_web.state import MarketplaceState
from agentry_web.state.marketplace import SORT_LABELS

GRID = {"columns": rx.breakpoints(initial="1", sm="2", lg="3"), "spacing": "4", "width": "100%"}


def _results() -> rx.Component:
    return rx.cond(
        MarketplaceState.loading,
        loading_region(rx.grid(*[skeleton_card() for _ in range(6)], **GRID), label="Loading agents"),
        rx.cond(
            MarketplaceState.listings.length() > 0,
            rx.vstack(
                rx.grid(
                    rx.foreach(
                        MarketplaceState.listings,
                        lambda item: rx.box(listing_card(item), role="listitem", height="100%"),
                    ),
                    **GRID,
                    role="list",
                    aria_label="Agents",
                ),
                rx.cond(
                    MarketplaceState.has_next,
                    rx.center(
                        rx.button(
                            "Show more agents",
                            variant="soft",
                            size="3",
                            on_click=MarketplaceState.load_more,
                            loading=MarketplaceState.loading_more,
                        ),
                        width="100%",
                        padding_top="0.5rem",
                    ),
                ),
                spacing="4",
                width="100%",
            ),
            rx.cond(
                MarketplaceState.failed,
                empty_state(
                    "cloud-off",
                    "Could not load agents",
                    "The API did not answer. Try again in a moment.",
                    rx.button("Try again", on_click=MarketplaceState.clear_query, variant="soft"),
                ),
                rx.cond(
                    (MarketplaceState.query != "") | (MarketplaceState.category != ""),
                    empty_state(
                        "search-x",
                        "No agents match your search",
                        "Try other words, or look in every category.",
                        rx.button("Clear search", on_click=MarketplaceState.clear_query, variant="soft"),
                        rx.cond(
                            MarketplaceState.category != "",
                            rx.button(
                                "All categories",
                                variant="soft",
                                color_scheme="gray",
                                on_click=MarketplaceState.set_category(MarketplaceState.category),
                            ),
                        ),
                    ),
                    empty_state(
                        "store", "No agents yet", "When builders deploy agents you may use, they appear here."
                    ),
                ),
            ),
        ),
    )


@rx.page(image=FAVICON, route="/marketplace", title="Marketplace · Agentry", on_load=MarketplaceState.load)
def marketplace() -> rx.Component:
    return shell(
        page_heading("Marketplace", "Find an agent for the job, then start a conversation."),
        search_box(MarketplaceState.query, MarketplaceState.set_query, MarketplaceState.clear_query),
        rx.flex(
            rx.box(
                category_filter(
                    MarketplaceState.facets,
                    MarketplaceState.category,
                    MarketplaceState.all_count,
                    MarketplaceState.set_category,
                ),
                width=rx.breakpoints(initial="100%", md="14rem"),
                min_width=rx.breakpoints(initial="0", md="14rem"),
            ),
            rx.vstack(
                rx.hstack(
                    rx.text(
                        rx.cond(MarketplaceState.loading, "Searching…", MarketplaceState.summary),
                        size="2",
                        color=rx.color("gray", 11),
                        role="status",
                        aria_live="polite",
                    ),
                    rx.spacer(),
                    sort_select(MarketplaceState.sort, SORT_LABELS, MarketplaceState.set_sort),
                    align="center",
                    width="100%",
                ),
                _results(),
                spacing="4",
                flex="1",
                min_width="0",
            ),
            direction=rx.breakpoints(initial="column", md="row"),
            spacing="6",
            width="100%",
        ),
    )
