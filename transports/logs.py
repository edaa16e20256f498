"""Logging for ``aionactors serve``: the standard ``logging`` module, text or one JSON object
per line (``--log-format json``).

Records carry their subject as ``extra`` fields (``workflow_id``, ``namespace``,
``run_id``, ...; see ``aionactors.engine.oplog``). The JSON formatter writes them as
top-level keys; the text formatter appends them as ``key=value``. Operators see ids as
callers do: a workflow key of a namespace other than ``default`` (``ns\\x1fid``) in a
field is written as its id plus a ``namespace`` field, and in a message as its id.
Both are ~30 lines of stdlib, so python-json-logger would add a dependency for less
control over the keys.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from aionactors.core.workflow_keys import ID_FIELDS, KEY_SEPARATOR, key_namespace, public_id

LogFormat = Literal["text", "json"]

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


_KEY_PREFIX = re.compile(f"[^\\s'\"\\\\{KEY_SEPARATOR}]+(?:{KEY_SEPARATOR}|\\\\x1f)")
"""The ``namespace\\x1f`` of a workflow key written into a message (as is, or as ``%r``
writes it)."""


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a caller passed with ``extra=`` (None values left out),
    workflow keys shown as ids beside their ``namespace``."""
    fields = {
        key: value
        for key, value in record.__dict__.items()
        if key not in _STANDARD and not key.startswith("_") and value is not None
    }
    for name in ID_FIELDS & fields.keys():
        value = fields[name]
        if isinstance(value, str) and KEY_SEPARATOR in value:
            fields[name] = public_id(value)
            fields.setdefault("namespace", key_namespace(value))
    return fields


def shown_message(record: logging.LogRecord) -> str:
    """The record's message with every workflow key in it written as its id."""
    message = record.getMessage()
    return _KEY_PREFIX.sub("", message)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (RFC 3339 UTC), level, logger, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": shown_message(record),
            **extra_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value ...``, for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = shown_message(record)
        line = super().formatMessage(record)
        fields = " ".join(f"{k}={v}" for k, v in extra_fields(record).items())
        return f"{line} {fields}" if fields else line


def configure_logging(log_format: LogFormat = "text", stream: TextIO | None = None) -> None:
    """Send every logger's INFO and above to ``stream`` (stderr) in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
