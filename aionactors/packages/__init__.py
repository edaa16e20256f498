"""Versioned workflow packages: content-hashed archives whose versions run side by side.

A package is a zip with ``aionactors-package.toml`` at its root (``name``, ``modules``,
optional ``description``). Its version is its content hash. Each version is imported
under its own module prefix, so a run pinned to an old version replays on the old code
while new starts take the type's current route.

>>> archive = build_archive(Path("orders-v2"))                   # doctest: +SKIP
>>> engine.packages.deploy(archive)                              # doctest: +SKIP
"""

from aionactors.packages._archive import (
    ExtractionLimits,
    PackageArchive,
    build_archive,
    read_archive,
    zip_files,
)
from aionactors.packages._catalog import LoadedPackage, PackageCatalog, PackageSource
from aionactors.packages._hash import content_hash, is_content_hash
from aionactors.packages._loader import module_prefix
from aionactors.packages._manifest import MANIFEST_NAME, PackageManifest, parse_manifest

__all__ = [
    "MANIFEST_NAME",
    "ExtractionLimits",
    "LoadedPackage",
    "PackageArchive",
    "PackageCatalog",
    "PackageManifest",
    "PackageSource",
    "build_archive",
    "content_hash",
    "is_content_hash",
    "module_prefix",
    "parse_manifest",
    "read_archive",
    "zip_files",
]
