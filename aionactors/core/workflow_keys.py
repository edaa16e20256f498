"""Per-namespace workflow ids: the key a workflow has in the engine and the store.

Each namespace has its own id space, so a start's answer never depends on
another tenant's workflows. A workflow of the ``default`` namespace is keyed by
its id, as before; one of any other namespace by ``<namespace>\\x1f<id>`` (the
ASCII unit separator, refused in ids and namespace names, so a key is never
ambiguous). The engine, the store and every event use keys; what a caller sees
(HTTP replies, stream frames, worker tasks) is the id in its namespace.

A store written before ids were per namespace may hold workflows of other
namespaces under their bare ids; :func:`legacy_key` names where to look for them.
"""

from __future__ import annotations

from typing import Any

from aionactors.core.errors import InvalidInput
from aionactors.core.search import DEFAULT_NAMESPACE

KEY_SEPARATOR = "\x1f"
"""Between a namespace and an id in a key; never part of either."""

ID_FIELDS = frozenset(
    {
        "workflow_id",
        "parent_workflow_id",
        "child_workflow_id",
        "target_workflow_id",
        "triggered_workflow_id",
        "parent",  # a summary's parent
    }
)
"""Fields of the wire forms (events, summaries, descriptions, tasks) that hold keys."""

_USER_DATA = frozenset({"input", "result", "payload", "args", "search_attributes", "details"})
"""Fields holding users' own JSON, which is shown as it was given."""


def check_id_text(text: str, what: str) -> None:
    """Refuse an id or namespace that holds the key separator."""
    if KEY_SEPARATOR in text:
        raise InvalidInput(f"{what} must not contain the control character U+001F")


def workflow_key(namespace: str, workflow_id: str) -> str:
    """The engine's key for ``workflow_id`` in ``namespace``; InvalidInput for a bad id."""
    check_id_text(namespace, "namespace")
    check_id_text(workflow_id, "workflow_id")
    return peer_key(namespace, workflow_id)


def peer_key(namespace: str, workflow_id: str) -> str:
    """The key of a child or signal target that workflow code names, unchecked.

    Called on actor threads, where raising would crash the actor: an id holding the
    separator yields a key no workflow has, and the child's start refuses it.
    """
    if namespace == DEFAULT_NAMESPACE:
        return workflow_id
    return f"{namespace}{KEY_SEPARATOR}{workflow_id}"


def public_id(key: str) -> str:
    """The id a caller knows a workflow by (the key without its namespace)."""
    if KEY_SEPARATOR not in key:
        return key
    return key.partition(KEY_SEPARATOR)[2]


def key_namespace(key: str) -> str:
    """The namespace a key names; ``default`` for a bare key (which a store from before
    per-namespace ids may also hold for another namespace's workflow)."""
    if KEY_SEPARATOR not in key:
        return DEFAULT_NAMESPACE
    return key.partition(KEY_SEPARATOR)[0]


def legacy_key(namespace: str, workflow_id: str) -> str | None:
    """Where a store from before per-namespace ids kept this workflow (None: same key)."""
    return None if namespace == DEFAULT_NAMESPACE else workflow_id


def public_json(value: Any) -> Any:
    """A wire form (dict, list) with every workflow key in it shown as its id.

    Returns ``value`` itself when nothing changes (the default namespace has no
    separators to strip), a changed copy otherwise; users' payloads are left alone.
    """
    if isinstance(value, dict):
        changed: dict[str, Any] = {}
        for field, item in value.items():
            if field in _USER_DATA:
                continue
            if field in ID_FIELDS and isinstance(item, str):
                shown: Any = public_id(item)
            else:
                shown = public_json(item)
            if shown is not item:
                changed[field] = shown
        return {**value, **changed} if changed else value
    if isinstance(value, list):
        shown_items = [public_json(item) for item in value]
        if any(a is not b for a, b in zip(shown_items, value, strict=True)):
            return shown_items
        return value
    return value
