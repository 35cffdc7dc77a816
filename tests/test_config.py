"""config.toml: validated as a whole; a bad file stops the start with one message naming the key."""

from __future__ import annotations

import os
import re
import stat

import pytest

import gateway
from core.config import DEFAULT_CONFIG, ConfigError, load_config
from tests.helpers import ENV, config_text

SHIPPED_SECRETS = sorted(set(re.findall(r"\$\{([A-Z0-9_]+)\}", DEFAULT_CONFIG.read_text(encoding="utf-8"))))
SECRETS = {name: f"{name.lower()}-value-0123456789" for name in SHIPPED_SECRETS}


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def base(tmp_path, extra: str = "") -> str:
    return config_text(f"sqlite+aiosqlite:///{tmp_path}/h.db", tmp_path / "var", extra=extra)


def error_for(tmp_path, text: str, environ=None) -> str:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, text), environ=dict(ENV) if environ is None else environ)
    return str(e.value)


def test_the_shipped_config_is_valid_with_its_secrets_in_the_environment():
    loaded = load_config(DEFAULT_CONFIG, environ=SECRETS)
    assert loaded.config.channel("web-api").settings["secret"] == SECRETS["HUIJU_WEB_API_SECRET"]
    assert loaded.generated_secrets == ()
    assert {ch.kind for ch in loaded.config.channels} == {"api", "12315", "12333", "12328"}


def test_an_unknown_key_is_named(tmp_path):
    text = base(tmp_path).replace("[gateway]\n", "[gateway]\nprot = 1\n")
    assert error_for(tmp_path, text).endswith("gateway.prot: unknown key")


def test_an_unknown_section_is_named(tmp_path):
    assert error_for(tmp_path, base(tmp_path, "[surprise]\nx = 1\n")).endswith("surprise: unknown key")


def test_a_missing_secret_names_the_key_and_the_environment_variable(tmp_path):
    message = error_for(tmp_path, base(tmp_path), environ={"HUIJU_TEST_PLATFORM_SECRET": "x" * 20})
    assert "channels[0].settings.secret: secret HUIJU_TEST_API_SECRET is not set" in message


def test_a_bad_value_is_named(tmp_path):
    text = base(tmp_path).replace("port = 8345", "port = 70000")
    assert "gateway.port: Input should be less than or equal to 65535" in error_for(tmp_path, text)


def test_a_bad_integration_mode_is_named(tmp_path):
    text = base(tmp_path).replace('mode = "merged"', 'mode = "fused"')
    assert "channels[1].mode:" in error_for(tmp_path, text)


def test_an_unknown_connector_kind_is_named(tmp_path):
    text = base(tmp_path).replace('kind = "api"\nmode = "merged"', 'kind = "fax"\nmode = "merged"')
    assert "channels[1].kind: unknown connector kind 'fax'" in error_for(tmp_path, text)


def test_a_connectors_own_settings_are_validated(tmp_path):
    text = base(tmp_path).replace(
        'secret = "${HUIJU_TEST_API_SECRET}"\n\n[[channels]]', 'secret = "short"\n\n[[channels]]'
    )
    assert "channels[0].settings.secret: String should have at least 16 characters" in error_for(tmp_path, text)


def test_two_channels_with_one_id_are_refused(tmp_path):
    text = base(tmp_path).replace('id = "off"', 'id = "web"')
    assert "channel id 'web' is used twice" in error_for(tmp_path, text)


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    assert "not valid TOML" in error_for(tmp_path, "[gateway\n")


def test_the_database_url_can_be_overridden_from_the_environment(tmp_path):
    env = {**ENV, "HUIJU_DATABASE_URL": "postgresql+asyncpg://u@db:5432/huiju"}
    loaded = load_config(write(tmp_path, base(tmp_path)), environ=env)
    assert loaded.config.database.url == "postgresql+asyncpg://u@db:5432/huiju"


def test_demo_secrets_are_generated_once_into_var_and_kept_private(tmp_path):
    text = base(tmp_path).replace("[gateway]\n", "[gateway]\ndemo_secrets = true\n")
    path = write(tmp_path, text)
    first = load_config(path, environ={})
    second = load_config(path, environ={})

    assert set(first.generated_secrets) == {"HUIJU_TEST_API_SECRET", "HUIJU_TEST_PLATFORM_SECRET"}
    assert second.generated_secrets == ()
    assert first.config.platform.app_secret == second.config.platform.app_secret
    mode = os.stat(tmp_path / "var" / "demo-secrets.env").st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_a_secret_set_in_the_environment_wins_over_a_demo_secret(tmp_path):
    text = base(tmp_path).replace("[gateway]\n", "[gateway]\ndemo_secrets = true\n")
    loaded = load_config(write(tmp_path, text), environ={"HUIJU_TEST_API_SECRET": "from-the-environment"})
    assert loaded.config.channel("web").settings["secret"] == "from-the-environment"
    assert loaded.generated_secrets == ("HUIJU_TEST_PLATFORM_SECRET",)


@pytest.fixture
def secrets_set(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def test_check_config_exits_0_for_a_good_file(tmp_path, secrets_set, capsys):
    assert gateway.main(["check-config", "--config", str(write(tmp_path, base(tmp_path)))]) == 0
    assert ": ok" in capsys.readouterr().out


def test_check_config_exits_2_with_the_key_for_a_bad_file(tmp_path, secrets_set, capsys):
    text = base(tmp_path).replace("[database]\n", "[database]\nurl2 = 1\n")
    assert gateway.main(["check-config", "--config", str(write(tmp_path, text))]) == 2
    assert "database.url2: unknown key" in capsys.readouterr().err


def test_the_config_path_can_come_from_the_environment(tmp_path, secrets_set, monkeypatch, capsys):
    path = write(tmp_path, base(tmp_path))
    monkeypatch.setenv("HUIJU_CONFIG", str(path))
    assert gateway.main(["check-config"]) == 0
    assert str(path) in capsys.readouterr().out


def test_a_schedule_on_a_channel_that_does_not_poll_is_refused(tmp_path):
    text = base(tmp_path).replace(
        'mode = "hotline_flow"\n', 'mode = "hotline_flow"\n[channels.schedule]\ninterval_seconds = 5\n'
    )
    assert "channels[0].schedule: kind api does not poll" in error_for(tmp_path, text)
