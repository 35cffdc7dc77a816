"""The gateway's aiohttp application: an app factory with every resource in cleanup_ctx."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from connectors.api.webhook import receive_appeal
from core.batcher import IngestBatcher
from core.config import Config
from core.db import current_revision, head_revision, make_engine
from core.ingest import Pipeline
from core.models import utcnow
from web.context import CTX, ChannelDirectory, GatewayContext, RejectionCounter
from web.errors import json_error, json_errors

log = logging.getLogger(__name__)


def create_app(config: Config) -> web.Application:
    """The gateway application for a validated config."""
    # aiohttp's own body limit sits above ours so that the handler can answer 413 in JSON.
    app = web.Application(middlewares=[json_errors], client_max_size=config.gateway.max_body_bytes + 1)
    app.cleanup_ctx.append(_gateway(config))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_post("/api/v1/channels/{channel_id}/appeals", receive_appeal)
    return app


def _gateway(config: Config):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        engine = make_engine(config.database.url)
        pipeline = Pipeline(config, config.tier_rules())
        batcher = IngestBatcher(
            engine, pipeline, config.database.batch_max_items, config.database.batch_max_wait_ms
        )
        channels = ChannelDirectory(config)
        await channels.load(engine)
        rejections = RejectionCounter(engine)
        app[CTX] = GatewayContext(config, engine, pipeline, batcher, channels, rejections, utcnow())
        batcher.start()
        rejections.start()
        try:
            yield
        finally:
            await batcher.stop()
            await rejections.stop()
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
