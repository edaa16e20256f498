"""The cluster page: every node with its shards and heartbeat (a lone server is one node
owning the one shard), refreshed live and usable by keyboard."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.console.conftest import screenshot
from tests.console.test_console_pages import UNNAMED_CONTROLS


def test_the_cluster_page_lists_the_nodes_and_their_shards(open_page, server, namespace,
                                                          tmp_path):  # fmt: skip
    status, reply = server.call("GET", "/cluster")
    assert status == 200, reply
    (node,) = reply["nodes"]
    watched = open_page(namespace)
    page = watched.page
    watched.open("#/cluster")
    row = page.get_by_label("Cluster nodes").locator(f'tr[data-node-id="{node["node_id"]}"]')
    expect(row).to_contain_text("this node")
    expect(row).to_contain_text(node["address"])
    expect(row.locator(".shards")).to_have_text("1 of 1 (100%)")
    expect(row.locator("time")).to_be_visible()
    expect(page.locator(".count")).to_have_text("1 node, 1 shard")
    expect(page.locator(".live-indicator")).to_contain_text("refreshed every")
    refresh = page.get_by_role("button", name="Refresh")
    refresh.focus()
    page.keyboard.press("Enter")
    expect(row).to_contain_text("this node")
    assert page.get_by_role("link", name="Cluster").get_attribute("aria-current") == "page"
    assert page.evaluate(UNNAMED_CONTROLS) == []
    screenshot(page, "cluster", tmp_path)
