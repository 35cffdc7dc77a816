"""config.toml: one validated, typed configuration for the whole gateway.

Every start and `gateway.py check-config` load the whole file through `load_config()`. Anything wrong — an
unknown key, a missing secret, a bad value — raises `ConfigError` with one message naming the key, and the CLI
exits with status 2. Secrets are never written in the file: a value `"${NAME}"` is read from the environment.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from normalizer.record import EmergencyService, IntegrationMode, TimeTier
from normalizer.rules import DEFAULT_RULES, Rules, rules_from_dicts

ROOT = Path(__file__).resolve().parent.parent
CONFIG_ENV = "HUIJU_CONFIG"
DATABASE_URL_ENV = "HUIJU_DATABASE_URL"
DEFAULT_CONFIG = ROOT / "config.toml"
DEMO_SECRETS_FILE = "demo-secrets.env"

_SECRET_REF = re.compile(r"^\$\{([A-Z_][A-Z0-9_]*)\}$")
_ID = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class ConfigError(Exception):
    """config.toml cannot be used; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GatewaySettings(_Strict):
    """[gateway]: where huiju listens and how it names itself."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8345
    public_base_url: str = "http://127.0.0.1:8345"
    var_dir: str = "var"
    demo_secrets: bool = False
    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = 1024 * 1024
    signature_window_seconds: Annotated[int, Field(ge=10, le=3600)] = 300

    @field_validator("public_base_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("must be an http:// or https:// URL")
        return v.rstrip("/")


class LoggingSettings(_Strict):
    """[logging]: one JSON object a line by default."""

    format: Literal["json", "text"] = "json"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class DatabaseSettings(_Strict):
    """[database]: SQLite under var/ by default; HUIJU_DATABASE_URL overrides the URL."""

    url: str = "sqlite+aiosqlite:///var/huiju.db"
    batch_max_items: Annotated[int, Field(ge=1, le=10_000)] = 500
    batch_max_wait_ms: Annotated[float, Field(ge=0, le=1000)] = 2.0

    @field_validator("url")
    @classmethod
    def _supported(cls, v: str) -> str:
        if not (v.startswith("sqlite+aiosqlite://") or v.startswith("postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return v


class Open311Settings(_Strict):
    """[platform.open311]: a GeoReport v2 server as the target (docs/targets/open311.md)."""

    api_key: str | None = None
    jurisdiction_id: str | None = None
    default_service_code: Annotated[str, Field(min_length=1)]
    service_codes: dict[str, str] = Field(default_factory=dict)  # huiju category -> service_code
    poll_seconds: Annotated[float, Field(gt=0, le=86400)] = 60.0
    # The address_string of an appeal with neither coordinates nor an address (GeoReport needs a location).
    default_address: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    # The most requests the server answers to one GET /requests.json (the spec's 1000; lower for a server
    # that caps lower), so that a full answer is recognised and the search for an earlier request narrowed.
    max_results: Annotated[int, Field(ge=1, le=1000)] = 1000


class PlatformSettings(_Strict):
    """[platform]: the unified 12345 hotline platform huiju pushes cases to (or an Open311 server)."""

    kind: Literal["12345", "open311"] = "12345"
    base_url: str = "http://127.0.0.1:8400"
    app_key: str = "huiju"
    app_secret: str | None = None
    sign_method: Literal["hmac-sha256", "sm3"] = "hmac-sha256"
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    # The platform's own app key and secret for its signed callbacks; without them huiju reads the feed.
    callback_app_key: str | None = None
    callback_secret: Annotated[str, Field(min_length=16)] | None = None
    feed_poll_seconds: Annotated[float, Field(ge=0, le=86400)] = 300.0  # 0: never (callbacks only)
    open311: Open311Settings | None = None

    @model_validator(mode="after")
    def _complete(self) -> PlatformSettings:
        if self.kind == "12345":
            if not self.app_secret:
                raise ValueError("app_secret: required for the 12345 platform")
            if (self.callback_app_key is None) != (self.callback_secret is None):
                raise ValueError("give both callback_app_key and callback_secret, or neither")
            if self.callback_secret is None and self.feed_poll_seconds == 0:
                raise ValueError("feed_poll_seconds: 0 needs callbacks (callback_app_key and callback_secret)")
        elif self.open311 is None:
            raise ValueError('open311: the [platform.open311] table is required for kind = "open311"')
        elif self.callback_secret is not None:
            raise ValueError("callback_secret: an Open311 server has no callbacks (huiju polls it)")
        return self

    @property
    def callbacks(self) -> bool:
        """Whether the platform calls huiju back (else huiju reads its event feed)."""
        return self.callback_secret is not None


class SyncSettings(_Strict):
    """[sync]: the outbox dispatcher, the deliveries back to channels, time limits and escalation."""

    batch_size: Annotated[int, Field(ge=1, le=5000)] = 200  # messages claimed per transaction
    concurrency: Annotated[int, Field(ge=1, le=512)] = 64  # requests in flight
    max_attempts: Annotated[int, Field(ge=1, le=1000)] = 15  # then dead letter
    backoff_initial_seconds: Annotated[float, Field(gt=0, le=3600)] = 2.0
    backoff_max_seconds: Annotated[float, Field(gt=0, le=86400)] = 600.0
    # An instance that died lets its claimed work go after this; longer than a batch can take against a
    # platform that times out (concurrency-limited rounds of 3 tries of timeout_seconds each).
    claim_seconds: Annotated[float, Field(gt=0, le=3600)] = 300.0
    idle_seconds: Annotated[float, Field(gt=0, le=60)] = 0.5  # how often an idle worker looks for work
    delivery_deadline_seconds: Annotated[float, Field(gt=0)] = 3600.0  # a delivery later than this is late
    gap_wait_seconds: Annotated[float, Field(ge=0, le=3600)] = 5.0  # then a missing event is fetched
    near_due_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.2  # flagged near due in the last 20%
    escalation_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0  # how often deadlines are checked
    repeat_escalation: Annotated[int, Field(ge=1, le=100)] = 3  # 多次催办: this many repeat appeals
    return_escalation: Annotated[int, Field(ge=1, le=100)] = 2  # returned this many times


class DedupSettings(_Strict):
    """[dedup]: recognising repeated appeals (docs/dedup.md); off, every appeal opens its own case."""

    enabled: bool = False
    window_days: Annotated[float, Field(gt=0, le=3650)] = 30.0
    absorb_minutes: Annotated[float, Field(ge=0, le=1440)] = 10.0
    absorb_score: Annotated[float, Field(ge=0, le=1)] = 0.85
    merge_score: Annotated[float, Field(ge=0, le=1)] = 0.3
    merge_score_same_place: Annotated[float, Field(ge=0, le=1)] = 0.15
    link_score: Annotated[float, Field(ge=0, le=1)] = 0.62
    # A hot issue is a group appeal (群体诉求) once this many different people appealed about it within the
    # window: each of its cases is flagged, and the flag is sent to the 12345 platform. 0: never.
    group_citizens: Annotated[int, Field(ge=0, le=100_000)] = 5
    group_window_hours: Annotated[float, Field(gt=0, le=24 * 365)] = 72.0

    def thresholds(self) -> Any:
        """The matcher's thresholds from this table."""
        from dedup.matcher import Thresholds

        return Thresholds(**self.model_dump(exclude={"enabled", "group_citizens", "group_window_hours"}))

    def group_rule(self) -> Any:
        """When a hot issue becomes a group appeal."""
        from dedup.assign import GroupRule

        return GroupRule(self.group_citizens, self.group_window_hours)


