"""Logs: one JSON object a line, personal data masked, appeal content never at info level."""

from __future__ import annotations

import io
import json
import logging

import pytest

from core.logs import setup_logging
from core.masking import mask_id_number, mask_openid, mask_phone, mask_text


@pytest.fixture
def captured():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("json", "INFO", stream)
    yield stream
    root.handlers[:], _ = saved
    root.setLevel(saved[1])


def test_each_log_line_is_one_json_object(captured):
    logging.getLogger("huiju.test").info("appeal received", extra={"channel_id": "web"})
    line = json.loads(captured.getvalue().strip())
    assert line["message"] == "appeal received" and line["channel_id"] == "web" and line["level"] == "INFO"


def test_phones_id_numbers_and_openids_are_masked_in_messages_and_fields(captured):
    logging.getLogger("huiju.test").warning("citizen %s called", "13812345678",
                                            extra={"who": "11010519491231002X oAbcdefghijklmnopqrstuvwxyz0"})
    out = captured.getvalue()
    assert "13812345678" not in out and "138****5678" in out
    assert "11010519491231002X" not in out and "110105********002X" in out
    assert "oAbcdefghijklmnopqrstuvwxyz0" not in out


def test_masks_keep_only_what_identifies_nobody():
    assert mask_phone("+8613812345678") == "+86138****5678"
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_openid("oAbcdefghijklmnopqrstuvwxyz0") == "oAbc********************xyz0"


def test_masking_free_text_leaves_other_numbers_alone():
    text = "订单号 2019123456789012 金额 1380 元，电话 13812345678"
    assert mask_text(text) == "订单号 2019123456789012 金额 1380 元，电话 138****5678"
