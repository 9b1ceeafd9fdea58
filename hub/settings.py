"""Hub settings: flags beat environment variables (HUBDESK_*), which beat the defaults.

With no settings at all the hub runs embedded: SQLite in the user's data folder, listening
on loopback only. With a keys folder (`hubdesk keys init`) it speaks CURVE and lets in only
the desks on its allow-list, and may then listen beyond loopback.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_path, user_log_path
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from messaging.protocol import DEFAULT_PORT

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def default_db_url() -> str:
    return f"sqlite:///{user_data_path('hubdesk', appauthor=False) / 'hub.db'}"


def default_log_file() -> Path:
    return user_log_path("hubdesk", appauthor=False) / "hubdesk.log"


def default_keys_dir() -> Path:
    """Where `hubdesk keys` keeps key pairs unless told otherwise."""
    return user_data_path("hubdesk", appauthor=False) / "keys"


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUBDESK_", extra="ignore")

    db_url: str = Field(default_factory=default_db_url)
    bind: str = "127.0.0.1"
    port: int = Field(default=DEFAULT_PORT, ge=1024, le=65531)
    timezone: str = "Europe/London"
    handover_times: list[time] = Field(
        default_factory=lambda: [time(8, 0), time(14, 0), time(21, 0)]
    )
    log_file: Path = Field(default_factory=default_log_file)
    insecure: bool = False  # allow a non-loopback bind without CURVE keys (trusted LAN only)
    keys_dir: Path | None = None  # hub.key_secret + allowed/: CURVE with ZAP when set

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r} (try Europe/London)") from exc
        return v

    @field_validator("handover_times", mode="before")
    @classmethod
    def _times(cls, v: object) -> object:
        if isinstance(v, str):
            return [part.strip() for part in v.split(",") if part.strip()]
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def on_loopback(self) -> bool:
        return self.bind in LOOPBACK

    @property
    def secure(self) -> bool:
        return self.keys_dir is not None
