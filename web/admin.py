"""The admin API: channels listed and switched at run time (token with the admin role)."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from core import channels
from core.errors import AuthError, ChannelError
from web.auth import ACTOR, require_role
from web.context import CTX
from web.errors import json_error

log = logging.getLogger(__name__)


@require_role("admin")
async def list_channels(request: web.Request) -> web.Response:
    """Every configured channel with its state and health."""
    ctx = request.app[CTX]
    views = await channels.list_channels(ctx.engine, ctx.config)
    return web.json_response({"channels": [v.to_json() for v in views]})


@require_role("admin")
async def channel_action(request: web.Request) -> web.Response:
    """enable | disable | pause | resume | poll | reset-cursor one channel; takes effect at once."""
    ctx = request.app[CTX]
    channel_id, action = request.match_info["channel_id"], request.match_info["action"]
    detail = {}
    if request.can_read_body:
        try:
            detail = json.loads(await request.read() or b"{}")
        except ValueError as e:
            return json_error(400, f"body is not valid JSON: {e}", "bad_json")
        if not isinstance(detail, dict):
            return json_error(400, "body must be a JSON object", "bad_json")
    if action in ("enable", "resume") and ctx.config.channel(channel_id) is not None:
        # Like accepting credentials in a settings form: one real call first; refused credentials stop here.
        try:
            await channels.check(ctx.config, channel_id, ctx.channels.http)
        except AuthError as e:
            return json_error(400, f"the channel refused our credentials, nothing changed: {e}", "check_failed")
        except ChannelError as e:
            log.warning("channel %s: check before %s failed (%s); going ahead", channel_id, action, e.kind)
    try:
        view = await channels.apply(ctx.engine, ctx.config, channel_id, action, request[ACTOR], detail)
    except channels.UnknownChannel:
        return json_error(404, f"no channel {channel_id!r} is configured", "unknown_channel")
    except (ValueError, KeyError, TypeError) as e:
        return json_error(400, str(e), "bad_request")
    await ctx.channels.sync()
    if action == "poll":
        ctx.channels.poll_now(channel_id)
    return web.json_response({"channel": view.to_json()})


@require_role("admin")
async def channel_check(request: web.Request) -> web.Response:
    """Make the channel's cheap authenticated call now and say whether it worked (changes nothing)."""
    ctx = request.app[CTX]
    channel_id = request.match_info["channel_id"]
    try:
        await channels.check(ctx.config, channel_id, ctx.channels.http)
    except channels.UnknownChannel:
        return json_error(404, f"no channel {channel_id!r} is configured", "unknown_channel")
    except ChannelError as e:
        return web.json_response({"channel_id": channel_id, "ok": False, "kind": str(e.kind), "reason": str(e)})
    return web.json_response({"channel_id": channel_id, "ok": True})


@require_role("admin")
async def channel_actions(request: web.Request) -> web.Response:
    """The newest admin actions on one channel, with who made them."""
    ctx = request.app[CTX]
    return web.json_response({"actions": await channels.actions(ctx.engine, request.match_info["channel_id"])})


def add_routes(app: web.Application) -> None:
    """Mount the admin API under /admin/v1."""
    app.router.add_get("/admin/v1/channels", list_channels)
    app.router.add_post("/admin/v1/channels/{channel_id}/check", channel_check)
    app.router.add_post("/admin/v1/channels/{channel_id}/{action}", channel_action)
    app.router.add_get("/admin/v1/channels/{channel_id}/actions", channel_actions)
