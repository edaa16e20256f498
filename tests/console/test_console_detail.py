"""A workflow's page: summary, pending work, relations, a live history, queries, every action,
and refusals showing the server's error envelope."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.console.conftest import screenshot


def events(page, event_type: str):
    return page.locator(f'.timeline li[data-type="{event_type}"]')


def open_workflow(open_page, namespace: str, workflow_id: str):
    watched = open_page(namespace)
    watched.open(f"#/workflow/{workflow_id}")
    expect(watched.page.locator(".timeline li").first).to_be_visible()
    expect(watched.page.locator(".live-indicator")).to_have_text("live")
    return watched.page


def act(page, action: str, fields: dict[str, str] | None = None) -> None:
    """Click an action, fill its dialog, confirm."""
    page.locator(f'.toolbar button[data-action="{action}"]').click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_be_visible()
    for label, value in (fields or {}).items():
        dialog.get_by_label(label).fill(value)
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_have_count(0)


def test_detail_shows_summary_and_history_and_follows_it_live(
    open_page, server, namespace, tmp_path
):
    workflow_id = server.start(namespace, "collector", search_attributes={"customer": "acme"})
    page = open_workflow(open_page, namespace, workflow_id)
    expect(page.locator(".page-head .badge")).to_have_text("Running")
    summary = page.locator("section[aria-labelledby=summary-title]")
    expect(summary).to_contain_text(workflow_id)
    expect(summary).to_contain_text(namespace)
    expect(events(page, "WorkflowStarted")).to_have_count(1)

    server.signal(namespace, workflow_id, "note", {"item": "book"})
    signal = events(page, "SignalReceived")
    expect(signal).to_have_count(1)
    signal.locator("summary").click()
    payload = json.loads(signal.locator("pre").inner_text())
    assert payload == {"name": "note", "payload": {"item": "book"}}
    seqs = page.locator(".timeline li").evaluate_all("items => items.map(i => +i.dataset.seq)")
    assert seqs == list(range(1, len(seqs) + 1))
    screenshot(page, "workflow", tmp_path)

    # The terminal event arrives live and the summary follows.
    server.signal(namespace, workflow_id, "finish", "done")
    expect(events(page, "WorkflowCompleted")).to_have_count(1)
    expect(page.locator(".page-head .badge")).to_have_text("Completed")


def test_history_resumes_after_the_stream_drops(open_page, server, namespace):
    workflow_id = server.start(namespace, "collector")
    watched = open_page(namespace)
    page = watched.page
    listed: list[str] = []
    page.on("requestfinished", lambda r: listed.append(r.url) if "parent=" in r.url else None)
    watched.open(f"#/workflow/{workflow_id}")
    expect(page.locator(".live-indicator")).to_have_text("live")
    # The page describes the workflow twice on opening (before and after reading its history),
    # each time ending with a listing of its children: going offline before the second listing
    # is done would fail it and log a console error.
    for _ in range(200):
        if len(listed) >= 2:
            break
        page.wait_for_timeout(50)
    assert len(listed) >= 2, listed
    page.context.set_offline(True)  # drops the socket; the page reconnects with resume_from_seq
    for i in range(2):
        server.signal(namespace, workflow_id, "note", i)
    page.context.set_offline(False)
    # Reconnects back off (0.5, 1, 2, 5 s...): a slow machine may see the 5 s step.
    expect(events(page, "SignalReceived")).to_have_count(2, timeout=15_000)
    seqs = page.locator(".timeline li").evaluate_all("items => items.map(i => +i.dataset.seq)")
    assert seqs == list(range(1, len(seqs) + 1))


def test_pending_work_parent_and_children_are_shown(open_page, server, namespace):
    pending = server.start(namespace, "pending")
    watched = open_page(namespace)
    page = watched.page
    watched.open(f"#/workflow/{pending}")
    section = page.locator("section[aria-labelledby=pending-title]")
    expect(section.locator("table tbody tr")).to_have_count(1)
    expect(section.locator("table")).to_contain_text("decline")
    expect(section.locator("table")).to_contain_text("card declined")
    expect(section.get_by_label("Pending timers")).to_contain_text("fires")

    parent = server.start(namespace, "parent")
    watched.open(f"#/workflow/{parent}")
    children = page.get_by_label("Children").locator("a")
    expect(children).to_have_count(1)
    children.click()
    expect(page.locator("section[aria-labelledby=summary-title]")).to_contain_text(parent)
    page.locator("section[aria-labelledby=relations-title] p a").click()
    expect(page.locator(".breadcrumb")).to_contain_text(parent)


def test_the_run_chain_links_each_runs_history(open_page, server, namespace):
    workflow_id = server.start(namespace, "looper", 0)
    status, outcome = server.call(
        "POST", "/workflows/result",
        {"namespace": namespace, "workflow_id": workflow_id, "wait_ms": 10000},
    )  # fmt: skip
    assert status == 200 and outcome["status"] == "Completed", outcome
    watched = open_page(namespace)
    page = watched.page
    watched.open(f"#/workflow/{workflow_id}")
    runs = page.locator("ol.runs li a")
    expect(runs).to_have_count(2)
    expect(events(page, "WorkflowStarted")).to_have_count(2)
    first_run = runs.first.inner_text()
    runs.first.click()
    expect(page.locator(".run-filter")).to_contain_text(first_run)
    visible = page.locator(".timeline li:not([hidden])")
    expect(visible.locator(".event-type").last).to_have_text("WorkflowContinuedAsNew")
    assert set(visible.evaluate_all("items => items.map(i => i.dataset.run)")) == {first_run}
    page.get_by_role("link", name="Show every run").click()
    expect(page.locator(".timeline li:not([hidden])")).to_have_count(
        page.locator(".timeline li").count()
    )


def test_query_with_arguments_and_a_query_error(open_page, server, namespace):
    workflow_id = server.start(namespace, "collector")
    page = open_workflow(open_page, namespace, workflow_id)
    page.get_by_label("Query name").fill("echo")
    page.get_by_label("Arguments (JSON list)").fill('[1, "two", {"three": 3}]')
    page.get_by_role("button", name="Run query").click()
    answer = page.locator(".query-answer .notice.success pre")
    expect(answer).to_be_visible()
    assert json.loads(answer.inner_text()) == [1, "two", {"three": 3}]
    page.get_by_label("Query name").fill("no_such_query")
    page.get_by_role("button", name="Run query").click()
    expect(page.locator(".query-answer .error-code")).to_have_text("unknown_query")


def test_every_action_acts_and_shows_its_answer(open_page, server, namespace):
    workflow_id = server.start(namespace, "collector")
    page = open_workflow(open_page, namespace, workflow_id)
    head = page.locator(".page-head .badge")
    outcome = page.locator(".outcome")

    act(page, "signal", {"Signal name": "note", "Payload (JSON)": '{"from": "console"}'})
    expect(outcome.locator(".notice.success")).to_contain_text("Signal recorded")
    expect(events(page, "SignalReceived")).to_have_count(1)

    act(page, "pause", {"Reason (optional)": "maintenance"})
    expect(outcome).to_contain_text("Workflow paused")
    expect(head).to_have_text("Paused")
    expect(events(page, "WorkflowPaused")).to_contain_text("maintenance")

    act(page, "resume")
    expect(outcome).to_contain_text("Workflow resumed")
    expect(head).to_have_text("Running")

    act(page, "cancel", {"Reason (optional)": "not needed"})
    expect(outcome).to_contain_text("Cancellation requested")
    expect(head).to_have_text("Cancelled")

    act(page, "reopen")
    expect(outcome).to_contain_text("Workflow reopened")
    expect(head).to_have_text("Running")
    expect(events(page, "WorkflowReopened")).to_have_count(1)

    act(page, "terminate", {"Reason (optional)": "stuck"})
    expect(outcome).to_contain_text("Workflow terminated")
    expect(head).to_have_text("Cancelled")
    act(page, "reopen")
    expect(outcome).to_contain_text("Workflow reopened")
    expect(head).to_have_text("Running")
    expect(page.locator(".live-indicator")).to_have_text("live")

    # Update: the page calls POST /workflows/update; it shows whatever the server answers.
    body = {
        "namespace": namespace,
        "workflow_id": workflow_id,
        "update_name": "add",
        "args": [1],
        "wait_ms": 10000,
    }
    act(page, "update", {"Update name": "add", "Arguments (JSON list)": "[1]"})
    status, expected = server.call("POST", "/workflows/update", body)
    if status == 200:
        expect(outcome).to_contain_text("Update finished")
    else:
        expect(outcome.locator(".error-code")).to_have_text(expected["code"])
        expect(outcome).to_contain_text(f"HTTP {status}")


def test_a_refused_action_shows_the_error_envelope(open_page, server, namespace):
    workflow_id = server.start(namespace, "greeter", "ada")
    server.call(
        "POST",
        "/workflows/result",
        {"namespace": namespace, "workflow_id": workflow_id, "wait_ms": 10000},
    )
    page = open_workflow(open_page, namespace, workflow_id)
    expect(page.locator(".page-head .badge")).to_have_text("Completed")
    act(page, "signal", {"Signal name": "note", "Payload (JSON)": "1"})
    error = page.locator(".outcome .notice.error")
    expect(error).to_contain_text("Signal refused")
    expect(error.locator(".error-code")).to_have_text("not_running")
    expect(error).to_contain_text("HTTP 412")
    expect(events(page, "SignalReceived")).to_have_count(0)

    # Reopen is refused for a Completed workflow: the page shows the server's own envelope.
    act(page, "reopen")
    status, envelope = server.call(
        "POST", "/workflows/reopen", {"namespace": namespace, "workflow_id": workflow_id}
    )
    assert status == 409
    expect(error).to_contain_text("Reopen refused")
    expect(error.locator(".error-code")).to_have_text(envelope["code"])
    expect(error.locator(".error-message")).to_have_text(envelope["message"])


def test_a_dialog_refuses_bad_json_and_dismissing_does_nothing(open_page, server, namespace):
    workflow_id = server.start(namespace, "collector")
    page = open_workflow(open_page, namespace, workflow_id)
    page.locator('.toolbar button[data-action="signal"]').click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Signal name").fill("note")
    dialog.get_by_label("Payload (JSON)").fill("{not json")
    dialog.locator("button[type=submit]").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Payload is not valid JSON")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page.locator('.toolbar button[data-action="signal"]')).to_be_focused()
    page.locator('.toolbar button[data-action="cancel"]').click()
    page.locator("dialog[open]").get_by_role("button", name="Dismiss").click()
    expect(page.locator(".page-head .badge")).to_have_text("Running")
    expect(events(page, "SignalReceived")).to_have_count(0)
