"""State of ``/marketplace``: search as you type, category facets, sort and "load more" pagination."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import reflex as rx

from agentry_web.api import ApiError, marketplace
from agentry_web.state.models import Facet, Listing
from agentry_web.state.session import SessionState

SORT_LABELS = {"RELEVANCE": "Best match", "MOST_USED": "Most used", "NEWEST": "Newest"}
DEFAULT_SORT = "RELEVANCE"


def _listings(rows: list[dict]) -> list[Listing]:
    fields = Listing.__dataclass_fields__
    return [Listing(**{k: v for k, v in row.items() if k in fields}) for row in rows]


class MarketplaceState(SessionState):
    """``loading`` covers a new search (skeletons); ``loading_more`` only the next page's button."""

    query: str = ""
    category: str = ""
    sort: str = DEFAULT_SORT
    listings: list[Listing] = []
    facets: list[Facet] = []
    total: int = 0
    has_next: bool = False
    end_cursor: str = ""
    loading: bool = True
    loading_more: bool = False
    failed: bool = False

    @rx.var
    def all_count(self) -> int:
        """Listings in every category for the current search (the "All" facet)."""
        return sum(f.count for f in self.facets)

    @rx.var
    def summary(self) -> str:
        noun = "agent" if self.total == 1 else "agents"
        found = f"{self.total} {noun}"
        return f"{found} matching “{self.query.strip()}”" if self.query.strip() else found

    @rx.event
    async def load(self):
        params = self.router.url.query_parameters
        self.query = params.get("q", "")
        self.category = params.get("category", "")
        self.sort = params.get("sort", DEFAULT_SORT).upper()
        self.sort = self.sort if self.sort in SORT_LABELS else DEFAULT_SORT
        self.listings, self.facets, self.loading = [], [], True
        yield
        redirect, page, error = await self._with_session(self._fetch)
        # The address bar already says what was loaded: no URL sync here.
        yield redirect or self._show(page, error, sync_url=False)

    async def _fetch(self, token: str) -> dict:
        return await marketplace.search(token, search=self.query, category=self.category, sort=self.sort)

    async def _search(self):
        """Fetch the first page for the current filters; returns an event (toast) on failure."""
        self.loading, self.failed = True, False
        try:
            return self._show(await self._fetch(self.token), None)
        except ApiError as error:
            return self._show(None, error)

    def _show(self, page: dict | None, error: ApiError | None, sync_url: bool = True):
        if error is not None or page is None:
            self.loading, self.failed = False, True
            return self._failed(error) if error is not None else None
        self.listings = _listings(page["listings"])
        self.facets = [Facet(**f) for f in page["facets"]]
        self.total, self.has_next, self.end_cursor = page["total"], page["has_next"], page["end_cursor"]
        self.loading = False
        return self._sync_url() if sync_url else None

    def _sync_url(self):
        """Keep the address bar a shareable deep link (``?q=``) without a navigation."""
        params = {"q": self.query.strip(), "category": self.category}
        if self.sort != DEFAULT_SORT:
            params["sort"] = self.sort.lower()
        query = urlencode({k: v for k, v in params.items() if v})
        url = "/marketplace" + (f"?{query}" if query else "")
        return rx.call_script(f"window.history.replaceState(window.history.state, '', {json.dumps(url)})")

    @rx.event
    async def set_query(self, value: str):
        # The input is debounced in the browser (components.search_box): one event per pause in typing.
        if value == self.query:
            return
        self.query = value
        self.loading = True
        yield
        yield await self._search()

    @rx.event
    async def clear_query(self):
        self.query = ""
        yield await self._search()

    @rx.event
    async def set_category(self, category: str):
        self.category = "" if category == self.category else category
        self.loading = True
        yield
        yield await self._search()

    @rx.event
    async def set_sort(self, sort: str):
        self.sort = sort if sort in SORT_LABELS else DEFAULT_SORT
        self.loading = True
        yield
        yield await self._search()

    @rx.event
    async def load_more(self):
        if not self.has_next or self.loading_more:
            return
        self.loading_more = True
        yield
        try:
            page = await marketplace.search(
                self.token, search=self.query, category=self.category, sort=self.sort, after=self.end_cursor
            )
        except ApiError as error:
            self.loading_more = False
            yield self._failed(error)
            return
        self.listings = self.listings + _listings(page["listings"])
        self.has_next, self.end_cursor = page["has_next"], page["end_cursor"]
        self.loading_more = False
