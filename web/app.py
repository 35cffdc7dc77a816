"""The gateway's aiohttp application: an app factory with every resource in cleanup_ctx."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from connectors.api.webhook import receive_appeal
from core.batcher import IngestBatcher
from core.config import Config
from core.db import current_revision, head_revision, make_engine
from core.http import HttpClient
from core.ingest import Pipeline
from core.models import utcnow
from core.runner import Supervisor
from core.signing import RequestVerifier
from sync.service import SyncService
from web import admin, audit_api, sync_api
from web.auth import TokenRing
from web.context import CTX, GatewayContext, RejectionCounter
from web.errors import json_error, json_errors

log = logging.getLogger(__name__)


def create_app(config: Config, *, poll: bool = True) -> web.Application:
    """The gateway application for a validated config (poll=False: serve HTTP only, run no poll jobs)."""
    # aiohttp's own body limit sits above ours so that the handler can answer 413 in JSON.
    app = web.Application(middlewares=[json_errors], client_max_size=config.gateway.max_body_bytes + 1)
    app.cleanup_ctx.append(_gateway(config, poll))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_post("/api/v1/channels/{channel_id}/appeals", receive_appeal)
    admin.add_routes(app)
    sync_api.add_routes(app)
    audit_api.add_routes(app)
    return app


def _gateway(config: Config, poll: bool):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        engine = make_engine(config.database.url)
        pipeline = Pipeline(config, config.tier_rules())
        batcher = IngestBatcher(
            engine, pipeline, config.database.batch_max_items, config.database.batch_max_wait_ms
        )
        session = aiohttp.ClientSession(headers={"User-Agent": "huiju-gateway"})
        http = HttpClient(session)
        supervisor = Supervisor(engine, config, pipeline, http)
        rejections = RejectionCounter(engine)
        sync = SyncService(engine, config, http, supervisor.owner)
        app[CTX] = GatewayContext(
            config, engine, pipeline, batcher, supervisor, rejections, TokenRing(config.tokens), utcnow(), sync
        )
        if config.platform.callbacks:
            p = config.platform
            app[sync_api.VERIFIER] = RequestVerifier(p.callback_app_key, p.callback_secret, p.sign_method)
        batcher.start()
        rejections.start()
        if poll:
            supervisor.start()
            sync.start()
        else:
            await supervisor.sync()
        try:
            yield
        finally:
            if poll:
                await sync.stop()
                await supervisor.stop()
            await batcher.stop()
            await rejections.stop()
            await session.close()
            await engine.dispose()

    return ctx


async def healthz(request: web.Request) -> web.Response:
    """The process is up."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """The database answers and its schema is at the newest migration."""
    ctx = request.app[CTX]
    try:
        current = await current_revision(ctx.engine)
    except Exception as e:
        return json_error(503, f"database unreachable: {type(e).__name__}", "not_ready")
    head = head_revision()
    if current != head:
        return json_error(
            503, f"database schema at {current}, expected {head}; run `gateway.py migrate`", "not_ready"
        )
    return web.json_response({"status": "ready", "schema": current})
