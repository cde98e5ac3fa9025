"""The deployment file: what a good one gives, and what a trader is told about a bad one."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tradeplay.graduation import DEFAULT_CRITERIA, Stage
from tradeplay.runtime.deployment import DeploymentFileError, read_deployment
from tradeplay.runtime.live import RunEnvironment

PLAY = Path(__file__).resolve().parents[2] / "plays" / "ema_cross.yaml"

GOOD = f"""\
schema_version: 1
name: main
environments:
  demo:
    kind: demo
    api_key: ${{DEMO_KEY}}
    api_secret: ${{DEMO_SECRET}}
    emulator: ${{EMULATOR}}
    capital: ${{DEMO_CAPITAL}}
    risk: {{max_daily_loss_percent: 5, max_drawdown_percent: 20}}
  paper:
    kind: paper
    capital: 1000
plays:
  - play: {PLAY}
    name: ema
    environments: all
    capital_share: 0.5
limits: {{max_daily_loss_percent: 8}}
"""
ENV = {
    "DEMO_KEY": "k" * 16,
    "DEMO_SECRET": "s" * 16,
    "EMULATOR": "http://127.0.0.1:9",
    "DEMO_CAPITAL": "2500",
}


def problems(text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(DeploymentFileError) as caught:
        read_deployment(text, Path("deploy.yaml"), ENV if environ is None else environ)
    return str(caught.value)


def test_a_good_file_gives_its_environments_plays_and_limits() -> None:
    deployment = read_deployment(GOOD, Path("deploy.yaml"), ENV)
    demo = deployment.model.environments["demo"]
    assert demo.kind is RunEnvironment.DEMO
    assert demo.capital == Decimal(2500)  # a whole-value ${VAR} is read as a number
    assert demo.api_key == ENV["DEMO_KEY"]
    assert demo.emulator == "http://127.0.0.1:9"
    assert demo.risk.limits().max_drawdown_percent == Decimal(20)
    play = deployment.model.plays[0]
    assert deployment.environments_of(play) == ("demo", "paper")
    assert play.capital_share == Decimal("0.5")
    assert deployment.model.limits.max_daily_loss_percent == Decimal(8)


def test_a_missing_variable_names_it_with_field_and_line() -> None:
    message = problems(GOOD, {k: v for k, v in ENV.items() if k != "DEMO_SECRET"})
    assert "deploy.yaml, line 7: environments.demo.api_secret" in message
    assert "environment variable DEMO_SECRET is not set" in message


def test_a_secret_written_in_the_file_is_refused_without_echoing_it() -> None:
    message = problems(GOOD.replace("${DEMO_SECRET}", "hunter2-secret-value"))
    assert "line 7: environments.demo.api_secret: secrets never live" in message
    assert "hunter2" not in message


def test_an_unknown_environment_of_a_play_lists_the_known_ones() -> None:
    message = problems(GOOD.replace("environments: all", "environments: [demo, lve]"))
    assert "plays[0].environments[1]: unknown environment 'lve'" in message
    assert "demo, paper" in message


def test_schema_problems_name_field_line_and_what_was_expected() -> None:
    text = GOOD.replace("kind: paper", "kind: papr").replace(
        "capital_share: 0.5", "capital_share: 2"
    )
    message = problems(text)
    assert "line 12: environments.paper.kind: expected one of shadow, paper, demo" in message
    assert "line 18: plays[0].capital_share: expected a fraction above 0 and at most 1" in message
    assert "plays: must not be empty" not in message
    misspelt = problems(GOOD.replace("capital: 1000", "capitl: 1000"))
    assert "line 13: environments.paper.capitl: unknown field (did you mean 'capital'?)" in misspelt


def test_two_plays_on_one_symbol_in_one_environment_are_refused() -> None:
    text = GOOD.replace(
        "limits:",
        f"  - play: {PLAY}\n    name: other\n    symbol: BTCUSDT\n    environments: demo\nlimits:",
    ).replace("    name: ema\n", "    name: ema\n    symbol: BTCUSDT\n")
    assert "other and ema both trade BTCUSDT in demo" in problems(text)


def test_a_missing_version_and_a_stored_and_given_key_are_both_reported() -> None:
    text = GOOD.replace("schema_version: 1\n", "").replace(
        "    kind: demo\n", "    kind: demo\n    credentials: demo-key\n"
    )
    message = problems(text)
    assert "schema_version: required field is missing" in message
    assert "not both" not in message  # the version is reported first, alone
    stored_and_given = problems(
        GOOD.replace("    kind: demo\n", "    kind: demo\n    credentials: k\n")
    )
    assert "environments.demo.credentials: give either a stored key" in stored_and_given


def test_environment_and_global_limits_of_a_group_of_plays_are_read() -> None:
    text = GOOD.replace(
        "risk: {max_daily_loss_percent: 5, max_drawdown_percent: 20}",
        "risk: {max_position_notional: 20000, max_open_orders: 8, max_trade_risk_percent: 1}",
    ).replace(
        "limits: {max_daily_loss_percent: 8}",
        "limits: {max_drawdown_percent: 15, max_open_orders: 12, kill_switch: true}",
    )
    model = read_deployment(text, Path("deploy.yaml"), ENV).model
    risk = model.environments["demo"].risk
    assert (risk.max_position_notional, risk.max_open_orders) == (Decimal(20000), 8)
    assert risk.limits().max_trade_risk_percent == Decimal(1)  # what each engine checks
    assert (model.limits.max_drawdown_percent, model.limits.max_open_orders) == (Decimal(15), 12)
    assert model.limits.kill_switch is True


def test_a_per_trade_limit_across_environments_is_refused_saying_where_it_goes() -> None:
    message = problems(GOOD.replace("max_daily_loss_percent: 8", "max_trade_risk_percent: 1"))
    assert (
        "line 19: limits: max_trade_risk_percent is checked by each play against its own "
        "equity, not across environments: set it in an environment's risk section"
    ) in message


def test_bad_limit_values_and_an_environment_called_all_are_reported() -> None:
    fraction = problems(GOOD.replace("max_daily_loss_percent: 8", "max_open_orders: 2.5"))
    assert "limits.max_open_orders: expected a whole number, got 2.5" in fraction
    negative = problems(GOOD.replace("max_drawdown_percent: 20", "max_drawdown_percent: -1"))
    assert "environments.demo.risk.max_drawdown_percent: expected a number > 0, got -1" in negative
    named_all = GOOD.replace("  paper:\n", "  all:\n")
    assert "environments.all: 'all' means every environment: pick another name" in problems(
        named_all
    )


def test_the_pipeline_section_changes_the_ladder_over_its_defaults() -> None:
    text = GOOD + (
        "pipeline:\n"
        "  stages: [shadow, demo, live_pilot, live]\n"
        "  live_approval: automatic\n"
        "  criteria: {demo: {min_days: 3}}\n"
    )
    ladder = read_deployment(text, Path("deploy.yaml"), ENV).model.pipeline
    assert [str(stage) for stage in ladder.stages] == ["shadow", "demo", "live_pilot", "live"]
    assert ladder.live_approval == "automatic"
    assert ladder.criteria[Stage.DEMO].min_days == 3
    assert ladder.criteria[Stage.DEMO].min_trades == DEFAULT_CRITERIA[Stage.DEMO].min_trades
    assert read_deployment(GOOD, Path("deploy.yaml"), ENV).model.pipeline.live_approval == (
        "operator"
    )


def test_a_bad_pipeline_section_names_line_and_field() -> None:
    text = GOOD + "pipeline:\n  live_approval: sometimes\n  criteria:\n    demo: {min_psr: 3}\n"
    assert problems(text) == (
        "deploy.yaml, line 21: pipeline.live_approval: expected one of operator, automatic, "
        "got 'sometimes'\n"
        "deploy.yaml, line 23: pipeline.criteria.demo.min_psr: input should be less than or "
        "equal to 1"
    )


GRADUATING = f"""\
schema_version: 1
name: ladder
environments:
  shadow: {{kind: shadow, capital: 1000}}
  demo: {{kind: demo, api_key: "${{DEMO_KEY}}", api_secret: "${{DEMO_SECRET}}", capital: 1000}}
  {{live}}
