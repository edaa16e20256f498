"""``aionactors package build|deploy|list|route|unload``: ship workflow code as versions.

``build`` runs locally (it zips a directory and prints the content hash); the others
drive a running server's package routes and need deploy rights.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from aionactors.core import AionError
from aionactors.packages import build_archive, read_archive
from transports.client import AionClient, ClientError

DEFAULT_SERVER = "http://127.0.0.1:8080"


def add_package_commands(commands: Any) -> None:
    """Register ``package <verb>`` on the top-level subparsers."""
    server = os.environ.get("AIONACTORS_SERVER", DEFAULT_SERVER)
    package = commands.add_parser("package", help="build and deploy versioned workflow packages")
    package.add_argument("--server", default=server, help=f"server URL (default {server})")
    package.add_argument("--token", help="bearer token (JWT auth mode)")
    verbs = package.add_subparsers(dest="verb", required=True)
    build = verbs.add_parser("build", help="zip DIR (with aionactors-package.toml); print its hash")
    build.add_argument("directory", type=Path)
    build.add_argument("-o", "--output", type=Path, help="archive path (default NAME.zip)")
    deploy = verbs.add_parser("deploy", help="deploy an archive and route its types to it")
    deploy.add_argument("archive", type=Path)
    deploy.add_argument("--no-route", action="store_true", help="load without routing")
    verbs.add_parser("list", help="loaded versions, routes and pinned-run counts")
    route = verbs.add_parser("route", help="route a workflow type to a loaded version")
    route.add_argument("workflow_type")
    route.add_argument("content_hash")
    unload = verbs.add_parser("unload", help="unload a version (not while routed or pinned)")
    unload.add_argument("content_hash")


def run_package_command(args: argparse.Namespace) -> int:
    try:
        if args.verb == "build":
            answer: Any = _build(args.directory, args.output)
        else:
            answer = asyncio.run(_remote(args))
    except ClientError as exc:
        error = {"code": exc.code, "message": exc.message, "error_type": exc.error_type}
        print(json.dumps({"error": error}), file=sys.stderr)
        return 1
    except AionError as exc:
        print(json.dumps({"error": exc.to_wire()}), file=sys.stderr)
        return 1
    except OSError as exc:
        print(json.dumps({"error": {"code": "unavailable", "message": str(exc)}}), file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    return 0


def _build(directory: Path, output: Path | None) -> dict[str, Any]:
    data = build_archive(directory)
    archive = read_archive(data)  # what deploy will see, limits included
    target = output or Path(f"{archive.manifest.name}.zip")
    target.write_bytes(data)
    return {"content_hash": archive.content_hash, "name": archive.manifest.name,
            "archive": str(target), "bytes": len(data)}  # fmt: skip


async def _remote(args: argparse.Namespace) -> Any:
    async with AionClient(args.server, token=args.token) as client:
        match args.verb:
            case "deploy":
                archive = args.archive.read_bytes()
                return await client.deploy_package(archive, route=not args.no_route)
            case "list":
                return {"packages": await client.packages()}
            case "route":
                return await client.route_package(args.workflow_type, args.content_hash)
            case "unload":
                await client.unload_package(args.content_hash)
                return {}
    raise ValueError(f"unknown package command {args.verb!r}")  # pragma: no cover
