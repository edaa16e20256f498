"""Shared fixtures: the per-run PostgreSQL database lives in tests/postgres_support.py."""

from tests.postgres_support import postgres_dsn, postgres_schema

__all__ = ["postgres_dsn", "postgres_schema"]
