"""A lease node process for the cluster tests (see tests/cluster/support.py)."""

from __future__ import annotations

import json
import sys
import threading

from aionactors.cluster import FencedPostgresStore, LeaseManager
from aionactors.core.errors import StoreError
from aionactors.store.contract import WriteToken
from tests.cluster.support import settings, started_event

_OUT = threading.Lock()


def say(message: dict[str, object]) -> None:
    """One JSON line per message: the renew thread and the command loop both report, and
    print() writes a line's text and its newline apart, so two could share a line."""
    with _OUT:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def main(dsn: str, schema: str, node_id: str) -> None:
    reported: list[int] = []

    def report(_: object = None) -> None:
        owned = manager.owned_shards()
        if owned != reported:
            reported[:] = owned
            say({"owned": owned})

    manager = LeaseManager(dsn, settings(node_id, schema))
    manager.add_renew_listener(report)
    store = FencedPostgresStore(dsn, leases=manager, schema=schema, pool_size=1)
    manager.start()
    report()
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "append":
            try:
                store.append(WriteToken.recorder(), argument, [started_event(argument)], 0)
                say({"append": argument, "ok": True})
            except StoreError as exc:
                say({"append": argument, "ok": False, "error": exc.error_type})
    manager.stop()
    store.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