plays:
  - {{play: {PLAY}, name: ema, environments: pipeline}}
pipeline: {{pipeline}}
"""


def graduating(live: str, pipeline: str = "{stages: [shadow, demo, live_pilot, live]}") -> str:
    return GRADUATING.replace("{live}", live).replace("{pipeline}", pipeline)


def test_a_graduating_play_runs_in_every_stage_environment() -> None:
    live = 'live: {kind: live, api_key: "${DEMO_KEY}", api_secret: "${DEMO_SECRET}", capital: 500}'
    deployment = read_deployment(graduating(live), Path("deploy.yaml"), ENV)
    spec = deployment.model.plays[0]
    assert deployment.graduates(spec)
    assert deployment.environments_of(spec) == ("shadow", "demo", "live")
    assert deployment.stage_environment(Stage.LIVE_PILOT) == "live"
    assert deployment.stage_environment(Stage.SHADOW) == "shadow"


def test_a_stage_without_its_environment_is_named() -> None:
    found = problems(graduating(""))
    assert "pipeline.environments.live_pilot: the live_pilot stage runs in the live " in found
    assert "name it in pipeline.environments.live_pilot" in found
    with_symbol = graduating("").replace(
        "environments: pipeline}", "environments: pipeline, symbol: BTCUSDT}"
    )
    assert "pipeline.environments.live_pilot: the live_pilot stage runs in the live " in problems(
        with_symbol
    )
    paper = "{stages: [shadow, demo], environments: {demo: shadow}}"
    wrong = problems(graduating("", paper))
    assert (
        "pipeline.environments.demo: the demo stage needs a demo environment, shadow is " in wrong
    )
