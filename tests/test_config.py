"""Settings: the TOML file, PB_* overrides, and clear one-line errors."""

import re
import tomllib
from pathlib import Path

import pytest

from pb.config import SETTINGS, ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "x" * 40
GOOD_AUDIT_KEY = "a" * 40
GOOD_VOTING_KEY = "v" * 40


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_documents_every_setting_and_loads():
    example = ROOT / "config.example.toml"
    document = tomllib.loads(example.read_text(encoding="utf-8"))
    documented = {(section, key) for section, table in document.items() for key in table}
    assert documented == {(s.section, s.key) for s in SETTINGS}
    with pytest.raises(ConfigError, match="replace the example value"):
        load_settings(example, environ={})
    with pytest.raises(ConfigError, match="app.audit_key"):
        load_settings(example, environ={"PB_SECRET_KEY": GOOD_SECRET})
    with pytest.raises(ConfigError, match="app.voting_key"):
        load_settings(example, environ={"PB_SECRET_KEY": GOOD_SECRET, "PB_AUDIT_KEY": GOOD_AUDIT_KEY})
    settings = load_settings(
        example,
        environ={"PB_SECRET_KEY": GOOD_SECRET, "PB_AUDIT_KEY": GOOD_AUDIT_KEY, "PB_VOTING_KEY": GOOD_VOTING_KEY},
    )
    assert settings["ENV"] == "production"


def test_environment_overrides_the_file(tmp_path):
    path = write(
        tmp_path,
        f'[app]\nenv = "production"\nsecret_key = "{GOOD_SECRET}"\ntrusted_hosts = ["x.ca"]\nmax_content_length = 10\n',
    )
    settings = load_settings(
        path,
        environ={
            "PB_MAX_CONTENT_LENGTH": "20",
            "PB_DATABASE_URL": "sqlite:///x.db",
            "PB_AUDIT_KEY": GOOD_AUDIT_KEY,
            "PB_VOTING_KEY": GOOD_VOTING_KEY,
        },
    )
    assert settings["MAX_CONTENT_LENGTH"] == 20
    assert settings["DATABASE_URL"] == "sqlite:///x.db"


def test_production_without_secret_key_names_the_setting():
    with pytest.raises(ConfigError) as raised:
        load_settings(None, environ={})
    message = str(raised.value)
    assert "app.secret_key" in message and "PB_SECRET_KEY" in message and "\n" not in message


def test_production_requires_trusted_hosts():
    with pytest.raises(ConfigError, match="app.trusted_hosts"):
        load_settings(None, environ={"PB_SECRET_KEY": GOOD_SECRET})
    settings = load_settings(
        None,
        environ={
            "PB_SECRET_KEY": GOOD_SECRET,
            "PB_TRUSTED_HOSTS": "a.ca, b.ca",
            "PB_AUDIT_KEY": GOOD_AUDIT_KEY,
            "PB_VOTING_KEY": GOOD_VOTING_KEY,
        },
    )
    assert settings["TRUSTED_HOSTS"] == ["a.ca", "b.ca"]


def test_production_rejects_a_short_secret_key():
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings(None, environ={"PB_SECRET_KEY": "short"})


def test_development_gets_a_development_key_only():
    settings = load_settings(None, environ={"PB_ENV": "development"})
    assert settings["SECRET_KEY"]
    assert len(settings["AUDIT_KEY"]) == 64 and settings["AUDIT_KEY"] != settings["SECRET_KEY"]


PRODUCTION = {"PB_SECRET_KEY": GOOD_SECRET, "PB_TRUSTED_HOSTS": "pb.example.ca"}


@pytest.mark.parametrize(
    ("audit_key", "message"),
    [
        (None, "missing setting app.audit_key (PB_AUDIT_KEY): required in production"),
        ("short", "at least 32"),
        ("change-me-" + "x" * 40, "replace the example value"),
        (GOOD_SECRET, "other than app.secret_key"),
    ],
)
def test_production_refuses_to_start_without_a_real_audit_key(audit_key, message):
    environ = PRODUCTION if audit_key is None else {**PRODUCTION, "PB_AUDIT_KEY": audit_key}
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(None, environ=environ)
    assert (
        load_settings(
            None, environ={**PRODUCTION, "PB_AUDIT_KEY": GOOD_AUDIT_KEY, "PB_VOTING_KEY": GOOD_VOTING_KEY}
        )["AUDIT_KEY"]
        == GOOD_AUDIT_KEY
    )


@pytest.mark.parametrize(
    ("voting_key", "message"),
    [
        (None, "missing setting app.voting_key (PB_VOTING_KEY): required in production"),
        ("change-me-" + "x" * 40, "replace the example value"),
        ("short", "at least 32 random characters"),
        (GOOD_SECRET, "a key other than app.secret_key and app.audit_key"),
        (GOOD_AUDIT_KEY, "a key other than app.secret_key and app.audit_key"),
    ],
)
def test_production_refuses_to_start_without_a_real_voting_key(voting_key, message):
    environ = {**PRODUCTION, "PB_AUDIT_KEY": GOOD_AUDIT_KEY}
    if voting_key is not None:
        environ["PB_VOTING_KEY"] = voting_key
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(None, environ=environ)
    settings = load_settings(None, environ={**environ, "PB_VOTING_KEY": GOOD_VOTING_KEY})
    assert settings["VOTING_KEY"] == GOOD_VOTING_KEY


def test_development_derives_a_voting_key_of_its_own():
    settings = load_settings(None, environ={"PB_ENV": "development"})
    assert len(settings["VOTING_KEY"]) == 64
    assert settings["VOTING_KEY"] not in (settings["AUDIT_KEY"], settings["SECRET_KEY"])


@pytest.mark.parametrize(
    ("text", "environ", "named"),
    [
        ('[app]\nenv = "staging"\n', {}, "app.env"),
        ('[app]\nmax_content_length = "lots"\n', {"PB_ENV": "development"}, "app.max_content_length"),
        ("[mail]\nmail_port = true\n", {"PB_ENV": "development"}, "mail.mail_port"),
        ("[mail]\nmail_port = 587.5\n", {"PB_ENV": "development"}, "mail.mail_port"),
        ("[app]\npublic_page_max_age_ms = 0.9\n", {"PB_ENV": "development"}, "app.public_page_max_age_ms"),
        ('[app]\nsecrte_key = "typo"\n', {}, "app.secrte_key"),
        ("[nonsense]\nx = 1\n", {}, "[nonsense]"),
        ("[app\n", {}, "not valid TOML"),
    ],
)
def test_invalid_settings_stop_start_up_with_one_line(tmp_path, text, environ, named):
    with pytest.raises(ConfigError) as raised:
        load_settings(write(tmp_path, text), environ=environ)
    assert named in str(raised.value)
    assert "\n" not in str(raised.value)


def test_invalid_environment_value_names_the_variable():
    with pytest.raises(ConfigError, match=re.escape("PB_MAIL_USE_TLS")):
        load_settings(None, environ={"PB_ENV": "development", "PB_MAIL_USE_TLS": "maybe"})


def test_cli_reports_a_configuration_error_in_one_line(tmp_path, monkeypatch, capsys):
    from pb.cli import main

    monkeypatch.setenv("PB_CONFIG", str(write(tmp_path, '[app]\nenv = "production"\n')))
    monkeypatch.delenv("PB_SECRET_KEY", raising=False)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "app.secret_key" in err
