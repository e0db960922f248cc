"""The Litestar application: ``create_app(settings)`` wires the parts together."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from litestar import Litestar, Request, Response, Router
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from agencies.kinds import AGENCY_KIND_CODES
from merging import policy_names
from server import __version__, api, pages
from server.api import openapi
from server.audits.jobs import scheduled_jobs
from server.auth.permissions import PUBLIC, needs
from server.auth.rate_limit import SignInRateLimit
from server.auth.wiring import identity_parts
from server.db.pool import APP_ROLE, create_pool
from server.pages.rendering import error_page, from_a_browser
from server.platform import log_filter, maintenance, metrics, tracing, trail
from server.platform.bodies import check_request_body
from server.platform.body_first import BodyFirst
from server.platform.mail import channel_for
from server.platform.problems import EXCEPTION_HANDLERS
from server.platform.queue import Worker
from server.platform.security_headers import SecurityHeaders, SwaggerPagePolicy
from server.platform.telemetry import RequestTelemetry
from server.platform.writes import WriteLimit
from server.reports.pdf import PdfRenderer
from server.settings import Settings
from toolkits.registry import Registry, load_registry

log = logging.getLogger("maca")

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
POOL_SAMPLE_SECONDS = 1.0


async def _sample_pool(pool: Any) -> None:
    """The pool's state into the metrics, every second (reading it is a few
    attribute reads; the gauges live in this worker's metrics file)."""
    while True:
        metrics.observe_pool(pool)
        await asyncio.sleep(POOL_SAMPLE_SECONDS)


def load_toolkits() -> Registry:
    return load_registry(agency_kinds=AGENCY_KIND_CODES, merge_policies=policy_names())


def _swagger() -> SwaggerRenderPlugin:
    """Swagger UI from the npm package the Makefile installs, so the API
    docs render on a network with no route to a CDN (council networks)."""
    dist = "/static/swagger-ui"
    return SwaggerRenderPlugin(
        js_url=f"{dist}/swagger-ui-bundle.js",
        css_url=f"{dist}/swagger-ui.css",
        standalone_preset_js_url=f"{dist}/swagger-ui-standalone-preset.js",
        # No icon from a CDN (the page's Content-Security-Policy would block it).
        favicon="<link rel='icon' href='data:,'>",
        path="/",
    )


# What a person is told at an address Maca has no page for (GOV.UK's
# "page not found" pattern), or one that does not take what the browser sent.
_PAGE_DETAILS = {
    404: "If you typed the web address, check it is correct. If you pasted the web address, "
    "check you copied the entire address.",
    405: "That address cannot be used this way.",
}


