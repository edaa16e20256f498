"""Which servers a remote worker keeps a session with: the live nodes of ``GET /cluster``.

Activities are dispatched by the node that owns the workflow's shard, so a worker
serves a cluster by holding one session per node that owns shards. The node that
answered at the URL the worker was given (the seed) is dialled at that URL (the worker
knows it reaches it); the others at their advertise URL. A lone server answers with
itself as the one node owning the one shard: one session at the seed URL, as before
clusters existed. A node whose leases lapsed (it died; the others took its shards)
owns nothing and is dropped; a node that joined is added once it owns shards.

>>> m = Membership("http://a:8080")
>>> m.targets()
{'http://a:8080': ''}
>>> m.update({"node_id": "a", "nodes": [
...     {"node_id": "a", "address": "http://10.0.0.1:8080", "owned_shards": [0]},
...     {"node_id": "b", "address": "http://10.0.0.2:8080", "owned_shards": [1]}]},
...     answered_at="http://a:8080")
{'http://a:8080': 'a', 'http://10.0.0.2:8080': 'b'}
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class _Node(BaseModel):
    node_id: str
    address: str
    owned_shards: list[int]


class _Reply(BaseModel):
    node_id: str
    nodes: list[_Node]


class Membership:
    """The session targets (URL → node id), updated from ``GET /cluster`` answers."""

    def __init__(self, seed_url: str) -> None:
        self.seed_url = seed_url.rstrip("/")
        self.seed_node: str | None = None
        """The node id that answered at the seed URL (None until one did)."""
        self._targets: dict[str, str] = {self.seed_url: ""}

    def targets(self) -> dict[str, str]:
        """URL → node id of every session to keep (the seed alone until an answer came)."""
        return dict(self._targets)

    def discovery_urls(self) -> list[str]:
        """Where to ask ``GET /cluster``: the seed first, then every known node."""
        return [self.seed_url, *(url for url in self._targets if url != self.seed_url)]

    def update(self, body: Any, *, answered_at: str) -> dict[str, str]:
        """Take one ``GET /cluster`` answer (from ``answered_at``); the new targets."""
        reply = _Reply.model_validate(body)
        if answered_at.rstrip("/") == self.seed_url:
            self.seed_node = reply.node_id

        def url_of(node: _Node) -> str:
            return self.seed_url if node.node_id == self.seed_node else node.address.rstrip("/")

        live = [n for n in reply.nodes if n.owned_shards or n.node_id == reply.node_id]
        self._targets = {url_of(node): node.node_id for node in live}
        return self.targets()

    def seed_only(self) -> dict[str, str]:
        """The seed answered that it has no ``GET /cluster`` (an older server): it alone."""
        self._targets = {self.seed_url: self.seed_node or ""}
        return self.targets()
