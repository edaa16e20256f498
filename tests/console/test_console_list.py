"""The workflows list: rows, count, filters, paging, and live updates while the page is open."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.console.conftest import screenshot


def rows(page):
    return page.locator("table.grid tbody tr")


def test_list_shows_workflows_and_a_new_one_appears_live(open_page, server, namespace, tmp_path):
    running = server.start(namespace, "collector", search_attributes={"customer": "acme"})
    done = server.start(namespace, "greeter", "ada")
    failed = server.start(namespace, "failing", "card declined")
    watched = open_page(namespace)
    page = watched.page
    watched.open()
    expect(rows(page)).to_have_count(3)
    expect(page.locator(".count")).to_have_text("3 workflows")
    expect(page.locator(".live-indicator")).to_have_text("live")
    row = page.locator(f'tr[data-workflow-id="{running}"]')
    expect(row.locator(".badge")).to_have_text("Running")
    expect(row.locator(".chip")).to_contain_text("customer")
    expect(row.locator(".chip")).to_contain_text("acme")
    expect(page.locator(f'tr[data-workflow-id="{done}"] .badge')).to_have_text("Completed")
    expect(page.locator(f'tr[data-workflow-id="{failed}"] .badge')).to_have_text("Failed")

    attributes = {"customer": "initech", "region": "eu"}
    started_live = server.start(namespace, "checkout", search_attributes=attributes)
    expect(page.locator(f'tr[data-workflow-id="{started_live}"] .badge')).to_have_text("Running")
    expect(page.locator(".count")).to_have_text("4 workflows")

    # A status change arrives live too: finish the running one over HTTP.
    server.signal(namespace, running, "finish", 1)
    expect(row.locator(".badge")).to_have_text("Completed")
    screenshot(page, "workflows", tmp_path)


def test_filters_by_status_type_time_and_search_attribute(open_page, server, namespace):
    acme = server.start(namespace, "collector", search_attributes={"customer": "acme"})
    server.start(namespace, "collector", search_attributes={"customer": "globex"})
    server.start(namespace, "greeter", "x")
    watched = open_page(namespace)
    page = watched.page
    watched.open()
    expect(rows(page)).to_have_count(3)

    page.get_by_label("Status").select_option("Completed")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).locator(".badge")).to_have_text("Completed")
    assert "status=Completed" in page.url

    page.get_by_role("button", name="Clear").click()
    expect(rows(page)).to_have_count(3)
    page.get_by_label("Workflow type").fill("collector")
    page.get_by_label("Attribute name").fill("customer")
    page.get_by_label("Attribute value").fill("acme")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows(page)).to_have_count(1)
    expect(page.locator(f'tr[data-workflow-id="{acme}"]')).to_have_count(1)
    expect(page.locator(".count")).to_have_text("1 workflow")

    page.get_by_role("button", name="Clear").click()
    page.get_by_label("Started after").fill("2100-01-01T00:00")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".empty")).to_have_text("No workflows match these filters.")
    expect(page.locator(".count")).to_have_text("0 workflows")


def test_pages_through_a_long_list_with_page_tokens(open_page, server, namespace):
    ids = {server.start(namespace, "greeter", str(i)) for i in range(27)}
    watched = open_page(namespace)
    page = watched.page
    watched.open()
    expect(rows(page)).to_have_count(25)
    expect(page.locator(".count")).to_have_text("27 workflows")
    first = set(rows(page).evaluate_all("rows => rows.map(r => r.dataset.workflowId)"))
    expect(page.get_by_role("button", name="Previous page")).to_be_disabled()
    page.get_by_role("button", name="Next page").click()
    expect(rows(page)).to_have_count(2)
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    second = set(rows(page).evaluate_all("rows => rows.map(r => r.dataset.workflowId)"))
    assert first | second == ids and not first & second
    page.get_by_role("button", name="Previous page").click()
    expect(rows(page)).to_have_count(25)
