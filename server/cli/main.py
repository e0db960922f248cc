"""The ``maca`` command: serve, migrate, and the tools around them.

Every failure a person can fix is one line on stderr naming what to fix, and
a non-zero exit; no traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import errno
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from server import __version__
from server.cli.backup import add_backup_commands
from server.cli.database import CommandError, database_url, run_migrations
from server.cli.demo import add_demo_command
from server.cli.security import add_security_commands
from server.cli.token import add_token_command, serving
from server.cli.worker import add_worker_command
from server.db.migrate import MigrationError
from server.platform import logs
from server.settings import Settings, SettingsError, export_database_url, load_settings, trusted_proxies
from toolkits.registry import InvalidDefinitions

if TYPE_CHECKING:
    from server.platform.metrics_server import MetricsServer

log = logging.getLogger("maca")


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> None:
    with database_url(settings) as url:
        run_migrations(settings, url)


def _check_port_free(settings: Settings) -> None:
    with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise SettingsError("MACA_PORT", f"port {settings.port} on {settings.host} is already in use") from None
            raise SettingsError("MACA_HOST", f"cannot listen on {settings.host}: {error.strerror}") from None


def _exit_on_sigterm(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def _metrics_directory() -> str:
    """Where every worker writes its counts (prometheus-client's multiprocess
    mode): ``PROMETHEUS_MULTIPROC_DIR`` if the operator set it, emptied as
    its documentation asks, or a new temporary folder. Set in the
    environment before any worker imports prometheus-client."""
    from server.platform.metrics import MULTIPROC_DIR_VARIABLE

    given = os.environ.get(MULTIPROC_DIR_VARIABLE)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
    else:
        directory = Path(tempfile.mkdtemp(prefix="maca-metrics-"))
        # Gone when maca serve ends (the files are only counts).
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    os.environ[MULTIPROC_DIR_VARIABLE] = str(directory)
    return str(directory)


def _start_metrics(settings: Settings, database_url: str) -> MetricsServer | None:
    if settings.metrics_port == 0:
        return None
    from server.db.pool import app_database_url
    from server.platform import metrics_server

    try:
        started = metrics_server.start(
            settings.metrics_host,
            settings.metrics_port,
            _metrics_directory(),
            app_database_url(settings, database_url),
            __version__,
        )
    except OSError as error:
        where = f"{settings.metrics_host}:{settings.metrics_port}"
        raise SettingsError("MACA_METRICS_PORT", f"cannot serve metrics on {where}: {error.strerror}") from None
    _announce(settings, f"Metrics at http://{settings.metrics_host}:{started.port}/metrics  (Prometheus)")
    return started


def _announce(settings: Settings, line: str) -> None:
    """A line for the person who started Maca: printed, or, when the log is
    JSON lines for a collector, logged as one of them."""
    if logs.log_format(settings) == "json":
        log.info("%s", line)
    else:
        print(line, flush=True)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    if args.forwarded_allow_ips is None:
        forwarded_allow_ips = settings.forwarded_allow_ips
    else:
        forwarded_allow_ips = trusted_proxies(args.forwarded_allow_ips, "--forwarded-allow-ips")
    _check_port_free(settings)
    # SIGTERM (kill, a container's stop) ends Maca as Ctrl-C does. uvicorn
    # shuts down gracefully, then raises the signal again under the handler
    # it found; with the default one the process died there, before the
    # embedded database was stopped and serving.json removed.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # Fail now, with the file and place, rather than in every worker.
    from server.app import load_toolkits
    from server.auth.claims import ClaimMapping

    load_toolkits()
    ClaimMapping.from_settings(settings)  # OIDC_ROLE_MAP's roles
    with database_url(settings) as url:
        if args.migrate:
            run_migrations(settings, url)
        if args.demo_data:
            from server.db.demo import load_demo_data_once

            asyncio.run(load_demo_data_once(url, settings.db_statement_cache))
        export_database_url(url)
        catcher = _dev_mail_catcher(settings)
        metrics = _start_metrics(settings, url)
        _announce(settings, f"Maca is running at {settings.base_url}/  (web pages)")
        if catcher is not None:
            _announce(
                settings, f"Mail is caught, not sent: {settings.base_url}/dev-mail  (SMTP on port {catcher.port})"
            )
        _announce(
            settings,
            f"API documentation at {settings.base_url}/schema  (OpenAPI 3.1: {settings.base_url}/schema/openapi.json)",
        )
        _announce(settings, "Press Ctrl-C to stop Maca and its database.")
        try:
            # Its address, for `maca token` to mint tokens this Maca accepts.
            with serving(settings):
                uvicorn.run(
                    "server.asgi:app_from_environment",
                    factory=True,
                    host=settings.host,
                    port=settings.port,
                    workers=settings.workers if settings.workers > 1 else None,
                    log_level=settings.log_level,
                    # The client's address (the sign-in limit counts per address)
                    # from X-Forwarded-For, when a trusted proxy sent it.
                    proxy_headers=True,
                    forwarded_allow_ips=forwarded_allow_ips,
                    server_header=False,
                    # uvicorn's access log prints paths and client addresses only;
                    # paths carry ids, never names.
                    access_log=settings.env != "production",
                    # JSON lines in production, with the request id (server/platform/logs.py).
                    log_config=logs.uvicorn_log_config(settings),
                )
        finally:
            # SIGTERM ends serve by SystemExit (above): stop the metrics server then too.
            if metrics is not None:
                metrics.stop()


def _dev_mail_catcher(settings: Settings) -> Any:
    """In development with no MACA_SMTP_HOST: an SMTP catcher on this
    machine (aiosmtpd) keeping mail under MACA_DATA_DIR/dev-mail for
    /dev-mail, and the server's worker pointed at it."""
    if settings.env != "development" or settings.mail_channel != "smtp" or settings.smtp_host is not None:
        return None
    from server.platform.dev_mail import Catcher

    catcher = Catcher(settings.data_path / "dev-mail").start()
    os.environ.update(
        {"MACA_SMTP_HOST": catcher.host, "MACA_SMTP_PORT": str(catcher.port), "MACA_SMTP_SECURITY": "none"}
    )
    return catcher


