"""Schedules (next fire times, recent runs, pause / resume / trigger), the health summary,
keyboard use, and the dark scheme."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.console.conftest import screenshot


def create_schedule(server, namespace: str) -> str:
    status, body = server.call("POST", "/schedules", {
        "namespace": namespace, "spec": {"every_seconds": 3600},
        "workflow_type": "greeter", "input": "scheduled"})  # fmt: skip
    assert status == 200, body
    return body["schedule_id"]


UNNAMED_CONTROLS = """() => [...document.querySelectorAll('button, input, select, textarea, a')]
  .filter(e => !e.hidden && !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.textContent.trim())
  .map(e => e.outerHTML)"""


def confirm(page) -> None:
    dialog = page.locator("dialog[open]")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_have_count(0)


def test_schedules_show_fire_times_and_pause_resume_trigger(open_page, server, namespace,
                                                            tmp_path):  # fmt: skip
    schedule_id = create_schedule(server, namespace)
    watched = open_page(namespace)
    page = watched.page
    watched.open("#/schedules")
    card = page.locator(f'article[data-schedule-id="{schedule_id}"]')
    expect(card.locator(".badge").first).to_have_text("Active")
    expect(card.locator("dd time").first).to_be_visible()  # a next fire time
    expect(card).to_contain_text("every 3600 s")
    screenshot(page, "schedules", tmp_path)

    card.get_by_role("button", name=f"Pause schedule {schedule_id}").click()
    confirm(page)
    expect(card.locator(".badge").first).to_have_text("Paused")
    card.get_by_role("button", name=f"Resume schedule {schedule_id}").click()
    confirm(page)
    expect(card.locator(".badge").first).to_have_text("Active")
    card.get_by_role("button", name=f"Trigger now schedule {schedule_id}").click()
    confirm(page)
    run = card.locator("h3 + ul a")
    expect(run).to_have_count(1)
    run.click()
    expect(page.locator(".timeline li").first).to_be_visible()
    expect(page.locator("section[aria-labelledby=summary-title]")).to_contain_text("greeter")


def test_health_shows_probes_figures_and_counts(open_page, server, namespace, tmp_path):
    workflow_id = server.start(namespace, "greeter", "x")
    server.call("POST", "/workflows/result",
                {"namespace": namespace, "workflow_id": workflow_id, "wait_ms": 10000})  # fmt: skip
    server.start(namespace, "collector")
    watched = open_page(namespace)
    page = watched.page
    watched.open("#/health")
    expect(page.locator(".tile.good")).to_have_count(2)
    counts = page.get_by_label("Workflows by status")
    expect(counts.locator(".tile", has_text="Completed")).to_contain_text("1")
    expect(counts.locator(".tile", has_text="Running")).to_contain_text("1")
    expect(page.get_by_label("Metrics").locator(".tile", has_text="Resident")).to_be_visible()
    screenshot(page, "health", tmp_path)


def test_the_console_is_usable_by_keyboard_in_the_dark_scheme(open_page, server, namespace,
                                                              tmp_path):  # fmt: skip
    workflow_id = server.start(namespace, "collector")
    watched = open_page(namespace, scheme="dark")
    page = watched.page
    watched.open()
    expect(page.locator("table.grid tbody tr")).to_have_count(1)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 18, 23)"
    screenshot(page, "workflows-dark", tmp_path)
    assert page.evaluate(UNNAMED_CONTROLS) == []  # every control has a name
    # Tab from the top reaches the workflow's link; Enter opens it; Escape closes a dialog.
    link = page.locator(f'a[href="#/workflow/{workflow_id}"]')
    for _ in range(40):
        page.keyboard.press("Tab")
        if link.evaluate("a => a === document.activeElement"):
            break
    else:
        raise AssertionError("the workflow link is not reachable with Tab")
    outline = link.evaluate("a => getComputedStyle(a).outlineStyle")
    assert outline == "solid"  # the focus is visible
    page.keyboard.press("Enter")
    expect(page.locator(".timeline li").first).to_be_visible()
    expect(page.locator("section[aria-labelledby=query-title]")).to_be_visible()
    assert page.evaluate(UNNAMED_CONTROLS) == []
    signal = page.get_by_role("button", name="Signal")
    signal.focus()
    page.keyboard.press("Enter")
    expect(page.locator("dialog[open]")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("dialog[open]")).to_have_count(0)
    expect(signal).to_be_focused()


def test_a_request_to_another_origin_is_blocked_and_noticed(open_page, server, namespace):
    """The checks every test ends with can fail: a foreign fetch is refused by the page's
    policy (and logged), and one made outside the page's policy is caught by the guard."""
    watched = open_page(namespace)
    page = watched.page
    watched.open()
    expect(page.locator(".live-indicator")).to_have_text("live")
    outcome = page.evaluate(
        "() => fetch('http://198.51.100.7/probe').then(() => 'sent', () => 'blocked')"
    )
    assert outcome == "blocked"
    assert any("Content Security Policy" in error for error in watched.errors), watched.errors
    assert watched.foreign == []  # the policy stopped it before it became a request
    page.goto("about:blank")  # no policy here: the route guard must catch it
    page.evaluate("() => fetch('http://198.51.100.7/probe').catch(() => null)")
    assert "http://198.51.100.7/probe" in watched.foreign
    watched.errors.clear()
    watched.foreign.clear()
