"""The `todoke` command line against a real database on both engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from todoke.cli.main import app as cli


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> dict[str, str]:
    return {
        "TODOKE_DATABASE_URL": db_url,
        "TODOKE_DATA_DIR": str(tmp_path / "data"),
        "TODOKE_CONFIG_FILE": "",
    }


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env, input=stdin)
    return result.exit_code, result.output


def test_init_creates_owner_once_and_is_idempotent(env: dict[str, str]) -> None:
    code, output = run(env, "init", "--owner-email", "boss@kyokai.example.jp", "--json")
    first = json.loads(output)
    assert code == 0
    assert first["owner_email"] == "boss@kyokai.example.jp"
    assert len(first["owner_password"]) >= 12
    code, output = run(env, "init", "--json")
    second = json.loads(output)
    assert code == 0
    assert second["owner_email"] is None
    assert second["owner_password"] is None
    code, output = run(env, "user", "list", "--json")
    assert [user["email"] for user in json.loads(output)] == ["boss@kyokai.example.jp"]


def test_user_add_reads_password_from_stdin(env: dict[str, str]) -> None:
    run(env, "init")
    code, output = run(
        env,
        "user",
        "add",
        "Hanako@Kyokai.example.jp",
        "--role",
        "analyst",
        "--name",
        "分析 花子",
        "--password-stdin",
        stdin="a long enough passphrase\n",
    )
    assert code == 0, output
    users = json.loads(run(env, "user", "list", "--json")[1])
    added = next(user for user in users if user["email"] == "hanako@kyokai.example.jp")
    assert added["role"] == "analyst"
    assert added["name"] == "分析 花子"


def test_user_add_explains_bad_input(env: dict[str, str]) -> None:
    run(env, "init")
    code, output = run(
        env,
        "user",
        "add",
        "x@kyokai.example.jp",
        "--role",
        "wizard",
        "--password-stdin",
        stdin="a long enough passphrase\n",
    )
    assert code == 2
    assert "unknown role 'wizard'" in output
    code, output = run(
        env, "user", "add", "x@kyokai.example.jp", "--password-stdin", stdin="short\n"
    )
    assert code == 2
    assert "at least 12 characters" in output


def test_commands_ask_for_init_on_an_empty_database(tmp_path: Path) -> None:
    env = {"TODOKE_DATA_DIR": str(tmp_path / "fresh"), "TODOKE_CONFIG_FILE": ""}
    code, output = run(env, "user", "list")
    assert code == 1
    assert "run `todoke init` first" in output


def test_config_show_redacts_secrets(env: dict[str, str]) -> None:
    env = {
        **env,
        "TODOKE_SECRET_KEY": "very-secret-value",
        "TODOKE_DATABASE_URL": "postgresql+psycopg://todoke:db-password@db.internal/todoke",
    }
    code, output = run(env, "config", "show", "--json")
    shown = json.loads(output)
    assert code == 0
    assert "very-secret-value" not in output
    assert "db-password" not in output
    assert shown["secret_key"] == "********"
    assert shown["database_url"] == "postgresql+psycopg://todoke:***@db.internal/todoke"


def test_config_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "todoke.toml"
    config.write_text('web_port = 8125\ndefault_locale = "en"\n')
    env = {
        "TODOKE_CONFIG_FILE": str(config),
        "TODOKE_DEFAULT_LOCALE": "ja",
        "TODOKE_DATA_DIR": str(tmp_path),
    }
    shown = json.loads(run(env, "config", "show", "--json")[1])
    assert shown["web_port"] == 8125
    assert shown["default_locale"] == "ja"


def test_invalid_configuration_is_named(tmp_path: Path) -> None:
    env = {"TODOKE_WEB_PORT": "99999", "TODOKE_DATA_DIR": str(tmp_path), "TODOKE_CONFIG_FILE": ""}
    code, output = run(env, "config", "show")
    assert code == 2
    assert "web_port" in output


def test_init_creates_the_secret_key_file_privately(env: dict[str, str]) -> None:
    run(env, "init")
    key = Path(env["TODOKE_DATA_DIR"]) / "secret_key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(key.read_text().strip()) >= 48


def test_version_flag() -> None:
    code, output = run({}, "--version")
    assert code == 0
    assert output.strip() == "0.1.0"
