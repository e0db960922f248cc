"""Maca's configuration: one typed Struct decoded from the environment.

This is the only module that reads ``os.environ``. Every variable is listed
in the README's configuration table; a wrong value stops Maca at start-up
with one line naming the variable and the problem.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal, get_args, get_type_hints
from urllib.parse import urlsplit

import msgspec

from agencies.organisations import CODE_PATTERN as _CODE

Environment = Literal["development", "test", "production"]


class SettingsError(Exception):
    """A configuration value Maca cannot run with."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable}: {problem}")


Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Positive = Annotated[int, msgspec.Meta(ge=1)]
NonNegative = Annotated[int, msgspec.Meta(ge=0)]


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=False):
    env: Environment = msgspec.field(default="development", name="MACA_ENV")
    host: str = msgspec.field(default="127.0.0.1", name="MACA_HOST")
    port: Port = msgspec.field(default=8000, name="MACA_PORT")
    workers: Positive = msgspec.field(default=1, name="MACA_WORKERS")
    # Where the embedded PostgreSQL, the development signing key and
    # benchmark results live.
    data_dir: str = msgspec.field(default=".maca", name="MACA_DATA_DIR")
    # Unset: an embedded PostgreSQL under MACA_DATA_DIR (never in production).
    database_url: str | None = msgspec.field(default=None, name="DATABASE_URL")
    db_pool_max: Positive = msgspec.field(default=10, name="MACA_DB_POOL_MAX")
    # 0 behind PgBouncer in transaction mode, where prepared statements
    # cannot follow a client from one server connection to another.
    db_statement_cache: NonNegative = msgspec.field(default=100, name="MACA_DB_STATEMENT_CACHE")
    db_timeout_seconds: Annotated[float, msgspec.Meta(gt=0)] = msgspec.field(
        default=5.0, name="MACA_DB_TIMEOUT_SECONDS"
    )
    # The address people reach Maca at (behind a proxy, the proxy's); used
    # for sign-in redirects and the development issuer.
    public_url: str | None = msgspec.field(default=None, name="MACA_PUBLIC_URL")
    log_level: Literal["debug", "info", "warning", "error"] = msgspec.field(default="info", name="MACA_LOG_LEVEL")
    max_body_bytes: Positive = msgspec.field(default=1_048_576, name="MACA_MAX_BODY_BYTES")
    # Bounded waiting (README "Security"): a request's whole body must arrive
    # within this (408 after), before anything else of the request runs.
    body_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=600)] = msgspec.field(
        default=15.0, name="MACA_BODY_TIMEOUT_SECONDS"
    )
    # Writes one person may have running at once in a server process; more
    # wait up to MACA_DB_TIMEOUT_SECONDS for their turn, then 429.
    writes_per_user: Positive = msgspec.field(default=4, name="MACA_WRITES_PER_USER")
    # Set on the maca_app role by `maca migrate`: PostgreSQL ends a statement
    # running longer, and a session idle inside a transaction longer.
    db_statement_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = msgspec.field(
        default=30.0, name="MACA_DB_STATEMENT_TIMEOUT_SECONDS"
    )
    db_idle_in_transaction_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = msgspec.field(
        default=30.0, name="MACA_DB_IDLE_IN_TRANSACTION_SECONDS"
    )
    # Report PDFs (server/reports/pdf.py): laid out by this many processes
    # per server worker, each replaced after so many PDFs; so many more may
    # wait (503 past them), and one person may have so many in progress
    # (429 past them).
    pdf_processes: Annotated[int, msgspec.Meta(ge=1, le=16)] = msgspec.field(default=1, name="MACA_PDF_PROCESSES")
    pdf_renders_per_process: Positive = msgspec.field(default=20, name="MACA_PDF_RENDERS_PER_PROCESS")
    pdf_queue: NonNegative = msgspec.field(default=2, name="MACA_PDF_QUEUE")
    pdf_per_user: Positive = msgspec.field(default=2, name="MACA_PDF_PER_USER")

    # Identity (README "Signing in"). Unset OIDC_ISSUER: Maca's own
    # development issuer at {base_url}/dev-idp (never in production).
    oidc_issuer: str | None = msgspec.field(default=None, name="OIDC_ISSUER")
    oidc_audience: str = msgspec.field(default="maca", name="OIDC_AUDIENCE")
    oidc_client_id: str = msgspec.field(default="maca-web", name="OIDC_CLIENT_ID")
    # Only for a confidential web client; PKCE protects a public one.
    oidc_client_secret: str | None = msgspec.field(default=None, name="OIDC_CLIENT_SECRET")
    oidc_scopes: str = msgspec.field(default="openid profile", name="OIDC_SCOPES")
    # Keycloak and Entra ID issue access tokens typed "JWT", not RFC 9068's
    # "at+jwt", with azp/appid instead of client_id and sometimes no jti.
    oidc_accept_plain_jwt: bool = msgspec.field(default=True, name="OIDC_ACCEPT_PLAIN_JWT")
    oidc_claim_organisation: str = msgspec.field(default="organisation", name="OIDC_CLAIM_ORGANISATION")
    oidc_claim_agency_kind: str = msgspec.field(default="agency_kind", name="OIDC_CLAIM_AGENCY_KIND")
    oidc_claim_partnership: str = msgspec.field(default="partnership", name="OIDC_CLAIM_PARTNERSHIP")
    # A dotted path reaches into nested claims: realm_access.roles (Keycloak).
    oidc_claim_roles: str = msgspec.field(default="roles", name="OIDC_CLAIM_ROLES")
    oidc_claim_name: str = msgspec.field(default="name", name="OIDC_CLAIM_NAME")
    # Set (e.g. "maca:"): scopes such as "maca:auditor" grant roles too.
    oidc_role_scope_prefix: str | None = msgspec.field(default=None, name="OIDC_ROLE_SCOPE_PREFIX")
    # "audit:contribute=auditor,audit:coordinate=coordinator": a value of the
    # roles claim, or a scope, that gives one of Maca's roles.
    oidc_role_map: str | None = msgspec.field(default=None, name="OIDC_ROLE_MAP")
    # A deployment for one partnership: its code, so tokens need not name it.
    oidc_default_partnership: str | None = msgspec.field(default=None, name="OIDC_DEFAULT_PARTNERSHIP")
    session_hours: Annotated[float, msgspec.Meta(gt=0, le=24 * 30)] = msgspec.field(
        default=8.0, name="MACA_SESSION_HOURS"
    )

    # Security (README "Database roles", "Security"). The application's
    # database role, maca_app, logs in with this password; unset, one derived
    # from the owner's password in DATABASE_URL (none when that has none, as
    # under the embedded PostgreSQL's trust authentication).
    db_app_password: str | None = msgspec.field(default=None, name="MACA_DB_APP_PASSWORD")
    # How long a closed audit is kept before `maca purge` removes it: six
    # years (2192 days), the usual period for local authorities' audit and
    # quality-assurance records (current year + 6); the seeds and DESIGN set none.
    retention_days: Positive = msgspec.field(default=2192, name="MACA_RETENTION_DAYS")
    # How often each server process tidies expired sessions, abandoned
    # sign-ins and day-old idempotency keys (server/platform/maintenance.py); one
    # process at a time does the work, whatever the number of replicas.
    maintenance_minutes: Annotated[float, msgspec.Meta(gt=0, le=24 * 60)] = msgspec.field(
        default=10.0, name="MACA_MAINTENANCE_MINUTES"
    )
    # The key that seals who is asking for PostgreSQL (README "Database
    # roles", migration 0011): `maca migrate` stores it where maca_app cannot
    # read it, and the server seals each transaction's identity with it.
    # Unset: the one `maca migrate` generated, which the server reads with
    # the owner's DATABASE_URL (so it is needed when DATABASE_URL names maca_app).
    db_identity_key: Annotated[str, msgspec.Meta(min_length=32)] | None = msgspec.field(
        default=None, name="MACA_DB_IDENTITY_KEY"
    )
    # The event trail's signed checkpoints (README "Database roles"): how
    # often each server process writes one, where (a file it appends to, or
    # unset: the log), and the key that signs them. Unset key: one generated
    # into MACA_DATA_DIR; set the same key on every replica and where you verify.
    trail_checkpoint_minutes: Annotated[float, msgspec.Meta(gt=0, le=24 * 60)] = msgspec.field(
        default=60.0, name="MACA_TRAIL_CHECKPOINT_MINUTES"
    )
    trail_checkpoint_file: str | None = msgspec.field(default=None, name="MACA_TRAIL_CHECKPOINT_FILE")
    trail_checkpoint_key: Annotated[str, msgspec.Meta(min_length=32)] | None = msgspec.field(
        default=None, name="MACA_TRAIL_CHECKPOINT_KEY"
    )
    # The reverse proxies whose X-Forwarded-For (and -Proto) Maca believes:
    # addresses or networks, comma-separated, or "*". Sign-in attempts are
    # counted per client address (server/auth/rate_limit.py), which behind a proxy
    # is the proxy's own unless it is trusted; anyone else trusted could name
    # any address, so by default only a proxy on this machine is.
    forwarded_allow_ips: str = msgspec.field(default="127.0.0.1", name="MACA_FORWARDED_ALLOW_IPS")
    # --- notifications (issue 20; README "Notifications") ---------------------------
    # smtp: through MACA_SMTP_HOST (in development, unset, the catcher `maca
    # serve` starts); notify: GOV.UK Notify; none: written to the outbox,
    # never sent (a replica that must not send).
    mail_channel: Literal["smtp", "notify", "none"] = msgspec.field(default="smtp", name="MACA_MAIL_CHANNEL")
    mail_from: str = msgspec.field(default="Maca <maca@localhost>", name="MACA_MAIL_FROM")
    smtp_host: str | None = msgspec.field(default=None, name="MACA_SMTP_HOST")
    smtp_port: Port = msgspec.field(default=587, name="MACA_SMTP_PORT")
    smtp_username: str | None = msgspec.field(default=None, name="MACA_SMTP_USERNAME")
    smtp_password: str | None = msgspec.field(default=None, name="MACA_SMTP_PASSWORD")
    # starttls: upgrade the connection (port 587); tls: TLS from the start
    # (port 465); none: plain (a catcher on this machine only).
    smtp_security: Literal["starttls", "tls", "none"] = msgspec.field(default="starttls", name="MACA_SMTP_SECURITY")
    # The name Maca greets the mail server with (EHLO); unset: this machine's.
    smtp_local_hostname: str | None = msgspec.field(default=None, name="MACA_SMTP_LOCAL_HOSTNAME")
    smtp_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] = msgspec.field(
        default=30.0, name="MACA_SMTP_TIMEOUT_SECONDS"
    )
    notify_api_key: str | None = msgspec.field(default=None, name="MACA_NOTIFY_API_KEY")
    notify_base_url: str = msgspec.field(
        default="https://api.notifications.service.gov.uk", name="MACA_NOTIFY_BASE_URL"
    )
    # One template (its fields ((subject)), ((body)), ((link))) for every
    # message, or per message: "concern-raised=ID,audit-distributed=ID".
    notify_template_id: str | None = msgspec.field(default=None, name="MACA_NOTIFY_TEMPLATE_ID")
    notify_templates: str | None = msgspec.field(default=None, name="MACA_NOTIFY_TEMPLATES")
    # Delivery: the first retry after so many seconds, doubling, at most an
    # hour apart, so many attempts in all before a message is marked failed.
    delivery_retry_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = msgspec.field(
        default=30.0, name="MACA_DELIVERY_RETRY_SECONDS"
    )
    delivery_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = msgspec.field(
        default=15, name="MACA_DELIVERY_ATTEMPTS"
    )
    # in-process: `maca serve` runs the worker beside the server (it needs the
    # owner's DATABASE_URL); off: run `maca worker` separately.
    worker: Literal["in-process", "off"] = msgspec.field(default="in-process", name="MACA_WORKER")
    # What counts as a working hour for escalating an unacknowledged concern.
    working_hours: str = msgspec.field(default="mon-fri 09:00-17:00", name="MACA_WORKING_HOURS")
    timezone: str = msgspec.field(default="Europe/London", name="MACA_TIMEZONE")

    # Operating Maca (README "Operating Maca"). Log lines: one JSON object per
    # line, or a human line; unset, JSON in production.
    log_format: Literal["json", "text"] | None = msgspec.field(default=None, name="MACA_LOG_FORMAT")
    # The metrics endpoint is a port of its own, not a route people's
    # requests can reach (server/platform/metrics_server.py); 0 turns it off.
    metrics_host: str = msgspec.field(default="127.0.0.1", name="MACA_METRICS_HOST")
    metrics_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = msgspec.field(default=9464, name="MACA_METRICS_PORT")
    # Traces are sent only when an OTLP endpoint is named (OpenTelemetry's
    # own variable; its SDK reads the rest of its OTEL_* settings itself).
    otel_exporter_otlp_endpoint: str | None = msgspec.field(default=None, name="OTEL_EXPORTER_OTLP_ENDPOINT")
    otel_service_name: str = msgspec.field(default="maca", name="OTEL_SERVICE_NAME")
    # Where `maca backup` writes (unset: MACA_DATA_DIR/backups).
    backup_dir: str | None = msgspec.field(default=None, name="MACA_BACKUP_DIR")

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def backup_path(self) -> Path:
        return Path(self.backup_dir) if self.backup_dir else self.data_path / "backups"

    @property
    def tracing(self) -> bool:
        return self.otel_exporter_otlp_endpoint is not None

    @property
    def uses_dev_issuer(self) -> bool:
        return self.oidc_issuer is None

    @property
    def issuer(self) -> str:
        """The OpenID provider whose tokens Maca accepts."""
        return self.oidc_issuer.rstrip("/") if self.oidc_issuer else f"{self.base_url}/dev-idp"


