"""One settings module: every knob of Todoke, read from `TODOKE_*` variables and a TOML file.

Precedence (highest first): explicit keyword arguments, environment variables, the TOML file
named by `TODOKE_CONFIG_FILE` (default `./todoke.toml` when it exists), the defaults below. The
defaults give a working single-machine install: SQLite under `./todoke-data/`, web on
127.0.0.1:8000.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DATA_DIR = Path("todoke-data")
SUPPORTED_LOCALES = ("ja", "en")


def _config_file() -> Path | None:
    named = os.environ.get("TODOKE_CONFIG_FILE")
    if named:
        return Path(named)
    default = Path("todoke.toml")
    return default if default.exists() else None


class Settings(BaseSettings):
    """Effective configuration. Field descriptions are shown by `todoke config show`."""

    model_config = SettingsConfigDict(env_prefix="TODOKE_", extra="forbid")

    data_dir: Path = Field(
        DEFAULT_DATA_DIR, description="Where the SQLite database and generated secrets live."
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL; empty means SQLite at <data_dir>/todoke.db. "
        "PostgreSQL: postgresql+psycopg://user:password@host/db",
    )
    secret_key: SecretStr = Field(
        SecretStr(""),
        description="Key for CSRF tokens and secrets at rest; empty means a random key kept "
        "in <data_dir>/secret_key (mode 0600).",
    )
    web_host: str = Field("127.0.0.1", description="Address the web server listens on.")
    web_port: int = Field(8000, ge=1, le=65535, description="Port the web server listens on.")
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1"],
        description="Proxies whose X-Forwarded-For/-Proto headers are believed.",
    )
    default_locale: Literal["ja", "en"] = Field(
        "ja", description="Language when neither the user nor the browser names one."
    )
    session_idle_minutes: int = Field(
        60, ge=5, description="A web session ends after this long without a request."
    )
    session_max_hours: int = Field(
        12, ge=1, description="A web session ends this long after login, whatever happens."
    )
    login_throttle_after: int = Field(
        5, ge=1, description="Wrong passwords in a row after which logins are slowed down."
    )
    login_max_delay_seconds: int = Field(
        900, ge=1, description="The longest a throttled account or address waits."
    )
    metrics_allowed_ips: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Client addresses (or CIDRs) allowed to read /metrics.",
    )
    worker_tick_seconds: float = Field(
        5.0, gt=0, description="How often the worker looks for periodic jobs that are due."
    )
    report_max_file_mb: int = Field(
        64, ge=1, le=1024, description="Largest report file (or upload) accepted, in MB."
    )
    report_max_decompressed_mb: int = Field(
        256,
        ge=1,
        le=4096,
        description="Largest decompressed content of one report file (zip/gzip bomb guard), MB.",
    )
    receiver_host: str = Field(
        "127.0.0.1", description="Address the built-in report SMTP receiver listens on."
    )
    receiver_port: int = Field(
        2525, ge=1, le=65535, description="Port of the built-in report SMTP receiver."
    )
    receiver_domain: str = Field(
        "localhost",
        description="Mail domain of the receiver: reports go to dmarc@ (or dmarc+ORG@) it.",
    )
    receiver_max_message_mb: int = Field(
        25, ge=1, le=200, description="Largest message the report receiver accepts, in MB."
    )
    dns_nameservers: list[str] = Field(
        default_factory=list,
        description="Nameservers (HOST or HOST:PORT) for lookups; empty uses the system's.",
    )
    dns_offline: bool = Field(
        False,
        description="Never look up DNS in the background (PTR names, senders' SPF ranges).",
    )
    sending_ips: list[str] = Field(
        default_factory=list,
        description="The organisation's sending IPs: domain checks test their reverse DNS "
        "and blocklist listings.",
    )
    check_ip_blocklists: list[str] = Field(
        default_factory=lambda: ["zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org"],
        description="DNS blocklist zones asked for sending IPs (some refuse public resolvers).",
    )
    check_domain_blocklists: list[str] = Field(
        default_factory=lambda: ["dbl.spamhaus.org", "multi.uribl.com"],
        description="DNS blocklist zones asked for the checked domain.",
    )
    check_https_port: int = Field(
        443,
        ge=1,
        le=65535,
        description="Port for fetching MTA-STS policies and BIMI logos and certificates.",
    )
    check_https_ca_file: Path | None = Field(
        None,
        description="PEM bundle trusted for those fetches instead of the system store "
        "(a private PKI, or the test rig's CA).",
    )
    domain_check_interval_hours: int = Field(
        24, ge=1, le=24 * 30, description="How often the worker checks every registered domain."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level for the server and the worker."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003 - no .env files: explicit
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path is not None:
            if not path.is_file():
                raise FileNotFoundError(f"TODOKE_CONFIG_FILE names {path}, which does not exist")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'todoke.db'}"

    def secret_key_bytes(self) -> bytes:
        """The configured key, else one generated once and kept beside the database."""
        configured = self.secret_key.get_secret_value()
        if configured:
            return configured.encode()
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()

    def redacted(self) -> dict[str, Any]:
        """Every setting with its effective value, secrets replaced, for `config show`."""
        from sqlalchemy.engine import make_url

        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else "(generated, in data_dir)"
            elif isinstance(value, Path):
                value = str(value)
            shown[name] = value
        url = make_url(self.effective_database_url)
        shown["database_url"] = url.render_as_string(hide_password=True)
        return shown


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
