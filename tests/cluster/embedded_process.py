"""A Python program embedding a cluster node: ``python -m tests.cluster.embedded_process DB ID``.

It opens ``Engine.open(DB)`` (short leases, as the served nodes in these tests), prints
``ready`` once it runs its share, and waits to be killed.
"""

from __future__ import annotations

import sys
import threading

from tests.cluster.test_embedded_node import embedded


def main() -> None:
    db, node_id = sys.argv[1], sys.argv[2]
    engine = embedded(db, node_id)
    print("ready", engine.node.settings.advertise_url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