class Schedule(_Strict):
    """When a polling channel runs (every N seconds, or a cron expression in Beijing time) and how far back."""

    interval_seconds: Annotated[float, Field(gt=0, le=86400)] | None = None
    cron: str | None = None
    lookback_seconds: Annotated[float, Field(ge=0, le=7 * 86400)] = 120.0  # re-read for late-committed items
    max_pages_per_tick: Annotated[int, Field(ge=1, le=100_000)] = 50

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, v: str | None) -> str | None:
        if v is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(v)
            except ValueError as e:
                raise ValueError(f"not a crontab expression: {e}") from None
        return v

    @model_validator(mode="after")
    def _one_of(self) -> Schedule:
        if (self.interval_seconds is None) == (self.cron is None):
            raise ValueError("give exactly one of interval_seconds or cron")
        return self


class ChannelSettings(_Strict):
    """[[channels]]: one channel instance — a connector kind with its own id, mode and credentials."""

    id: Annotated[str, Field(pattern=_ID)]
    kind: str
    name: str = ""
    mode: IntegrationMode
    enabled: bool = True
    schedule: Schedule | None = None
    settings: dict[str, Any] = Field(default_factory=dict)


class TierRuleSettings(_Strict):
    """[[rules.tiers]]: keywords and categories that put an appeal in a time tier (first match wins)."""

    name: Annotated[str, Field(min_length=1)]
    tier: TimeTier
    keywords: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    excludes: list[str] = Field(default_factory=list)  # longer phrases that contain a keyword but mean else
    emergency: EmergencyService | None = None

    @model_validator(mode="after")
    def _matches_something(self) -> TierRuleSettings:
        if not self.keywords and not self.categories:
            raise ValueError("a rule needs keywords or categories")
        return self


