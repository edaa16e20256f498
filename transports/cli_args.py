"""Argument types the CLI verbs share: JSON options (an argparse error for text not JSON)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def json_arg(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None


def json_list(text: str) -> list[Any]:
    """A JSON list of arguments; any other JSON value is one argument."""
    value = json_arg(text)
    return value if isinstance(value, list) else [value]