def cmd_toolkits(settings: Settings, args: argparse.Namespace) -> None:
    import msgspec

    from agencies.applicability import Participant, view_for
    from agencies.kinds import AGENCY_KIND_CODES
    from server.app import load_toolkits
    from toolkits.fhir import questionnaire

    files = [*([args.toolkit_id] if args.toolkit_id else []), *args.files]
    if args.action == "validate" and files:
        _validate_files(files)
        return
    registry = load_toolkits()
    if args.action == "validate":
        for toolkit in registry:
            versions = ", ".join(str(v) for v in registry.versions(toolkit.id))
            print(f"ok  {toolkit.id} (versions {versions})")
        return
    if args.action == "list":
        for toolkit in registry:
            questions = sum(len(s.questions) for s in toolkit.sections)
            sections = len(toolkit.sections)
            print(f"{toolkit.id:28} v{toolkit.version}  {sections:2} sections {questions:3} questions  {toolkit.title}")
        return
    if args.toolkit_id is None:
        raise CommandError(f"maca toolkits {args.action} needs a toolkit id; try: maca toolkits list")
    try:
        toolkit = registry.current(args.toolkit_id)
    except LookupError:
        raise CommandError(f"no toolkit {args.toolkit_id!r}; known: {', '.join(registry.ids())}") from None
    if args.action == "show":
        if args.agency is not None:
            if args.agency not in AGENCY_KIND_CODES:
                raise CommandError(
                    f"--agency: unknown agency kind {args.agency!r}; known: {', '.join(sorted(AGENCY_KIND_CODES))}"
                )
            toolkit = view_for(toolkit, Participant(agency_kind=args.agency, is_referrer=args.referrer == args.agency))
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(toolkit)).decode() + "\n")
    elif args.action == "export":
        sys.stdout.write(json.dumps(questionnaire(toolkit), indent=2, ensure_ascii=False) + "\n")


def _validate_files(files: Sequence[str]) -> None:
    """Check files as an upload is checked (a partnership's own version,
    before its administrator uploads it): every problem, each at its line."""
    from pathlib import Path

    from agencies.kinds import AGENCY_KIND_CODES
    from merging import policy_names
    from toolkits.loading import read_toolkit

    failed = 0
    for name in files:
        path = Path(name)
        try:
            text = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{name}: {error.strerror}") from None
        reading = read_toolkit(text, agency_kinds=AGENCY_KIND_CODES, merge_policies=policy_names())
        if reading.problems:
            failed += 1
            for problem in reading.problems:
                print(problem.located(path.name), file=sys.stderr)
        elif reading.toolkit is not None:
            print(f"ok  {path.name}: {reading.toolkit.id} version {reading.toolkit.version}")
    if failed:
        raise CommandError(f"{failed} of {len(files)} file(s) have problems")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maca", description="Multi-agency case audits.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the web pages and the API")
    serve.add_argument("--migrate", action="store_true", help="apply pending migrations first")
    serve.add_argument("--demo-data", action="store_true", help="load the demo partnership once (development)")
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="reverse proxies whose X-Forwarded-For to believe: addresses or networks, comma-separated, or * "
        "(default: MACA_FORWARDED_ALLOW_IPS, else 127.0.0.1)",
    )
    serve.set_defaults(handler=cmd_serve)

    commands.add_parser("migrate", help="apply pending database migrations").set_defaults(handler=cmd_migrate)

    toolkits = commands.add_parser("toolkits", help="list, show, validate and export toolkit definitions")
    toolkits.add_argument("action", choices=["list", "show", "validate", "export"])
    toolkits.add_argument(
        "toolkit_id", nargs="?", help="the toolkit to show or export; for validate, a YAML file to check instead"
    )
    toolkits.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    toolkits.add_argument("--agency", help="show only what this agency kind answers")
    toolkits.add_argument("--referrer", help="the agency kind that referred the case")
    toolkits.add_argument("--format", choices=["fhir"], default="fhir", help="export format")
    toolkits.set_defaults(handler=cmd_toolkits)

    for register in EXTRA_COMMANDS:
        register(commands)
    return parser


# Later parts add their own subcommands here (token, demo, events, purge).
EXTRA_COMMANDS: list[Callable[[Any], None]] = [add_token_command]
EXTRA_COMMANDS.append(add_security_commands)
EXTRA_COMMANDS.append(add_demo_command)
EXTRA_COMMANDS.append(add_backup_commands)
EXTRA_COMMANDS.append(add_worker_command)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        logs.configure(settings)
        # pgserver narrates every command it runs at INFO; its warnings are enough.
        logging.getLogger("pgserver").setLevel(max(logging.WARNING, logging.getLogger().level))
        args.handler(settings, args)
    except SettingsError as error:
        print(f"maca: configuration: {error}", file=sys.stderr)
        return 2
    except InvalidDefinitions as error:
        print(f"maca: toolkit definitions are invalid:\n{error}", file=sys.stderr)
        return 2
    except (CommandError, MigrationError) as error:
        print(f"maca: {error}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError) as error:
        print(f"maca: database: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
