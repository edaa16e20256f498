"""The packages page: deploy an archive from the browser, see pinned runs, route, unload, and
a refused action showing the server's envelope."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.console.conftest import screenshot
from tests.packages.support import package_archive

OPERATOR_SETTINGS = json.dumps({"mode": "headers", "subject": "", "namespaces": ""})


def confirm(page) -> None:
    dialog = page.locator("dialog[open]")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_have_count(0)


def test_deploy_route_and_unload_from_the_console(open_page, server, namespace, tmp_path):
    v1, v2 = tmp_path / "v1.zip", tmp_path / "v2.zip"
    v1.write_bytes(package_archive(1))
    v2.write_bytes(package_archive(2))
    watched = open_page(namespace)
    page = watched.page
    watched.open("#/packages")
    expect(page.get_by_role("heading", name="Packages")).to_be_visible()

    for archive in (v1, v2):
        page.get_by_label("Package archive (.zip)").set_input_files(str(archive))
        page.get_by_role("button", name="Deploy").click()
        confirm(page)
        expect(page.locator(".outcome")).to_contain_text("Deployed greeter sha256:")
    rows = page.locator("tr[data-content-hash]")
    expect(rows).to_have_count(2)
    first_hash = rows.nth(0).get_attribute("data-content-hash")
    second_hash = rows.nth(1).get_attribute("data-content-hash")

    # A run pinned to v2, then a rollback of Greeter to v1.
    server.start(namespace, "Greeter", "ada")
    page.reload()
    second = page.locator(f'tr[data-content-hash="{second_hash}"]')
    expect(second.locator("td").nth(5)).to_have_text("1")
    first = page.locator(f'tr[data-content-hash="{first_hash}"]')
    first.get_by_role("button", name=f"Route Greeter to {first_hash}").click()
    confirm(page)
    expect(page.locator(".outcome")).to_contain_text(f"Greeter now routes to {first_hash}")
    screenshot(page, "packages", tmp_path)

    # v2 still routes Looper and Spawner: the refusal shows the envelope.
    second.get_by_role("button", name=f"Unload {second_hash}").click()
    confirm(page)
    expect(page.locator(".outcome")).to_contain_text("RouteActive")
    expect(rows).to_have_count(2)