def trusted_proxies(value: str, variable: str) -> str:
    """``value`` checked as uvicorn's ``forwarded_allow_ips``: "*", or
    addresses and networks separated by commas."""
    entries = [entry.strip() for entry in value.split(",")]
    if value.strip() == "*":
        return "*"
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                variable, f"{entry!r} is not an IP address or network (list them with commas, or give *)"
            ) from None
    return ",".join(entries)


def _check_database_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SettingsError("DATABASE_URL", f"must be a postgresql:// URL, not {parts.scheme or 'no scheme'}://…")
    if not parts.hostname and "host=" not in parts.query:
        raise SettingsError("DATABASE_URL", "names no host")


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Decode settings from ``environ`` (default: the process environment).

    Unset and empty variables take their defaults. ``overrides`` use field
    names (``port=0``) and win over the environment; tests use them.
    """
    source = os.environ if environ is None else environ
    fields = {field.encode_name: field.name for field in msgspec.structs.fields(Settings)}
    values: dict[str, object] = {name: source[name] for name in fields if source.get(name, "").strip()}
    for field_name, value in overrides.items():
        values[next(env for env, name in fields.items() if name == field_name)] = value
    try:
        settings = msgspec.convert(values, Settings, strict=False)
    except msgspec.ValidationError as error:
        message, _, where = str(error).rpartition(" - at ")
        variable = where.strip("`").removeprefix("$.")
        raise SettingsError(variable, _plain(message, values.get(variable), fields.get(variable, ""))) from None
    if settings.database_url is not None:
        _check_database_url(settings.database_url)
    if settings.env == "production" and settings.database_url is None:
        raise SettingsError("DATABASE_URL", "must be set when MACA_ENV=production (no embedded database)")
    if settings.public_url is not None and urlsplit(settings.public_url).scheme not in ("http", "https"):
        raise SettingsError("MACA_PUBLIC_URL", "must start with https:// (or http:// in development)")
    _check_identity(settings)
    if settings.otel_exporter_otlp_endpoint is not None and urlsplit(
        settings.otel_exporter_otlp_endpoint
    ).scheme not in ("http", "https"):
        raise SettingsError("OTEL_EXPORTER_OTLP_ENDPOINT", "must be the collector's http:// or https:// URL")
    trusted_proxies(settings.forwarded_allow_ips, "MACA_FORWARDED_ALLOW_IPS")
    return settings


def role_map(value: str | None) -> dict[str, str]:
    """OIDC_ROLE_MAP read: claim value or scope → role name (role names are
    checked by the claim mapping, which knows them)."""
    pairs: dict[str, str] = {}
    for entry in (value or "").split(","):
        if not entry.strip():
            continue
        claimed, equals, role = (part.strip() for part in entry.partition("="))
        if not equals or not claimed or not role:
            raise SettingsError("OIDC_ROLE_MAP", f"{entry.strip()!r} is not value=role (e.g. audit:contribute=auditor)")
        if claimed in pairs and pairs[claimed] != role:
            raise SettingsError("OIDC_ROLE_MAP", f"{claimed!r} is mapped twice")
        pairs[claimed] = role
    return pairs


def _check_identity(settings: Settings) -> None:
    role_map(settings.oidc_role_map)
    if settings.oidc_default_partnership is not None and not _CODE.match(settings.oidc_default_partnership):
        raise SettingsError(
            "OIDC_DEFAULT_PARTNERSHIP", "a partnership code is letters, digits and . _ : / - (no spaces), at most 100"
        )
    if settings.oidc_issuer is None:
        if settings.env == "production":
            raise SettingsError(
                "OIDC_ISSUER", "must be set when MACA_ENV=production (the development sign-in is not for real people)"
            )
        return
    parts = urlsplit(settings.oidc_issuer)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError("OIDC_ISSUER", "must be the provider's https:// URL")
    if parts.scheme == "http" and settings.env == "production":
        # Its keys would be fetched over plain HTTP: whoever is on the path
        # could publish their own and sign any token.
        raise SettingsError(
            "OIDC_ISSUER", "must be https:// when MACA_ENV=production (its signing keys are fetched from it)"
        )


def _plain(message: str, value: object, field_name: str) -> str:
    """msgspec's messages, said the way an operator reads them."""
    if message.startswith("Invalid enum value"):
        allowed = get_args(get_type_hints(Settings).get(field_name))
        return f"{value!r} is not one of: {', '.join(map(str, allowed))}"
    bound = re.match(r"Expected `(?:int|float)` (<=|>=|<|>) (\S+)$", message)
    if bound:
        words = {"<=": "at most", ">=": "at least", "<": "below", ">": "above"}[bound.group(1)]
        return f"must be {words} {bound.group(2)}, not {value!r}"
    if message.startswith("Expected `int`"):
        return f"{value!r} is not a whole number"
    if message.startswith("Expected `float`"):
        return f"{value!r} is not a number"
    return message


def export_database_url(url: str) -> None:
    """Hand the resolved database address (the embedded one, in development)
    to server worker processes, which read their settings from the
    environment like everything else."""
    os.environ["DATABASE_URL"] = url
