"""Small helpers the tests share: configs written like a user would write them."""

from __future__ import annotations

from pathlib import Path

from core.config import LoadedConfig, load_config

API_SECRET = "test-secret-0123456789abcdef"
PLATFORM_SECRET = "platform-secret-0123456789"
NATIONAL_SECRET = "national-secret-0123456789"
CALLBACK_SECRET = "callback-secret-0123456789"
ENV = {
    "HUIJU_TEST_CALLBACK_SECRET": CALLBACK_SECRET,
    "HUIJU_TEST_API_SECRET": API_SECRET,
    "HUIJU_TEST_PLATFORM_SECRET": PLATFORM_SECRET,
    "HUIJU_TEST_NATIONAL_SECRET": NATIONAL_SECRET,
}


DEFAULT_PLATFORM = """
[platform]
app_secret = "${HUIJU_TEST_PLATFORM_SECRET}"
"""


def config_text(
    db_url: str, var_dir: Path, port: int = 8345, extra: str = "", platform: str = DEFAULT_PLATFORM
) -> str:
    """A config.toml with one enabled API channel ("web") and one disabled one ("off")."""
    return f"""
[gateway]
host = "127.0.0.1"
port = {port}
var_dir = "{var_dir}"

[logging]
format = "text"
level = "WARNING"

[database]
url = "{db_url}"

{platform}
[[channels]]
id = "web"
kind = "api"
mode = "hotline_flow"
[channels.settings]
secret = "${{HUIJU_TEST_API_SECRET}}"

[[channels]]
id = "off"
kind = "api"
mode = "merged"
enabled = false
[channels.settings]
secret = "${{HUIJU_TEST_API_SECRET}}"
{extra}
"""


def write_config(
    tmp_path: Path, db_url: str, port: int = 8345, extra: str = "", platform: str = DEFAULT_PLATFORM
) -> Path:
    """Write a test config.toml; returns its path."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(config_text(db_url, tmp_path / "var", port, extra, platform), encoding="utf-8")
    return path


def load_test_config(
    tmp_path: Path,
    db_url: str,
    port: int = 8345,
    extra: str = "",
    environ: dict[str, str] | None = None,
    platform: str = DEFAULT_PLATFORM,
) -> LoadedConfig:
    """Write and load a test config with the test secrets in its environment."""
    return load_config(write_config(tmp_path, db_url, port, extra, platform), environ=dict(environ or ENV))