class RulesSettings(_Strict):
    """[rules]: the time tier and emergency table; empty means the defaults from DOMAIN.md."""

    tiers: list[TierRuleSettings] = Field(default_factory=list)


class TokenSettings(_Strict):
    """[[tokens]]: an API token with one role, given as its SHA-256 hex digest or as a ${SECRET} to hash.

    Only the digest is kept in memory; the token itself is never stored or logged.
    """

    name: Annotated[str, Field(min_length=1, max_length=64)]
    role: Literal["admin", "auditor", "reviewer"]
    channels: list[str] = Field(default_factory=list)  # a reviewer's channels (the body that manages them)
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    token: Annotated[str, Field(min_length=16)] | None = None

    @model_validator(mode="after")
    def _hashed(self) -> TokenSettings:
        if (self.sha256 is None) == (self.token is None):
            raise ValueError("give exactly one of sha256 (the token's SHA-256 hex digest) or token (a ${SECRET})")
        if (self.role == "reviewer") != bool(self.channels):
            raise ValueError("channels: a reviewer token names its channels, and only a reviewer token does")
        if self.token is not None:
            digest = hashlib.sha256(self.token.encode()).hexdigest()
            object.__setattr__(self, "sha256", digest)
            object.__setattr__(self, "token", None)
        return self