def _page_or_problem(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """The router's own 404 and 405: a page for a person's browser, the
    problem document for the API and for scripts (whose clients read it)."""
    api = request.url.path == "/api" or request.url.path.startswith("/api/")
    if exc.status_code in _PAGE_DETAILS and from_a_browser(request) and not api:
        page = error_page(request, exc.status_code, _PAGE_DETAILS[exc.status_code])
        page.headers.update(exc.headers or {})  # 405's Allow
        return page
    problem: Response[Any] = EXCEPTION_HANDLERS[HTTPException](request, exc)
    return problem


def freeze_startup_objects() -> None:
    """Put everything loaded at start-up (the libraries, the toolkits, the
    route table: some 170,000 objects) out of the garbage collector's reach.
    They live as long as the process; without this every full collection
    walked them all, 60-180 ms during which the worker answered nobody
    (measured with gc.collect() on this machine), and full collections come
    often when pages are rendered."""
    gc.collect()
    gc.freeze()


def in_process_worker(settings: Settings, dsn: str) -> Worker | None:
    """The worker this process runs beside the server, if any: with
    ``MACA_WORKER=in-process`` and a ``DATABASE_URL`` naming the tables'
    owner (the queue is theirs alone)."""
    if settings.worker != "in-process" or urlsplit(dsn).username == APP_ROLE:
        return None
    return Worker(settings, dsn, channel_for(settings), scheduled_jobs(settings))


def create_app(
    settings: Settings,
    *,
    database_url: str | None = None,
    registry: Registry | None = None,
) -> Litestar:
    """Build Maca. ``database_url`` overrides ``settings.database_url`` (the
    CLI passes the embedded PostgreSQL's address)."""
    dsn = database_url or settings.database_url
    if dsn is None:
        raise ValueError("create_app needs a database: set DATABASE_URL or pass database_url")
    # Credentials never reach the log, whatever prints them (issue 9).
    log_filter.install()
    toolkits = registry or load_toolkits()
    identity = identity_parts(settings)

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        app.state.pool = await create_pool(settings, dsn)
        app.state.pdf_renderer = PdfRenderer.for_settings(settings)
        # The worker (notifications and the scheduled jobs, maintenance
        # among them) beside the server, when it may: it needs the tables'
        # owner. Otherwise `maca worker` runs it, and this process keeps
        # only the maintenance timer.
        worker = in_process_worker(settings, dsn)
        if worker is None:
            background = maintenance.run_every(app.state.pool, settings.maintenance_minutes)
        else:
            background = worker.run()
        app.state.maintenance = asyncio.create_task(background, name="maintenance")
        app.state.pool_sampler = asyncio.create_task(_sample_pool(app.state.pool), name="pool metrics")
        # The event trail's signed checkpoints, kept outside the database.
        app.state.trail_checkpoints = asyncio.create_task(
            trail.run_every(app.state.pool, settings), name="trail-checkpoints"
        )
        try:
            yield
        finally:
            # Stopped before the pool closes, so no run is cut off mid-way
            # by a closing connection (a cancelled run's transaction rolls back).
            for task in (app.state.maintenance, app.state.pool_sampler, app.state.trail_checkpoints):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await app.state.pool.close()
            app.state.pdf_renderer.close()
            metrics.pool_closed()
            metrics.process_exiting()
            tracing.flush()

    static: list[Any] = []
    swagger_dist = NODE_MODULES / "swagger-ui-dist"
    if swagger_dist.is_dir():
        static.append(
            create_static_files_router(
                path="/static/swagger-ui",
                directories=[swagger_dist],
                include_in_schema=False,
                name="swagger-ui",
                opt=needs(PUBLIC),
            )
        )
    static.extend(pages.static_routers(NODE_MODULES))

    config = AppConfig(
        route_handlers=[
            *api.route_handlers,
            *identity.route_handlers,
            *pages.route_handlers,
            *static,
        ],
        lifespan=[database, identity.lifespan],
        on_startup=[freeze_startup_objects],
        # Who is asking (middleware), and whether they hold the permission
        # the route handler declares (one global guard,
        # server/auth/permissions.py).
        # Security headers on every response (issue 9): the hook sees the
        # router's own 404/405 too; the documentation page gets a policy
        # naming its inline blocks by hash. Sign-in attempts are counted.
        before_send=[SecurityHeaders(settings)],
        # The body is read whole, bounded in size and time, before anything
        # else runs; each person's writes take their turn once they are known
        # (server/platform/body_first.py, writes.py).
        middleware=[BodyFirst(), SwaggerPagePolicy(), SignInRateLimit(), *identity.middleware, WriteLimit()],
        guards=identity.guards,
        # A JSON body is read, and refused whole (415, 400, 422 naming every
        # field), before the handler's parameters are (server/platform/bodies.py).
        before_request=check_request_body,
        dependencies=identity.dependencies,
        exception_handlers={**EXCEPTION_HANDLERS, HTTPException: _page_or_problem},
        state=State({"settings": settings, "toolkits": toolkits, **identity.state}),
        openapi_config=OpenAPIConfig(
            title="Maca",
            version=__version__,
            description="Multi-agency case audits for children's safeguarding partnerships.",
            # The document and its page are public; Litestar builds the
            # router's handlers, and the router carries their declaration.
            openapi_router=Router(
                "/schema", route_handlers=[], include_in_schema=False, dto=None, return_dto=None, opt=needs(PUBLIC)
            ),
            render_plugins=[_swagger()] if swagger_dist.is_dir() else [SwaggerRenderPlugin(path="/")],
        ),
        request_max_body_size=settings.max_body_bytes,
        debug=False,
    )
    app = Litestar.from_config(config)
    # The document describes the problem responses Maca really gives (issue 9).
    openapi.install(app)
    # Every request gets an id, a count and a time, and (tracing on) a span
    # named by its route template: wrapped round Litestar's whole handler,
    # as Litestar's own OpenTelemetry plugin does, so the router's 404s and
    # 405s are counted too (app middleware runs only once a route matched).
    app.asgi_handler = tracing.instrument(RequestTelemetry(app.asgi_handler), settings, __version__)
    return app
