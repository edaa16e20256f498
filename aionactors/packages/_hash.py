"""The canonical content hash of a package: its version, the same whatever the zip's order.

PROTOCOL.md fixes it: ``sha256:`` + the hex SHA-256 over the package's regular files sorted
by POSIX path, each contributing its UTF-8 path, a NUL byte, its length as 8 bytes
big-endian, and its bytes. Timestamps, compression and entry order never enter it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

HASH_PREFIX = "sha256:"


def content_hash(files: Mapping[str, bytes]) -> str:
    """The version of a package whose regular files are ``files`` (POSIX path -> bytes)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        data = files[path]
        digest.update(path.encode("utf-8"))
        digest.update(b"\0")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return HASH_PREFIX + digest.hexdigest()


def is_content_hash(text: str) -> bool:
    """Whether ``text`` has the shape of a content hash (``sha256:`` + 64 hex digits)."""
    hex_part = text.removeprefix(HASH_PREFIX)
    return (
        text.startswith(HASH_PREFIX)
        and len(hex_part) == 64
        and all(c in "0123456789abcdef" for c in hex_part)
    )
