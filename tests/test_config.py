"""Settings: file, environment overrides, and one clear line for every bad value."""

from __future__ import annotations

import os
import stat

import pytest

from clinic_desk import config
from clinic_desk.errors import ConfigError


def write(tmp_path, text: str):
    path = tmp_path / "clinic.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_defaults_run_on_sqlite_in_the_user_data_dir(monkeypatch):
    monkeypatch.delenv("CLINIC_DESK_CLINIC_TIMEZONE", raising=False)
    settings = config.load_settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("clinic-desk/clinic.db")
    assert settings.smtp.host == ""  # no SMTP: mail waits in the outbox


def test_file_values_and_environment_overrides(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        '[clinic]\nname = "Harbour Clinic"\ntimezone = "Europe/Lisbon"\n'
        '[smtp]\nhost = "mail.example.test"\nport = 2525\nfrom = "desk@example.test"\n'
        "[booking]\nauto_confirm = true\n",
    )
    monkeypatch.setenv("CLINIC_DESK_SMTP_PORT", "465")
    monkeypatch.delenv("CLINIC_DESK_CLINIC_TIMEZONE")
    monkeypatch.delenv("CLINIC_DESK_CLINIC_NAME")
    settings = config.load_settings(str(path))
    assert settings.clinic.name == "Harbour Clinic"
    assert settings.clinic.timezone == "Europe/Lisbon"
    assert settings.smtp.sender == "desk@example.test"
    assert settings.smtp.port == 465
    assert settings.booking.auto_confirm is True


def test_config_file_from_environment_variable(tmp_path, monkeypatch):
    path = write(tmp_path, '[clinic]\ncurrency = "CHF"\n')
    monkeypatch.setenv("CLINIC_DESK_CONFIG", str(path))
    assert config.load_settings().clinic.currency == "CHF"


def test_database_option_wins(tmp_path):
    path = write(tmp_path, '[database]\nurl = "sqlite:///from-file.db"\n')
    assert config.load_settings(str(path), "sqlite:///from-flag.db").database_url == "sqlite:///from-flag.db"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[clinic]\ntimezone = "Mars/Olympus"\n', "clinic.timezone"),
        ('[database]\nurl = "mysql://x/y"\n', "database.url"),
        ("[smtp]\nport = 70000\n", "smtp.port"),
        ("[smtp]\nport = \"many\"\n", "smtp.port"),
        ('[smtp]\nsecurity = "tls13"\n', "smtp.security"),
        ("[clinic]\ncolour = 1\n", "clinic.colour"),
        ("[weather]\nsunny = true\n", "weather"),
        ("[booking]\nauto_confirm = \"maybe\"\n", "booking.auto_confirm"),
    ],
)
def test_bad_values_name_the_key_and_the_file(tmp_path, text, key, monkeypatch):
    monkeypatch.delenv("CLINIC_DESK_CLINIC_TIMEZONE")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        config.load_settings(str(path))
    assert key in caught.value.message
    assert str(path) in caught.value.message
    assert caught.value.exit_code == 2


def test_bad_config_through_the_cli_is_one_line_exit_2(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, '[clinic]\ntimezone = "Nowhere/Land"\n')
    result = subprocess.run(
        [sys.executable, "-m", "clinic_desk", "--config", str(path), "db", "status"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "CLINIC_DESK_CLINIC_TIMEZONE"},
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "clinic.timezone" in result.stderr and str(path) in result.stderr


def test_missing_config_file_is_bad_input(tmp_path):
    with pytest.raises(ConfigError):
        config.load_settings(str(tmp_path / "nope.toml"))


def test_password_in_a_world_readable_file_warns(tmp_path, capsys):
    path = write(tmp_path, '[smtp]\npassword = "hunter2-is-secret"\n')
    path.chmod(0o644)
    config.load_settings(str(path))
    err = capsys.readouterr().err
    assert "readable by others" in err and "chmod 600" in err
    assert "hunter2" not in err


def test_private_file_with_password_does_not_warn(tmp_path, capsys):
    path = write(tmp_path, '[smtp]\npassword = "hunter2-is-secret"\n')
    assert not path.stat().st_mode & stat.S_IROTH
    config.load_settings(str(path))
    assert capsys.readouterr().err == ""


def test_smtp_password_from_keyring_when_not_in_file(isolated_environment):
    isolated_environment.set_password("clinic-desk", "smtp-password", "from-the-keyring")
    assert config.smtp_password(config.load_settings()) == "from-the-keyring"


def test_smtp_password_from_environment_wins_over_keyring(monkeypatch, isolated_environment):
    isolated_environment.set_password("clinic-desk", "smtp-password", "from-the-keyring")
    monkeypatch.setenv("CLINIC_DESK_SMTP_PASSWORD", "from-env")
    settings = config.load_settings()
    assert config.smtp_password(settings) == "from-env"
    assert "from-env" not in repr(settings)


def test_database_password_from_keyring_only_when_asked(isolated_environment, monkeypatch):
    isolated_environment.set_password("clinic-desk", "database-password", "pg-secret")
    assert config.database_password(config.load_settings()) == ""
    monkeypatch.setenv("CLINIC_DESK_DATABASE_USE_KEYRING", "true")
    assert config.database_password(config.load_settings()) == "pg-secret"
