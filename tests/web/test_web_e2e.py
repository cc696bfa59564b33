"""The end user's journey in a real browser against the real platform (``agentry up``, offline model).

sign up → find a demo agent by searching → chat → the streamed reply appears → reload keeps the thread →
stop cancels a long run → log out; plus: a member who opens the studio is sent away, and an expired session
returns to the login page with a notice. axe-core checks login, marketplace and chat; every screen visited is
saved under tests/artifacts/.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.web.axe import describe, violations
from tests.web.conftest import shot
from tests.web.stack import PASSWORD, Stack

pytestmark = pytest.mark.timeout(900)  # the first test also waits for `agentry up` to build the UI

SEARCH = "memory"  # finds the public demo agent (seeded "Memory Coach", or the fixture's own agents)
SESSION_COOKIE = "agentry_session"


async def assert_accessible(page: Any, screen: str) -> None:
    found = await violations(page)
    assert not found, f"axe found serious/critical problems on the {screen} screen:\n{describe(found)}"


async def session_token(page: Any) -> str:
    cookies = {c["name"]: c for c in await page.context.cookies()}
    cookie = cookies[SESSION_COOKIE]
    assert cookie["sameSite"] == "Strict"
    return str(cookie["value"])


async def sign_up(page: Any, stack: Stack, email: str) -> None:
    await page.goto(f"{stack.ui}/signup")
    await page.get_by_label("Name").fill("Erin Enduser")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await shot(page, "01-signup")
    await page.locator("#content").get_by_role("button", name="Sign up").click()
    await page.wait_for_url(re.compile(r".*/marketplace.*"))


async def find_agent(page: Any, stack: Stack) -> str:
    """Search as a user types; returns the agent's name (the first result)."""
    await page.get_by_role("list", name="Agents").wait_for()
    await assert_accessible(page, "marketplace")
    await shot(page, "02-marketplace")
    await page.get_by_label("Search agents").press_sequentially(SEARCH, delay=40)
    await page.wait_for_url(re.compile(rf".*[?&]q={SEARCH}.*"))
    first = page.get_by_role("list", name="Agents").get_by_role("listitem").first
    name = (await first.get_by_role("heading").inner_text()).strip()
    assert SEARCH in name.lower() or SEARCH in (await first.inner_text()).lower()
    await shot(page, "03-search")
    await first.get_by_role("link").click()
    await page.get_by_role("heading", name=name, level=1).wait_for()
    await shot(page, "04-agent")
    return name


async def test_sign_up_search_chat_reload_stop_log_out(page: Any, stack: Stack) -> None:
    email = f"erin-{uuid.uuid4().hex[:8]}@example.com"
    await page.goto(f"{stack.ui}/login")
    await page.get_by_label("E-mail").wait_for()
    await assert_accessible(page, "login")
    await shot(page, "00-login")
    await sign_up(page, stack, email)
    await find_agent(page, stack)

    await page.get_by_role("button", name="Start chat").click()
    await page.wait_for_url(re.compile(r".*/chat/[0-9a-f-]+$"))
    thread_url = page.url
    message = page.get_by_label("Message")
    await message.fill("Hello from the browser")
    await message.press("Enter")
    reply = page.get_by_role("log").get_by_text("echo: Hello from the browser")
    await reply.wait_for()
    await assert_accessible(page, "chat")
    await shot(page, "05-chat")

    # Reload: the thread comes back from the API (messages and the thread list).
    await page.reload()
    await page.get_by_role("log").get_by_text("echo: Hello from the browser").wait_for()
    await (
        page.get_by_role("navigation", name="Conversations").get_by_text("Hello from the browser").wait_for()
    )
    assert page.url == thread_url

    # A slow answer streams in; Stop cancels it and the run ends CANCELLED.
    await message.fill("/sleep 30 a long answer that nobody will wait for")
    await page.get_by_role("button", name="Send").click()
    await page.locator(".message-live").get_by_text("echo: a").wait_for()  # the first streamed tokens
    await shot(page, "06-streaming")
    await page.get_by_role("button", name="Stop").click()
    await page.get_by_role("log").get_by_text("Stopped.").wait_for(timeout=15_000)
    await page.get_by_role("button", name="Send").wait_for()
    await shot(page, "07-stopped")
    token = await session_token(page)
    thread_id = thread_url.rsplit("/", 1)[-1]
    runs = stack.gql(
        "query($id: ID!){ thread(id: $id){ runs(first: 1){ status } } }", {"id": thread_id}, token
    )
    assert runs["thread"]["runs"][0]["status"] == "CANCELLED"

    await page.get_by_role("button", name=re.compile("account menu")).click()
    await page.get_by_role("menuitem", name="Log out").click()
    await page.wait_for_url(re.compile(r".*/login$"))
    await page.get_by_text("You have been logged out.").wait_for()
    await shot(page, "08-logged-out")
    await page.goto(thread_url)
    await page.wait_for_url(re.compile(r".*/login\?next=.*"))
    after = stack.gql_body("{ viewer { id } }", token=token)  # the session is revoked, not only forgotten
    assert after.get("errors") or after["data"]["viewer"] is None
    assert not [e for e in page.console_errors if "Traceback" in e]


async def test_member_is_sent_away_from_studio_and_expired_session_returns_to_login(
    page: Any, stack: Stack
) -> None:
    email, password = stack.credentials().get("member", ("", ""))
    if not email:  # no seed: any user outside an organisation is a plain member for the studio's purposes
        email, password = f"member-{uuid.uuid4().hex[:8]}@example.com", PASSWORD
        stack.sign_up(email, "Mia Member", password)
    await page.goto(f"{stack.ui}/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.locator("#content").get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r".*/marketplace.*"))
    assert await page.get_by_role("navigation", name="Main").get_by_role("link", name="Studio").count() == 0

    for area in ("/studio", "/admin"):
        await page.goto(f"{stack.ui}{area}")
        await page.wait_for_url(re.compile(r".*/marketplace.*"))
        await page.get_by_text(re.compile(r"is for (builders|owners)")).first.wait_for()
    await shot(page, "09-studio-denied")

    # The session ends server-side (revoked here; idle or absolute expiry behaves the same).
    stack.gql("mutation { logOut }", token=await session_token(page))
    await page.goto(f"{stack.ui}/marketplace?q=anything")
    await page.wait_for_url(re.compile(r".*/login\?next=.*"))
    await page.get_by_text("Your session has expired. Please log in again.").wait_for()
    await shot(page, "10-session-expired")
