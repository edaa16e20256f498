"""Package archives: build one from a directory, and read one safely, in memory, under limits.

A deployed archive is untrusted input. It is read with the standard library's ``zipfile``
and never extracted to disk: each entry's name is checked (no absolute paths, no ``..``,
no backslashes or drive letters), its mode (regular files and directories only: links,
devices and FIFOs are refused), and its bytes are inflated in bounded chunks, so a zip
bomb is stopped by what it actually inflates to, not by the sizes its headers claim.
(No well-kept safe-unzip library exists on PyPI; the candidates are young 0.x releases.)
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field

from aionactors.core.errors import PackageInvalid
from aionactors.packages._hash import content_hash
from aionactors.packages._manifest import MANIFEST_NAME, PackageManifest, parse_manifest

_CHUNK = 64 * 1024
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SKIPPED_PARTS = frozenset({"__pycache__", ".git", ".venv", ".mypy_cache", ".pytest_cache"})


class ExtractionLimits(BaseModel):
    """Ceilings for a deployed archive; any one exceeded refuses the whole archive."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_compressed_bytes: int = Field(16 * 1024 * 1024, ge=1)
    """The archive itself, as received."""
    max_inflated_bytes: int = Field(64 * 1024 * 1024, ge=1)
    """All files together, inflated."""
    max_files: int = Field(2_000, ge=1)
    max_ratio: float = Field(200.0, ge=1.0)
    """Inflated bytes per compressed byte, per entry and for the whole archive."""


@dataclass(frozen=True)
class PackageArchive:
    """A verified archive: its manifest, its regular files and its content hash (version)."""

    manifest: PackageManifest
    files: Mapping[str, bytes]
    content_hash: str
    archive: bytes


def build_archive(directory: Path) -> bytes:
    """Zip ``directory`` (which holds the manifest) deterministically; returns the bytes."""
    root = Path(directory)
    if not (root / MANIFEST_NAME).is_file():
        raise PackageInvalid(f"{root} has no {MANIFEST_NAME}")
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if _SKIPPED_PARTS.intersection(relative.parts) or path.suffix == ".pyc":
            continue
        if path.is_symlink():
            raise PackageInvalid(f"{relative.as_posix()} is a link; packages hold regular files")
        if path.is_file():
            files[relative.as_posix()] = path.read_bytes()
    parse_manifest(files[MANIFEST_NAME])  # refuse to build what deploy would refuse
    return zip_files(files)


def zip_files(files: Mapping[str, bytes]) -> bytes:
    """The canonical zip of ``files``: sorted, fixed timestamps, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def read_archive(data: bytes, limits: ExtractionLimits | None = None) -> PackageArchive:
    """Verify and read an archive in memory; PackageInvalid names the first problem found."""
    limits = limits or ExtractionLimits()
    if len(data) > limits.max_compressed_bytes:
        raise PackageInvalid(
            f"the archive is {len(data)} bytes; the limit is {limits.max_compressed_bytes}"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise PackageInvalid(f"not a zip archive: {exc}") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_files:
            raise PackageInvalid(
                f"the archive holds {len(entries)} entries; the limit is {limits.max_files}"
            )
        files = _read_entries(archive, entries, limits, len(data))
    if MANIFEST_NAME not in files:
        raise PackageInvalid(f"the archive has no {MANIFEST_NAME} at its root")
    manifest = parse_manifest(files[MANIFEST_NAME])
    return PackageArchive(manifest, files, content_hash(files), data)


def _read_entries(
    archive: zipfile.ZipFile,
    entries: list[zipfile.ZipInfo],
    limits: ExtractionLimits,
    compressed_total: int,
) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    inflated_total = 0
    for entry in entries:
        name = _checked_name(entry)
        if entry.is_dir():
            continue
        if name in files:
            raise PackageInvalid(f"{name!r} appears twice in the archive")
        budget = limits.max_inflated_bytes - inflated_total
        ratio_cap = int(max(entry.compress_size, 1) * limits.max_ratio)
        data = _inflate(archive, entry, name, min(budget, ratio_cap), budget < ratio_cap)
        inflated_total += len(data)
        files[name] = data
    if inflated_total > compressed_total * limits.max_ratio:
        raise PackageInvalid(
            f"the archive inflates {inflated_total / max(compressed_total, 1):.0f} times its "
            f"size; the limit is {limits.max_ratio:g}"
        )
    return files


def _inflate(
    archive: zipfile.ZipFile, entry: zipfile.ZipInfo, name: str, cap: int, total_bound: bool
) -> bytes:
    """The entry's bytes, read in chunks and refused as soon as they pass ``cap``."""
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(entry) as source:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > cap:
                    if total_bound:
                        raise PackageInvalid(
                            f"the archive inflates past the limit of inflated bytes (at {name!r})"
                        )
                    raise PackageInvalid(f"{name!r} inflates past the compression ratio limit")
                chunks.append(chunk)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise PackageInvalid(f"{name!r} cannot be read: {exc}") from None
    return b"".join(chunks)


def _checked_name(entry: zipfile.ZipInfo) -> str:
    """The entry's POSIX path if it is a plain relative path to a file or directory."""
    raw = entry.filename
    mode = entry.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        what = "a link" if kind == stat.S_IFLNK else "a device or special file"
        raise PackageInvalid(f"{raw!r} is {what}; packages hold regular files only")
    if "\\" in raw or "\0" in raw or (len(raw) > 1 and raw[1] == ":"):
        raise PackageInvalid(f"{raw!r} is not a plain POSIX path")
    path = PurePosixPath(raw)
    if path.is_absolute():
        raise PackageInvalid(f"{raw!r} is an absolute path")
    if ".." in path.parts:
        raise PackageInvalid(f"{raw!r} climbs out of the archive ('..')")
    name = path.as_posix()
    if name in ("", "."):
        raise PackageInvalid(f"{raw!r} is not a file name")
    return name
