"""End to end in a real browser: Debian's Chromium, driven by Playwright, on the demo dashboard.

Screenshots land in artifacts/screenshots/ (kept by CI, looked at by people).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from brandpulse.services import care
from brandpulse.services.accounts import log_in
from store.engine import session_scope
from store.models import Mention

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
playwright = pytest.importorskip("playwright.sync_api")
PlaywrightTimeout = playwright.TimeoutError
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian chromium is not installed (apt-get install -y chromium)")
ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def x_api():
    """A local fake of X's reply side, answering as the demo brand's account @NimbusMobile."""
    from tests.fake_networks import fake_network

    with fake_network("x", account_id="nimbus_x", timeout_seconds=5) as running:
        yield running


@pytest.fixture(scope="module")
def dashboard_url(demo, x_api, tmp_path_factory):
    _, account, secrets = x_api
    config = yaml.safe_load(demo.config_path.read_text(encoding="utf-8"))
    config["care"]["reply_accounts"] = [{**account.model_dump(mode="json"), "handle": "NimbusMobile"}]
    path = tmp_path_factory.mktemp("browser") / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    env = {**os.environ, **secrets, "BRANDPULSE_CONFIG": str(path)}
    app = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
                               "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a server stuck in shutdown must not outlive the tests
            server.kill()
            server.wait(timeout=10)


@pytest.fixture
def browser_page():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 2400})
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:  # a failing run leaves the page it failed on, for people to look at
            page.screenshot(path=str(SHOTS / "last-page.png"), full_page=True)
            browser.close()


def sign_in(page, url: str, demo, username: str) -> None:
    password = {name: secret for name, _, _, secret in demo.users}[username]
    page.goto(url)
    page.get_by_role("textbox", name="User name").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {username}").wait_for()


def choose(page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox of the page (not the sidebar) by its label."""
    main = page.get_by_test_id("stMainBlockContainer")  # not a sidebar filter left from the page before
    main.locator('[data-testid="stSelectbox"]').filter(has_text=label).locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_care_agent_answers_the_top_ticket_after_a_minute_and_marketing_sees_charts(
        dashboard_url, demo, x_api, browser_page):
    page = browser_page
    fake, _, _ = x_api
    sign_in(page, dashboard_url, demo, "agent")
    page.locator('[data-testid="stSidebar"]').get_by_text("Care inbox", exact=True).click()
    page.get_by_label("Search posts and handles").wait_for()
    choose(page, "Brand", "Nimbus Mobile")
    choose(page, "Network", "x")
    page.get_by_label("Search posts and handles").fill("@NimbusMobile")  # X lets the API answer these only
    page.get_by_label("Search posts and handles").press("Enter")
    agent = log_in(demo.settings, "agent", {name: secret for name, _, _, secret in demo.users}["agent"])
    top = care.inbox(demo.settings, agent, "my team", filters=care.InboxFilters(
        search="@NimbusMobile", brand="Nimbus Mobile", network="x"))[0]
    ticket = str(top["id"])
    page.get_by_text(re.compile(r"^showing 1-")).wait_for()
    opened = page.get_by_role("heading", name=re.compile(rf"^Ticket #{ticket} ·"))
    for _ in range(6):  # the list refreshes every 5 s: a click that lands on a redraw is made again
        listing = page.locator('[data-testid="stDataFrame"]').first
        listing.wait_for(state="visible")
        grid = listing.bounding_box()
        if grid:
            page.mouse.click(grid["x"] + 14, grid["y"] + 35 + 17)  # the first row's selection cell
        try:
            opened.wait_for(timeout=5000)
            break
        except PlaywrightTimeout:
            continue
    opened.wait_for()
    page.screenshot(path=str(SHOTS / "1-agent-inbox.png"), full_page=True)

    page.wait_for_timeout(61_000)  # the minute ticks under the open ticket (it used to crash the next action)
    page.get_by_role("button", name="Assign to me").click()
    page.get_by_text(f"ticket #{ticket} assigned to you").wait_for()
    page.get_by_label("Internal note").fill("Called the customer, refund on its way")
    page.get_by_role("button", name="Add note").click()
    page.get_by_text("note added").wait_for()
    answer = "Sorry for the trouble! A refund is on its way, we will check back tomorrow."
    page.get_by_label(re.compile(r"^Reply as @NimbusMobile on x")).fill(answer)
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text(re.compile(r"reply #\d+: published")).wait_for()
    assert [post["text"] for post in fake.created] == [answer]  # exactly one post reached X
    page.get_by_text("View on the network").wait_for()
    page.screenshot(path=str(SHOTS / "2-agent-replied.png"), full_page=True)
    choose(page, "Move to", "resolved")
    page.get_by_label("Reason (optional)").fill("refund issued")
    page.get_by_role("button", name="Update status").click()
    page.get_by_text(f"ticket #{ticket} is now resolved").wait_for()
    page.get_by_role("heading", name=f"Ticket #{ticket} · resolved").wait_for()
    page.screenshot(path=str(SHOTS / "3-agent-resolved-ticket.png"), full_page=True)

    context = care.ticket_context(demo.settings, agent, int(ticket))
    mine = [(e["kind"], e["to"], e["body"]) for e in context["history"] if e["user"] == "agent"]
    assert mine[:3] == [("assigned", "agent", None), ("note", None, "Called the customer, refund on its way"),
                        ("reply", "queued", answer)]
    assert mine[-1] == ("status", "resolved", "refund issued") and [m[0] for m in mine].count("replied") == 1
    with session_scope(demo.settings.database.url) as session:
        answered = session.get(Mention, context["ticket"]["mention_id"]).native_id
    assert [post["text"] for post in fake.replies_to(answered)] == [answer]  # on the ticket's own post
    assert context["ticket"]["first_response_at"] is not None  # the reply stopped the SLA clock
    assert [r["body"] for r in context["customer"]["replies"]] == [answer]  # the timeline's brand side

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, dashboard_url, demo, "marketing")
    page.get_by_role("heading", name="Overview").wait_for()
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.nth(4).wait_for()
    assert charts.count() == 5  # per day, share of voice, aspect sentiment, top aspects, top entities
    page.wait_for_timeout(1500)  # let the charts draw before clicking one
    box = charts.nth(0).bounding_box()  # mentions per day: sweep along the bars' lower part until one is hit

    def click_at(step: int, wait_ms: int) -> bool:
        page.mouse.click(box["x"] + box["width"] * (0.08 + step * 0.006), box["y"] + box["height"] * 0.68)
        page.wait_for_timeout(wait_ms)
        return page.get_by_text("Mentions behind").count() > 0
    hit = next(step for step in range(120) if click_at(step, 150))
    # the quick sweep may have clicked past the bar before its list came (that later click clears it):
    # click the last few spots again, each after the page settled, and keep the one that lists mentions
    next(step for step in [*range(max(0, hit - 4), hit + 1), hit] if click_at(step, 1500))
    # the list of that day's mentions, with a count (waited for: the page reruns as it draws)
    # ("· negative", or "· any sentiment" when the click's datum has no sentiment)
    page.get_by_text(re.compile(r"Mentions behind \d{4}-\d{2}-\d{2}( · [\w ]+)?: [1-9]")).first.wait_for()
    assert page.locator('[data-testid="stMetric"]').first.is_visible()
    assert page.locator('[data-testid="stSidebar"]').get_by_text("Care inbox", exact=True).count() == 0
    page.wait_for_timeout(1500)  # let the charts draw before the picture
    assert page.get_by_text("Mentions behind").count() == 1  # the list stays
    page.screenshot(path=str(SHOTS / "4-marketing-overview.png"), full_page=True)
