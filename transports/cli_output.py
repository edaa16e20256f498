"""How the CLI prints an answer: JSON with ``--json``, otherwise for a person to read.

A list of objects (workflows, events, schedules) is a table of its scalar columns; an
object is ``key  value`` lines (nested values as compact JSON); an empty answer is
``ok``.
"""

from __future__ import annotations

import json
from typing import Any

_MAX_CELL = 60


def print_answer(answer: Any, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer, indent=2))
        return
    print(render(answer))


def render(answer: Any) -> str:
    if isinstance(answer, dict):
        rows = _rows_of(answer)
        if rows is not None:
            return table(rows)
        if not answer:
            return "ok"
        width = max(len(str(key)) for key in answer)
        return "\n".join(
            f"{key:<{width}}  {_cell(value, limit=None)}" for key, value in answer.items()
        )
    if isinstance(answer, list) and all(isinstance(item, dict) for item in answer):
        return table(answer)
    return _cell(answer, limit=None)


def _rows_of(answer: dict[str, Any]) -> list[dict[str, Any]] | None:
    """``{workflows: [...], next_page_token}``-shaped answers print their list."""
    lists = [v for v in answer.values() if isinstance(v, list)]
    if len(lists) == 1 and all(isinstance(item, dict) for item in lists[0]):
        others = [v for v in answer.values() if not isinstance(v, list)]
        if all(v is None or isinstance(v, str | int) for v in others):
            return lists[0]
    return None


def table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(none)"
    columns: list[str] = []
    for row in rows:
        columns += [k for k, v in row.items() if k not in columns and not isinstance(v, dict)]
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def _cell(value: Any, limit: int | None = _MAX_CELL) -> str:
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"
