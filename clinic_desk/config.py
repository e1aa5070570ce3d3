"""Settings: a TOML file, then environment overrides, secrets from the keyring -> a frozen dataclass.

Lookup order for the file: ``--config``, ``CLINIC_DESK_CONFIG``, the user config dir.
Every key can be overridden by ``CLINIC_DESK_<SECTION>_<KEY>`` (``CLINIC_DESK_SMTP_PORT``);
``CLINIC_DESK_DATABASE_URL`` overrides ``database.url``.
"""

from __future__ import annotations

import os
import stat
import sys
import tomllib
import warnings
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

APP_NAME = "clinic-desk"


def user_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def user_log_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME))


def default_database_url() -> str:
    return f"sqlite:///{user_data_dir() / 'clinic.db'}"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""
    password: str = field(default="", repr=False)
    # Look the password up in the keyring (name "database-password") when it is not set elsewhere.
    use_keyring: bool = False
    busy_timeout_ms: int = 5000
    connect_timeout_s: int = 5


@dataclass(frozen=True)
class ClinicSettings:
    name: str = "Clinic Desk"
    timezone: str = "UTC"
    currency: str = "EUR"
    address: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = "clinic-desk@localhost"
    timeout_s: float = 10.0
    max_attempts: int = 8
    backoff_s: float = 60.0

    @property
    def sender_address(self) -> str:
        """The bare address of ``smtp.from`` (which may be ``Clinic Desk <desk@example.org>``)."""
        from email.utils import parseaddr

        return parseaddr(self.sender)[1] or self.sender.strip()

    @property
    def sender_name(self) -> str:
        """The display name written in ``smtp.from``, or ""."""
        from email.utils import parseaddr

        return parseaddr(self.sender)[0]


@dataclass(frozen=True)
class BookingSettings:
    cancellation_hours: int = 24
    late_cancellation_refund_percent: int = 0
    reminder_hours: int = 24
    auto_confirm: bool = False
    max_amount: str = "10000.00"


@dataclass(frozen=True)
class SecuritySettings:
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    session_hours: int = 12
    remember_days: int = 30


def database_password(settings: "Settings") -> str:
    """The database password: the file or env value, else the keyring when asked to look there."""
    if settings.database.password or not settings.database.use_keyring:
        return settings.database.password
    return secret("database-password") or ""


def smtp_password(settings: "Settings") -> str:
    """The SMTP password: the file or env value, else the keyring (looked up only when sending)."""
    return settings.smtp.password or secret("smtp-password") or ""


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = DatabaseSettings()
    clinic: ClinicSettings = ClinicSettings()
    smtp: SmtpSettings = SmtpSettings()
    booking: BookingSettings = BookingSettings()
    security: SecuritySettings = SecuritySettings()
    source: str = "(defaults)"

    @property
    def database_url(self) -> str:
        return self.database.url or default_database_url()


# `smtp.from` in the file is `sender` in Python (`from` is a keyword).
_FILE_KEY_ALIASES = {("smtp", "from"): "sender"}
_SECRET_KEYS = {("smtp", "password"), ("database", "password")}
_SECTIONS = {f.name: f.type for f in fields(Settings) if f.name != "source"}


