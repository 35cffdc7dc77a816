"""Cases as the ingest pipeline stores them, for the tests of what happens to a case afterwards."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.base import InboundItem
from core.ingest import Pipeline, Submission
from core.models import Appeal, Case
from tests.helpers import load_test_config
from tests.storage.test_pipeline import appeal_json


def make_pipeline(tmp_path: Path, db_url: str) -> Pipeline:
    """The ingest pipeline of a test config (one generic API channel, "web")."""
    config = load_test_config(tmp_path, db_url).config
    return Pipeline(config, config.tier_rules())


async def ingest_case(engine: AsyncEngine, pipeline: Pipeline, source_id: str, received: datetime, **fields: Any):
    """Ingest one complaint (fields override its JSON) received at this time; its stored case."""
    item = InboundItem(source_id, appeal_json(source_id, **fields))
    async with engine.begin() as conn:
        [result] = await pipeline.ingest(conn, [Submission("web", item, received)])
    assert result.outcome == "accepted", result.error
    return await case_of_appeal(engine, result.id)


async def case_of_appeal(engine: AsyncEngine, appeal_id: uuid.UUID):
    """The case of an appeal as stored now."""
    async with engine.connect() as conn:
        query = select(Case).join(Appeal, Appeal.case_id == Case.id).where(Appeal.id == appeal_id)
        return (await conn.execute(query)).one()
