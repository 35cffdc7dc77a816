"""The auditor API (/audit/v1, a token with the auditor role): read and verify the merge log, correct the
matcher's decisions, watch hot issues. It does what `gateway.py audit …` does (dedup/audit.py, dedup/cli.py);
docs/openapi/audit.yaml describes it."""

from __future__ import annotations

import io
from typing import Any

from aiohttp import web

from dedup import audit
from dedup.cli import LogFilter, aware, log_rows, parse_id, verify, write
from web.auth import ACTOR, require_role
from web.context import CTX
from web.errors import json_error
from web.sync_api import change, limit_of


def _reason(body: dict[str, Any]) -> str:
    reason = body.get("reason")
    if not isinstance(reason, str):
        raise ValueError("reason: required, a text (it goes in the merge log)")
    return reason


def _auditor(request: web.Request) -> audit.Auditor:
    ctx = request.app[CTX]
    return audit.auditor_for(ctx.config, request[ACTOR], ctx.pipeline)


@require_role("auditor")
async def unmerge(request: web.Request) -> web.Response:
    """Take an appeal out of its case into a case of its own: {"reason": "..."}."""
    appeal_id = request.match_info["appeal_id"]

    async def act(conn: Any, body: dict[str, Any], actor: str) -> dict[str, Any]:
        return await _auditor(request).unmerge(conn, parse_id(appeal_id, "appeal id"), _reason(body))

    return await change(request, act, None)


@require_role("auditor")
async def merge(request: web.Request) -> web.Response:
    """Merge every appeal of a case into another: {"into": "<case id>", "reason": "..."}."""
    case_id = request.match_info["case_id"]

    async def act(conn: Any, body: dict[str, Any], actor: str) -> dict[str, Any]:
        into = parse_id(body.get("into"), "into")
        return await _auditor(request).merge(conn, parse_id(case_id, "case id"), into, _reason(body))

    return await change(request, act, None)


@require_role("auditor")
async def distinct(request: web.Request) -> web.Response:
    """Mark two appeals "not the same matter": {"appeals": [a, b], "reason": "..."}."""

    async def act(conn: Any, body: dict[str, Any], actor: str) -> dict[str, Any]:
        pair = body.get("appeals")
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError("appeals: a list of two appeal ids")
        a, b = (parse_id(x, "appeals") for x in pair)
        return await _auditor(request).distinct(conn, a, b, _reason(body))

    return await change(request, act, None)


@require_role("auditor")
async def log(request: web.Request) -> web.StreamResponse:
    """Merge-log entries, oldest first, filtered (?case_id= &appeal_id= &channel_id= &actor= &since= &until=
    &limit=), as JSON (default), JSON Lines (?format=jsonl) or CSV (?format=csv); personal data masked."""
    q = request.query
    fmt = q.get("format", "json")
    try:
        if fmt not in ("json", "jsonl", "csv"):
            raise ValueError("format: json, jsonl or csv")
        f = LogFilter(
            parse_id(q["case_id"], "case_id") if "case_id" in q else None,
            parse_id(q["appeal_id"], "appeal_id") if "appeal_id" in q else None,
            q.get("channel_id"),
            q.get("actor"),
            aware(q.get("since"), "since"),
            aware(q.get("until"), "until"),
        )
        limit = max(1, int(q["limit"])) if "limit" in q else None  # below 1 counts as 1, as elsewhere
    except ValueError as e:
        return json_error(400, str(e), "bad_request")
    async with request.app[CTX].engine.connect() as conn:
        rows = await log_rows(conn, f, limit)
    if fmt == "json":
        return web.json_response({"entries": rows})
    sink = io.StringIO()
    write(rows, fmt, sink)
    kind = "text/csv" if fmt == "csv" else "application/jsonl"
    return web.Response(text=sink.getvalue(), content_type=kind, charset="utf-8")


@require_role("auditor")
async def verify_log(request: web.Request) -> web.Response:
    """Check the merge log's hash chain: {"entries": n, "intact": bool, "problems": [...]}."""
    async with request.app[CTX].engine.connect() as conn:
        count, problems = await verify(conn)
    return web.json_response({"entries": count, "intact": not problems, "problems": problems})


@require_role("auditor")
async def clusters(request: web.Request) -> web.Response:
    """Hot issues by size or growth (?sort=size|growth &hours=24 &limit=50)."""
    q = request.query
    try:
        sort = q.get("sort", "size")
        if sort not in ("size", "growth"):
            raise ValueError("sort: size or growth")
        hours = float(q.get("hours", "24"))
        if not 0 < hours <= 24 * 365:
            raise ValueError("hours: more than 0, at most a year")
        limit = limit_of(request)
    except ValueError as e:
        return json_error(400, str(e), "bad_request")
    async with request.app[CTX].engine.connect() as conn:
        rows = await audit.hot_issues(conn, sort=sort, hours=hours, limit=limit)
    return web.json_response({"clusters": rows})


def add_routes(app: web.Application) -> None:
    """Register the auditor API."""
    app.router.add_get("/audit/v1/log", log)
    app.router.add_get("/audit/v1/log/verify", verify_log)
    app.router.add_post("/audit/v1/appeals/{appeal_id}/unmerge", unmerge)
    app.router.add_post("/audit/v1/cases/{case_id}/merge", merge)
    app.router.add_post("/audit/v1/distinct", distinct)
    app.router.add_get("/audit/v1/clusters", clusters)
