"""The README's snippets run as pasted: every ```python and ```bash block, in README order.

Conventions (an HTML comment on the line just before a block's opening fence):

- ``<!-- readme-test: skip (reason) -->``: not run (installs, long-running servers,
  benchmarks, fragments). The reason is required, so every skip says why.
- ``<!-- readme-test: continue -->``: a python block that goes on from the previous
  python block (the tour): both run together, in one process.

Python blocks run in a fresh interpreter with a temporary working directory. Shell
blocks run under ``bash -euo pipefail`` in a temporary directory, with ``.venv/bin/``
meaning this interpreter's bin directory. Both talk to one real ``aionactors serve
--load aionactors.demo`` started for this module on a free port: the README's port
(8080, serve's default) is replaced by it, and ``AIONACTORS_SERVER`` points there. A
failure names the README line of the block and of the failing line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.transports.processes import free_port, stop_server

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = re.compile(r"^<!--\s*readme-test:\s*(skip\s*\((?P<reason>[^)]+)\)|continue)\s*-->$")
FENCE = re.compile(r"^```(?P<lang>[A-Za-z0-9_+-]*)\s*$")
RUNNABLE = {"python": "python", "py": "python", "bash": "bash", "sh": "bash", "shell": "bash"}
README_PORT = re.compile(r"(?<=[:/])8080\b")
BLOCK_SECONDS = 60
SHELL_PRELUDE = (
    "set -euo pipefail\n"
    "trap 'echo \"readme-test: block line $LINENO failed: $BASH_COMMAND\" >&2' ERR\n"
)


@dataclass
class Block:
    line: int
    """README line of the opening fence; the block's own line 1 is ``line + 1``."""
    lang: str
    code: str
    skip: str | None = None
    continues: bool = False


def readme_blocks() -> list[Block]:
    lines = README.read_text().splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        lang = RUNNABLE.get(fence["lang"].lower())
        if lang is None:
            continue
        previous = lines[start - 1].strip() if start else ""
        marker = MARKER.match(previous)
        block = Block(start + 1, lang, "\n".join(body) + "\n")
        if marker:
            block.skip = marker["reason"]
            block.continues = marker["reason"] is None
        blocks.append(block)
    return blocks


def program(block: Block, blocks: list[Block]) -> tuple[str, int]:
    """The code to run and the README line of its first line."""
    if not block.continues:
        return block.code, block.line + 1
    index = blocks.index(block)
    earlier = [b for b in blocks[:index] if b.lang == "python"]
    if not earlier:
        raise AssertionError(f"README line {block.line}: 'continue' with no python block before")
    code, first = program(earlier[-1], blocks)
    return code + block.code, first


BLOCKS = readme_blocks()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("readme-server")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIONACTORS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "aionactors.cli", "serve", "--port", str(port),
         "--db", f"sqlite:///{home / 'readme.db'}", "--load", "aionactors.demo"],
        cwd=home, env=env | {"PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("aionactors listening on http://"), line
    yield f"http://127.0.0.1:{port}"
    stop_server(process)


def test_the_readme_has_runnable_blocks() -> None:
    assert sum(1 for b in BLOCKS if b.skip is None) >= 8
    for block in BLOCKS:
        if block.continues:
            program(block, BLOCKS)  # a 'continue' needs a python block before it


@pytest.mark.parametrize("block", BLOCKS, ids=[f"line{b.line}-{b.lang}" for b in BLOCKS])
def test_readme_block_runs_as_pasted(block: Block, server: str, tmp_path: Path) -> None:
    if block.skip is not None:
        pytest.skip(f"README line {block.line}: {block.skip}")
    code, first_line = program(block, BLOCKS)
    port = server.rsplit(":", 1)[1]
    code = README_PORT.sub(port, code).replace(".venv/bin/", f"{Path(sys.executable).parent}/")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIONACTORS_")}
    env |= {"AIONACTORS_SERVER": server, "PYTHONPATH": str(ROOT)}
    if block.lang == "python":
        script = tmp_path / "block.py"
        script.write_text(code)
        command = [sys.executable, str(script)]
        offset = first_line - 1
    else:
        command = ["bash", "-c", SHELL_PRELUDE + code]
        offset = first_line - 1 - SHELL_PRELUDE.count("\n")
    try:
        done = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=BLOCK_SECONDS
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"README block at line {block.line} ({block.lang}) ran over {BLOCK_SECONDS} s"
        ) from exc
    if done.returncode != 0:
        where = [int(n) + offset for n in re.findall(r'block(?:\.py", line| line) (\d+)',
                                                     done.stderr)]  # fmt: skip
        at = f", failing at README line {where[-1]}" if where else ""
        raise AssertionError(
            f"README block at line {block.line} ({block.lang}) exited {done.returncode}{at}\n"
            f"--- stdout ---\n{done.stdout[-2000:]}\n--- stderr ---\n{done.stderr[-3000:]}"
        )