def find_config_file(explicit: str | None = None) -> Path | None:
    """The file to read, or None when there is none (defaults then apply)."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        return path
    env = os.environ.get("CLINIC_DESK_CONFIG")
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file not found: {path} (from CLINIC_DESK_CONFIG)")
        return path
    path = user_config_dir() / "config.toml"
    return path if path.is_file() else None


def load_settings(config_path: str | None = None, database_url: str | None = None) -> Settings:
    """Read the file (if any), apply the environment and the explicit overrides, validate."""
    path = find_config_file(config_path)
    where = str(path) if path else "(environment)"
    raw: dict[str, dict[str, Any]] = {}
    if path:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        _warn_if_secret_readable(path, raw)
    sections: dict[str, Any] = {}
    for section_name, section_type in _SECTIONS.items():
        values = dict(raw.pop(section_name, {}) or {})
        if not isinstance(values, dict):
            raise ConfigError(f"{where}: [{section_name}] must be a table")
        sections[section_name] = _build_section(section_name, section_type, values, where)
    for unknown in raw:
        raise ConfigError(f"{where}: unknown key '{unknown}'")
    settings = Settings(**sections, source=where)
    if database_url:
        _validate_url(database_url, "--database")
        settings = replace(settings, database=replace(settings.database, url=database_url))
    _validate(settings, where)
    return settings


def _build_section(name: str, section_type: Any, values: dict[str, Any], where: str) -> Any:
    section_cls = section_type if isinstance(section_type, type) else globals()[section_type]
    known = {f.name: f for f in fields(section_cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        attr = _FILE_KEY_ALIASES.get((name, key), key)
        if attr not in known:
            raise ConfigError(f"{where}: unknown key '{name}.{key}'")
        kwargs[attr] = _coerce(f"{name}.{key}", known[attr], value, where)
    for attr, fld in known.items():
        file_key = next((k for (s, k), a in _FILE_KEY_ALIASES.items() if s == name and a == attr), attr)
        env_name = f"CLINIC_DESK_{name}_{file_key}".upper()
        if env_name in os.environ:
            kwargs[attr] = _coerce(f"{name}.{file_key}", fld, os.environ[env_name], env_name)
    return section_cls(**kwargs)


def _coerce(key: str, fld: Any, value: Any, where: str) -> Any:
    kind = fld.type if isinstance(fld.type, str) else fld.type.__name__
    try:
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if kind == "float":
            return float(value)
        if isinstance(value, (dict, list)):
            raise ValueError
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {key} must be {kind}, got {value!r}") from None


def _validate(settings: Settings, where: str) -> None:
    try:
        ZoneInfo(settings.clinic.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: clinic.timezone: unknown time zone '{settings.clinic.timezone}'") from None
    _validate_url(settings.database_url, where)
    if not 1 <= settings.smtp.port <= 65535:
        raise ConfigError(f"{where}: smtp.port: {settings.smtp.port} is out of range 1-65535")
    if settings.smtp.security not in {"starttls", "ssl", "none"}:
        raise ConfigError(f"{where}: smtp.security: must be starttls, ssl or none")
    if not 0 <= settings.booking.late_cancellation_refund_percent <= 100:
        raise ConfigError(f"{where}: booking.late_cancellation_refund_percent must be 0-100")
    for key in ("cancellation_hours", "reminder_hours"):
        if getattr(settings.booking, key) < 0:
            raise ConfigError(f"{where}: booking.{key} must not be negative")
    for key in ("lockout_attempts", "lockout_minutes", "session_hours", "remember_days"):
        if getattr(settings.security, key) < 1:
            raise ConfigError(f"{where}: security.{key} must be at least 1")
    if len(settings.clinic.currency) != 3:
        raise ConfigError(f"{where}: clinic.currency must be a 3-letter code such as EUR")


def _validate_url(url: str, where: str) -> None:
    if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError(
            f"{where}: database.url: unsupported URL '{redact_url(url)}' (use sqlite:///path or postgresql://...)"
        )


def redact_url(url: str) -> str:
    """The URL with its password, if any, replaced by ***: fit for a message or a log."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:  # e.g. a port that is not a number: show only the scheme
        return url.split("://", 1)[0] + "://..."
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}"))


def _warn_if_secret_readable(path: Path, raw: dict[str, Any]) -> None:
    from urllib.parse import urlsplit

    url = str((raw.get("database") or {}).get("url", ""))
    holds_secret = bool(urlsplit(url).password) or any(
        isinstance(raw.get(section), dict) and raw[section].get(key) for section, key in _SECRET_KEYS
    )
    if holds_secret and path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH):
        print(
            f"warning: {path} holds a password and is readable by others; run: chmod 600 {path}",
            file=sys.stderr,
        )


def secret(name: str) -> str | None:
    """A secret from the environment (``CLINIC_DESK_SMTP_PASSWORD``) or the keyring, else None."""
    env = os.environ.get("CLINIC_DESK_" + name.upper().replace("-", "_"))
    if env:
        return env
    try:
        import keyring
        from keyring.errors import KeyringError

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return keyring.get_password(APP_NAME, name)
    except (KeyringError, RuntimeError, ImportError):
        return None


# -- the settings in force for this process -----------------------------------

_current: Settings | None = None


def use(settings: Settings) -> Settings:
    global _current
    _current = settings
    return settings


def current() -> Settings:
    """The settings this process runs with (defaults when nothing was loaded)."""
    global _current
    if _current is None:
        _current = Settings()
    return _current
