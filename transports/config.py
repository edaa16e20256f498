"""Server configuration: defaults < TOML file < ``AIONACTORS_*`` environment < command line.

``ServerConfig`` is the plain model the app reads (tests build it directly);
``load_settings`` adds the file and the environment through pydantic-settings.
Unknown keys are errors everywhere, including ``AIONACTORS_*`` variables that
name no setting (``AIONACTORS_TEST_*`` is left to the test suite). Nested
engine settings are ``[engine]`` in TOML and ``AIONACTORS_ENGINE__MAX_RESIDENT``
in the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from aionactors.cluster import LeaseTuning
from aionactors.engine import EngineSettings
from aionactors.store import DEFAULT_URL
from aionactors.store.urls import is_postgres_url
from transports.jwt import check_jwks_url
from transports.jwt_keys import JwtAlgorithm, secret_key

ENV_PREFIX = "AIONACTORS_"
_ENV_IGNORED_PREFIX = "AIONACTORS_TEST_"
CLIENT_ENV_VARIABLES = frozenset({"AIONACTORS_SERVER", "AIONACTORS_NAMESPACE", "AIONACTORS_TOKEN"})
"""The CLI client's own variables (``aionactors workflow ...``): serve ignores them."""


class ServerConfig(BaseModel):
    """Everything ``aionactors serve`` can be told."""

    model_config = ConfigDict(extra="forbid")
    db: str = Field(
        DEFAULT_URL, description="store URL: sqlite:///PATH, postgresql://..., memory://"
    )
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535, description="0 picks a free port")
    load: list[str] = Field(default_factory=list, description="modules with workflows/activities")
    packages: list[Path] = Field(
        default_factory=list, description="operator package archives (each boot; never stored)"
    )
    auth: Literal["headers", "jwt"] = "headers"
    jwt_secret: SecretStr | None = Field(
        None, description="HS256/384/512 shared secret, at least 32 bytes"
    )
    jwt_public_key_file: Path | None = Field(
        None, description="PEM public key (RSA, EC P-256/384/521, Ed25519/Ed448)"
    )
    jwks_file: Path | None = Field(None, description="local JWKS file")
    jwks_url: str | None = Field(
        None, description="JWKS endpoint, https:// (http:// only for a loopback host)"
    )
    jwks_cache_seconds: float = Field(300.0, gt=0, description="how long a fetched JWKS is used")
    jwks_refresh_cooldown_seconds: float = Field(
        30.0, ge=0, description="least time between refetches for an unknown kid"
    )
    jwks_timeout_seconds: float = Field(5.0, gt=0)
    jwt_algorithms: list[JwtAlgorithm] | None = Field(
        None, description="accept only these algorithms (default: whatever each key allows)"
    )
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: float = Field(30.0, ge=0)
    max_body_bytes: int = Field(1 << 20, ge=1024)
    outbound_buffer: int = Field(
        4096, ge=1, description="events buffered per stream subscriber (then lagged)"
    )
    outbound_buffer_bytes: int = Field(
        1 << 20, ge=1024, description="bytes of frames buffered per stream subscriber (then lagged)"
    )
    send_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=600,
        description="a stream frame not written within this is a reader that stopped: "
        "its connection is reset",
    )
    drain_timeout_seconds: float = Field(30.0, ge=0)
    engine_threads: int = Field(64, ge=4, description="worker threads for engine calls")
    log_format: Literal["text", "json"] = Field("text", description="json: one object per line")
    worker_heartbeat_window_ms: int = Field(
        30000, ge=100, description="a remote worker silent this long while holding a task is lost"
    )
    worker_queue_rate: float | None = Field(
        None, gt=0, description="tasks/s sent per task queue to remote workers (None: no limit)"
    )
    engine: EngineSettings = Field(default_factory=EngineSettings)
    cluster: bool | None = Field(
        None,
        description="be a node of the cluster on this PostgreSQL database (--db); unset: yes"
        " for a postgresql:// db, no otherwise (false: a server of its own, as before clusters)",
    )
    node_id: str | None = Field(
        None, description="this node's name, unique per running node (default HOSTNAME:PORT-PID)"
    )
    advertise_url: str | None = Field(
        None,
        description="how the other nodes reach this one (default http://HOST:PORT of the bound"
        " address, the host name for a wildcard host)",
    )
    leases: LeaseTuning = Field(default_factory=LeaseTuning)

    @property
    def is_cluster(self) -> bool:
        """Whether this server is a cluster node (every PostgreSQL server is, unless told not)."""
        return self.cluster if self.cluster is not None else is_postgres_url(self.db)

    @model_validator(mode="after")
    def _cluster_needs_postgres(self) -> ServerConfig:
        if self.cluster and not is_postgres_url(self.db):
            raise ValueError("cluster = true needs a PostgreSQL store: db = 'postgresql://...'")
        return self

    @model_validator(mode="after")
    def _jwt_needs_keys(self) -> ServerConfig:
        sources = (self.jwt_secret, self.jwt_public_key_file, self.jwks_file, self.jwks_url)
        if self.auth == "jwt" and all(source is None for source in sources):
            raise ValueError(
                "auth = 'jwt' needs jwt_secret, jwt_public_key_file, jwks_file or jwks_url"
            )
        return self

    @field_validator("jwt_secret")
    @classmethod
    def _secret_long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None:
            secret_key(secret.get_secret_value())
        return secret

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url_is_https(cls, url: str | None) -> str | None:
        return None if url is None else check_jwks_url(url)


class ConfigError(Exception):
    """The configuration is invalid; the message says which key and why."""


def load_settings(
    config_file: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> ServerConfig:
    """Merge the sources (the environment is ``os.environ``); raise ConfigError naming every
    bad key."""
    _reject_unknown_env(os.environ)
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file {config_file} does not exist")

    class ServerSettings(ServerConfig, BaseSettings):
        model_config = SettingsConfigDict(
            env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
        )

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if config_file is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
            return tuple(sources)

    try:
        settings = ServerSettings(**dict(overrides or {}))
    except ValidationError as exc:
        raise ConfigError(_explain(exc, config_file)) from None
    except ValueError as exc:  # TOML syntax errors
        raise ConfigError(f"config file {config_file}: {exc}") from None
    return ServerConfig.model_validate(settings.model_dump())


def _reject_unknown_env(environ: Mapping[str, str]) -> None:
    known = set(ServerConfig.model_fields)
    engine_known = set(EngineSettings.model_fields)
    unknown = []
    for name in environ:
        if not name.startswith(ENV_PREFIX) or name.startswith(_ENV_IGNORED_PREFIX):
            continue
        if name in CLIENT_ENV_VARIABLES:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        top, _, nested = key.partition("__")
        nested_known = {"engine": engine_known, "leases": set(LeaseTuning.model_fields)}
        if top not in known or (nested and nested not in nested_known.get(top, ())):
            unknown.append(name)
    if unknown:
        raise ConfigError(
            "unknown environment variable(s) "
            + ", ".join(sorted(unknown))
            + f"; settings are {', '.join(ENV_PREFIX + k.upper() for k in sorted(known))}"
        )


def _explain(exc: ValidationError, config_file: Path | None) -> str:
    where = f" (config file {config_file}, environment or command line)" if config_file else ""
    problems = []
    for error in exc.errors(include_url=False):
        key = ".".join(str(part) for part in error["loc"]) or "config"
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown setting {key!r}")
        else:
            problems.append(f"setting {key!r}: {error['msg']}")
    return "invalid configuration" + where + ": " + "; ".join(problems)
