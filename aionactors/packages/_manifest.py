"""The manifest ``aionactors-package.toml``: the package's name and the modules it defines."""

from __future__ import annotations

import re
import tomllib

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aionactors.core.errors import PackageInvalid

MANIFEST_NAME = "aionactors-package.toml"
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class PackageManifest(BaseModel):
    """``name`` labels the package; ``modules`` are imported and scanned for definitions."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=200)
    modules: tuple[str, ...] = Field(min_length=1)
    description: str = ""

    @field_validator("modules")
    @classmethod
    def _module_names(cls, modules: tuple[str, ...]) -> tuple[str, ...]:
        for module in modules:
            if not _MODULE.match(module):
                raise ValueError(f"{module!r} is not an importable module name")
        return modules


def parse_manifest(data: bytes) -> PackageManifest:
    """Read the manifest's TOML; PackageInvalid names what is wrong."""
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PackageInvalid(f"{MANIFEST_NAME} is not valid TOML: {exc}") from None
    try:
        return PackageManifest.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'manifest'}: {error['msg']}"
            for error in exc.errors()
        )
        raise PackageInvalid(f"{MANIFEST_NAME} is invalid: {problems}") from None
