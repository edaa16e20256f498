"""The archive format: canonical hash, build, and safe reading under limits (real zips)."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from pathlib import Path

import pytest

from aionactors.core.errors import PackageInvalid
from aionactors.packages import (
    MANIFEST_NAME,
    ExtractionLimits,
    build_archive,
    content_hash,
    read_archive,
    zip_files,
)
from tests.packages.support import package_files, write_package_dir

MANIFEST = b'name = "p"\nmodules = ["m"]\n'


def raw_zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_hash_follows_the_protocol_definition_byte_for_byte() -> None:
    files = {"b.py": b"x = 1\n", MANIFEST_NAME: MANIFEST}
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + len(files[path]).to_bytes(8, "big") + files[path])
    assert content_hash(files) == "sha256:" + digest.hexdigest()


def test_same_files_give_the_same_version_whatever_the_zip() -> None:
    files = package_files(1)
    stored = raw_zip([(name, files[name]) for name in reversed(sorted(files))])
    timestamped = io.BytesIO()
    with zipfile.ZipFile(timestamped, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2030, 5, 6, 7, 8, 10)), data)
    versions = {read_archive(a).content_hash for a in (zip_files(files), stored)}
    versions.add(read_archive(timestamped.getvalue()).content_hash)
    assert versions == {content_hash(files)}
    assert read_archive(zip_files(package_files(2))).content_hash not in versions


def test_build_archives_a_directory_and_skips_caches(tmp_path: Path) -> None:
    root = write_package_dir(tmp_path / "src", 1)
    (root / "greeter" / "__pycache__").mkdir()
    (root / "greeter" / "__pycache__" / "flows.cpython-311.pyc").write_bytes(b"\0junk")
    archive = read_archive(build_archive(root))
    assert set(archive.files) == set(package_files(1))
    assert archive.content_hash == content_hash(package_files(1))
    assert archive.manifest.modules == ("greeter.flows",)


def test_build_refuses_a_directory_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(PackageInvalid, match=MANIFEST_NAME):
        build_archive(tmp_path)


def test_zip_bomb_is_stopped_by_what_it_inflates_to() -> None:
    bomb = raw_zip([(MANIFEST_NAME, MANIFEST), ("m.py", b"\0" * (40 * 1024 * 1024))])
    assert len(bomb) < 100 * 1024  # a real bomb: 40 MiB of zeros in a few KiB
    with pytest.raises(PackageInvalid, match="compression ratio"):
        read_archive(bomb)
    with pytest.raises(PackageInvalid, match="inflated bytes"):
        read_archive(bomb, ExtractionLimits(max_inflated_bytes=1024 * 1024, max_ratio=10**6))


def test_a_header_that_lies_about_the_size_does_not_help() -> None:
    data = raw_zip([(MANIFEST_NAME, MANIFEST), ("m.py", b"\0" * 5_000_000)])
    # Patch the local and central headers' uncompressed size to claim 10 bytes.
    forged = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("m.py")
    real = info.file_size.to_bytes(4, "little")
    forged = bytearray(bytes(forged).replace(real, (10).to_bytes(4, "little")))
    with pytest.raises(PackageInvalid):
        read_archive(bytes(forged), ExtractionLimits(max_inflated_bytes=1_000_000, max_ratio=1e9))


@pytest.mark.parametrize(
    ("name", "cause"),
    [
        ("../evil.py", "climbs out"),
        ("greeter/../../evil.py", "climbs out"),
        ("/etc/evil.py", "absolute"),
        ("C:/evil.py", "POSIX"),
        ("greeter\\evil.py", "POSIX"),
    ],
)
def test_zip_slip_paths_are_refused(name: str, cause: str) -> None:
    with pytest.raises(PackageInvalid, match=cause):
        read_archive(raw_zip([(MANIFEST_NAME, MANIFEST), (name, b"x = 1")]))


@pytest.mark.parametrize(
    ("mode", "cause"), [(stat.S_IFLNK | 0o777, "a link"), (stat.S_IFCHR | 0o600, "device")]
)
def test_links_and_devices_are_refused(mode: int, cause: str) -> None:
    entry = zipfile.ZipInfo("greeter/link.py")
    entry.external_attr = mode << 16
    with pytest.raises(PackageInvalid, match=cause):
        read_archive(raw_zip([(MANIFEST_NAME, MANIFEST), (entry, b"/etc/passwd")]))


def test_count_and_size_limits() -> None:
    many = raw_zip([(MANIFEST_NAME, MANIFEST)] + [(f"f{i}.py", b"") for i in range(20)])
    with pytest.raises(PackageInvalid, match="21 entries; the limit is 10"):
        read_archive(many, ExtractionLimits(max_files=10))
    with pytest.raises(PackageInvalid, match="the limit is 100"):
        read_archive(many, ExtractionLimits(max_compressed_bytes=100))


@pytest.mark.parametrize(
    ("files", "cause"),
    [
        ({"m.py": b""}, "no aionactors-package.toml"),
        ({MANIFEST_NAME: b"name = "}, "not valid TOML"),
        ({MANIFEST_NAME: b'name = "p"'}, "modules: Field required"),
        ({MANIFEST_NAME: b'name = "p"\nmodules = ["../x"]'}, "not an importable module"),
        ({MANIFEST_NAME: b'name = "p"\nmodules = ["m"]\nextra = 1'}, "extra: Extra inputs"),
    ],
)
def test_bad_manifests_name_the_cause(files: dict[str, bytes], cause: str) -> None:
    with pytest.raises(PackageInvalid, match=cause):
        read_archive(zip_files(files))


def test_not_a_zip() -> None:
    with pytest.raises(PackageInvalid, match="not a zip"):
        read_archive(b"PK\x03\x04 but not really")


def test_duplicate_entries_are_refused() -> None:
    with pytest.warns(UserWarning):  # zipfile itself warns about the duplicate name
        data = raw_zip([(MANIFEST_NAME, MANIFEST), ("m.py", b"a"), ("m.py", b"b")])
    with pytest.raises(PackageInvalid, match="appears twice"):
        read_archive(data)
