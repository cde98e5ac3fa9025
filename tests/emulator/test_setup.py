"""Starting the emulator: accounts, speed and faults from words and files, the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from tradeplay.cli import app
from tradeplay.domain.errors import ConfigError
from tradeplay.emulator import (
    FaultKind,
    Pace,
    ReplaySpeed,
    load_accounts,
    parse_account,
    parse_fault,
)


def test_accounts_come_from_toml_yaml_and_json(tmp_path: Path) -> None:
    files = {
        "a.toml": (
            '[[accounts]]\nname = "demo"\napi_key = "k1"\napi_secret = "s1"\nbalance = "250"\n'
        ),
        "a.yaml": "accounts:\n  - {name: demo, api_key: k1, api_secret: s1, balance: 250}\n",
        "a.json": json.dumps(
            {"accounts": [{"name": "demo", "api_key": "k1", "api_secret": "s1", "balance": 250}]}
        ),
    }
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text)
        [account] = load_accounts(path)
        assert (account.name, account.api_key, account.secret, account.balance) == (
            "demo",
            "k1",
            "s1",
            Decimal(250),
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[accounts]]\nname = "x"\napi_key = "k"\napi_secret = "s"\nbalance = "ten"\n',
            "a.toml: accounts[1].balance: 'ten' is not a number",
        ),
        (
            '[[accounts]]\nname = "x"\napi_key = "k"\n',
            "a.toml: accounts[1].api_secret: expected a non-empty text",
        ),
        (
            '[[accounts]]\nname = "x"\napi_key = "k"\napi_secret = "s"\nleverag = 5\n',
            "a.toml: accounts[1]: unknown field(s) leverag",
        ),
        (
            '[[accounts]]\nname = "x"\napi_key = "k"\napi_secret = "s"\nbalance = -5\n',
            "a.toml: accounts[1]: account 'x': balance -5 must be positive",
        ),
        (
            '[[accounts]]\nname = "x"\napi_key = "k"\napi_secret = "s"\n[[accounts]]\nname = "y"\n'
            'api_key = "k"\napi_secret = "t"\n',
            "a.toml: API key of account 'y' is used twice",
        ),
        ("accounts = 3\n", "a.toml: expected a non-empty list 'accounts'"),
        ("[[accounts]\n", "a.toml: not valid TOML"),
    ],
)
def test_a_bad_accounts_file_names_the_file_and_the_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "a.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_accounts(path)
    assert str(raised.value).startswith(f"{tmp_path}/{message}")


def test_words_on_the_command_line_become_accounts_speeds_and_faults() -> None:
    assert parse_account("live:key:secret:500").balance == Decimal(500)
    with pytest.raises(ConfigError, match="expected NAME:KEY:SECRET"):
        parse_account("just-a-key")
    assert ReplaySpeed.parse("x60") == ReplaySpeed(Pace.TIMED, 60.0)
    assert ReplaySpeed.parse("realtime") == ReplaySpeed(Pace.TIMED, 1.0)
    assert ReplaySpeed.parse("max").pace is Pace.MAX
    assert ReplaySpeed.parse("step").pace is Pace.STEPPED
    with pytest.raises(ConfigError, match="speed 'fast-ish'"):
        ReplaySpeed.parse("fast-ish")
    rule = parse_fault("rate-limit,every=10,path=/v5/order/create")
    assert (rule.kind, rule.every, rule.path) == (FaultKind.RATE_LIMIT, 10, "/v5/order/create")
    assert parse_fault("timeout,count=1").ms == 30_000  # longer than the clients' timeouts
    for bad, why in [
        ("flood", "unknown kind 'flood'"),
        ("latency,ms", "'ms' is not key=value"),
        ("latency,colour=red", "unknown option"),
        ("drop", "needs period=SECONDS"),
        ("server-error,status=404", "not a 5xx status"),
    ]:
        with pytest.raises(ConfigError, match=why):
            parse_fault(bad)


def test_the_emulator_help_documents_data_speed_accounts_and_faults() -> None:
    result = CliRunner().invoke(app, ["emulator", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in (
        "--sample",
        "--from",
        "--speed",
        "--account",
        "--accounts-file",
        "--fault",
        "--port",
    ):
        assert option in result.output


def test_a_bad_accounts_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text("accounts:\n  - {name: demo, api_key: k}\n")
    env = {"COLUMNS": "200", "TRADEPLAY_DATA_HOME": str(tmp_path / "home")}
    result = CliRunner().invoke(
        app, ["emulator", "--sample", "--accounts-file", str(path)], env=env
    )
    assert result.exit_code == 2
    assert "accounts[1].api_secret: expected a non-empty text" in result.output


def test_a_user_starts_it_from_the_command_line_and_a_client_connects(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",
        "TRADEPLAY_DATA_HOME": str(tmp_path / "home"),
    }
    command = [
        sys.executable,
        "-m",
        "tradeplay",
        "emulator",
        "--sample",
        "--sample-days",
        "2",
        "--port",
        "0",
        "--speed",
        "x600",
        "--account",
        "me:my-key:my-secret:2500",
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as process:
        _talk_to(process)


def _talk_to(process: subprocess.Popen[str]) -> None:
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("REST"):
                break
        url = lines[-1].split()[-1]
        assert "GENERATED" in "".join(lines) or "not real prices" in "".join(lines)
        answer = requests.get(
            f"{url}/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1", timeout=5
        ).json()
        assert answer["retCode"] == 0
        assert len(answer["result"]["list"]) == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