class Config(_Strict):
    """The whole config.toml."""

    gateway: GatewaySettings = GatewaySettings()
    logging: LoggingSettings = LoggingSettings()
    database: DatabaseSettings = DatabaseSettings()
    platform: PlatformSettings
    sync: SyncSettings = SyncSettings()
    dedup: DedupSettings = DedupSettings()
    channels: list[ChannelSettings] = Field(default_factory=list)
    rules: RulesSettings = RulesSettings()
    tokens: list[TokenSettings] = Field(default_factory=list)

    @field_validator("channels")
    @classmethod
    def _unique_ids(cls, v: list[ChannelSettings]) -> list[ChannelSettings]:
        seen: set[str] = set()
        for ch in v:
            if ch.id in seen:
                raise ValueError(f"channel id {ch.id!r} is used twice")
            seen.add(ch.id)
        return v

    def channel(self, channel_id: str) -> ChannelSettings | None:
        """The channel with this id, if configured."""
        return next((c for c in self.channels if c.id == channel_id), None)

    def tier_rules(self) -> Rules:
        """The time tier and emergency rules: [[rules.tiers]] if given, else the defaults."""
        if not self.rules.tiers:
            return DEFAULT_RULES
        return rules_from_dicts([r.model_dump() for r in self.rules.tiers])

    @property
    def var_path(self) -> Path:
        """The directory for the embedded database and generated demo secrets."""
        p = Path(self.gateway.var_dir)
        return p if p.is_absolute() else ROOT / p


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config plus what loading it did (for the start-up log)."""

    config: Config
    path: Path
    generated_secrets: tuple[str, ...]


def default_config_path() -> Path:
    """The config file: $HUIJU_CONFIG, else ./config.toml in the checkout."""
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else DEFAULT_CONFIG


def load_config(path: Path | str | None = None, *, environ: dict[str, str] | None = None) -> LoadedConfig:
    """Read, resolve secrets in and validate config.toml; raise ConfigError naming the bad key."""
    path = Path(path) if path else default_config_path()
    env = dict(os.environ if environ is None else environ)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None

    generated: list[str] = []
    demo = bool(raw.get("gateway", {}).get("demo_secrets", False)) is True
    if demo:
        var_dir = Path(raw.get("gateway", {}).get("var_dir", "var"))
        var_dir = var_dir if var_dir.is_absolute() else ROOT / var_dir
        generated = _demo_secrets(raw, env, var_dir / DEMO_SECRETS_FILE)

    resolved = _resolve(raw, env, ())
    if env.get(DATABASE_URL_ENV):
        resolved.setdefault("database", {})["url"] = env[DATABASE_URL_ENV]
    try:
        config = Config.model_validate(resolved)
    except ValidationError as e:
        raise ConfigError(f"{path}: {_first_error(e)}") from None
    _check_channel_kinds(config, path)
    return LoadedConfig(config, path, tuple(generated))


def _resolve(node: Any, env: dict[str, str], where: tuple[str | int, ...]) -> Any:
    if isinstance(node, dict):
        return {k: _resolve(v, env, (*where, k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, env, (*where, i)) for i, v in enumerate(node)]
    if isinstance(node, str) and (m := _SECRET_REF.match(node)):
        name = m.group(1)
        if not env.get(name):
            raise ConfigError(f"{_key(where)}: secret {name} is not set in the environment")
        return env[name]
    return node


def _demo_secrets(raw: dict[str, Any], env: dict[str, str], store: Path) -> list[str]:
    """Fill unset ${NAME} secrets from var/demo-secrets.env, generating the missing ones (demo only)."""
    wanted = sorted(
        {m.group(1) for s in _strings(raw) if (m := _SECRET_REF.match(s))} - {k for k, v in env.items() if v}
    )
    if not wanted:
        return []
    kept = _read_env_file(store)
    generated = [name for name in wanted if name not in kept]
    for name in generated:
        kept[name] = secrets.token_urlsafe(32)
    if generated:
        store.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(f"{k}={v}\n" for k, v in sorted(kept.items()))
    for name in wanted:
        env[name] = kept[name]
    return generated


def _read_env_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def read_demo_secrets(config: Config) -> dict[str, str]:
    """The demo secrets generated into var/ (for the simulators that must sign like a real channel)."""
    return _read_env_file(config.var_path / DEMO_SECRETS_FILE)


def _strings(node: Any):
    if isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


def _key(where: tuple[str | int, ...]) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    key = _key(tuple(err["loc"]))
    if err["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    if err["type"] == "missing":
        return f"{key}: required key is missing"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{key}: {msg}"


def _check_channel_kinds(config: Config, path: Path) -> None:
    from connectors.registry import UnknownConnector, connector_class

    for i, ch in enumerate(config.channels):
        try:
            cls = connector_class(ch.kind)
        except UnknownConnector as e:
            raise ConfigError(f"{path}: channels[{i}].kind: {e}") from None
        try:
            cls.Settings.model_validate(ch.settings)
        except ValidationError as e:
            raise ConfigError(f"{path}: channels[{i}].settings.{_first_error(e)}") from None
        if cls.polls and ch.schedule is None:
            raise ConfigError(f"{path}: channels[{i}].schedule: required for a polling channel ({ch.kind})")
        if not cls.polls and ch.schedule is not None:
            raise ConfigError(f"{path}: channels[{i}].schedule: kind {ch.kind} does not poll; remove the schedule")
