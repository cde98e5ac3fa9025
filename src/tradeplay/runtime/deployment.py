"""The deployment file: which plays run in which environments, with what capital and limits.

::

    schema_version: 1
    name: main
    environments:
      demo:
        kind: demo                       # shadow, paper, demo, testnet or live
        credentials: bybit-demo          # a key stored with `tradeplay keys add` …
        capital: 10000
        risk: {max_daily_loss_percent: 5, max_drawdown_percent: 20, max_open_orders: 20}
      live:
        kind: live
        api_key: ${BYBIT_LIVE_API_KEY}   # … or references to environment variables
        api_secret: ${BYBIT_LIVE_API_SECRET}
        emulator: ${EMULATOR_URL}        # optional: the local Bybit emulator instead of Bybit
        capital: 500
    plays:
      - play: plays/ema_cross.yaml       # relative to this file
        environments: all                # one name, a list, all, or pipeline
        capital_share: 0.5               # of each environment's capital
    limits: {max_daily_loss_percent: 8}  # across all environments
    pipeline: {live_approval: automatic} # the graduation ladder (see tradeplay.graduation)

A play whose ``environments`` is ``pipeline`` graduates: it runs in every environment of the
ladder's running stages, trading only in the one of its current stage (each stage's
environment is the one of its kind, or as ``pipeline.environments`` names it).

Risk limits, each off when left out. An environment's ``risk`` holds every one; ``limits``
(all environments together) holds those that measure a group of pairs:

=========================  ========================================================
max_position_notional      most value of one symbol's position (settle coin)
max_total_exposure         most value of all positions / equity (``3`` = 3× equity)
max_leverage               most leverage a play may trade with
max_daily_loss_percent     most equity lost since 00:00 UTC, % of that day's start
max_drawdown_percent       most equity lost from its peak, %: the emergency protocol
max_open_orders            most orders open at once
kill_switch                ``true``: no new risk at all, exits only
max_trade_risk_percent     (environment only) risk to the stop, % of the play's equity
max_symbol_exposure        (environment only) one symbol's value / the play's equity
=========================  ========================================================

``all`` and ``pipeline`` are not names an environment may take.

``${VAR}`` anywhere is replaced by the variable's value (a missing one is an error naming the
field and line); an API key or secret must be such a reference, so secrets never live in the
file. Errors name the file, the line and the field, like a play file's.

Within one environment every play trades its own symbol: on a Bybit account in one-way mode
two plays on one symbol would share — and fight over — one position.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import yaml
from pydantic import BeforeValidator, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from tradeplay.domain.values import to_decimal
from tradeplay.engine.risk import RiskLimits
from tradeplay.graduation import Ladder, Stage
from tradeplay.play.document import Document, dotted, read_document
from tradeplay.play.document import Path as FieldPath
from tradeplay.play.errors import PlayFileError, Problem
from tradeplay.play.sections import Money, Section, Text, Whole, custom, shown
from tradeplay.runtime.deployment_checks import PIPELINE, cross_checks, stage_kind
from tradeplay.runtime.live import RunEnvironment

__all__ = [
    "Deployment",
    "DeploymentFileError",
    "EnvironmentSpec",
    "GlobalRiskSpec",
    "PlaySpec",
    "RiskSpec",
    "load_deployment",
    "read_deployment",
]

SCHEMA_VERSION: Final = 1
_REFERENCE: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRETS: Final = ("api_key", "api_secret")


class DeploymentFileError(PlayFileError):
    """A deployment file has one or more problems; one line per problem (file, line, field)."""


def _positive_share(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise custom("number_type", f"expected a number, got {shown(value)}")
    share = to_decimal(value, "capital_share")
    if not Decimal(0) < share <= 1:
        raise custom("share", f"expected a fraction above 0 and at most 1, got {shown(value)}")
    return share


Share = Annotated[Decimal, BeforeValidator(_positive_share)]


class GlobalRiskSpec(Section):
    """Limits of a group of pairs: an environment's, or (``limits:``) all environments'
    together. Each is off when left out; :mod:`tradeplay.runtime.safety` enforces them."""

    max_position_notional: Money | None = Field(
        default=None, gt=0, description="Most value of one symbol's position(s), settle coin."
    )
    max_total_exposure: Money | None = Field(
        default=None, gt=0, description="Most value of all positions / equity (3 = 3× equity)."
    )
    max_leverage: Money | None = Field(default=None, ge=1)
    max_daily_loss_percent: Money | None = Field(default=None, gt=0)
    max_drawdown_percent: Money | None = Field(default=None, gt=0)
    max_open_orders: Whole | None = Field(default=None, ge=1)
    kill_switch: bool = False


class RiskSpec(GlobalRiskSpec):
    """An environment's limits: those of the group, and two that each of its engines checks
    for itself (see :class:`~tradeplay.engine.risk.RiskLimits`)."""

    max_trade_risk_percent: Money | None = Field(default=None, gt=0)
    max_symbol_exposure: Money | None = Field(default=None, gt=0)

    def limits(self) -> RiskLimits:
        """The limits each engine of the environment checks against its own equity."""
        return RiskLimits(
            max_trade_risk_percent=self.max_trade_risk_percent,
            max_symbol_exposure=self.max_symbol_exposure,
            max_total_exposure=self.max_total_exposure,
            max_leverage=self.max_leverage,
            max_daily_loss_percent=self.max_daily_loss_percent,
            max_drawdown_percent=self.max_drawdown_percent,
            kill_switch=self.kill_switch,
        )


class EnvironmentSpec(Section):
    """One environment: where its orders go, whose keys, how much capital, which limits."""

    kind: RunEnvironment
    venue: Literal["bybit"] = "bybit"
    credentials: Text | None = Field(
        default=None, description="Name of a key stored with `tradeplay keys add`."
    )
    api_key: Text | None = Field(default=None, description="A ${VAR} reference.")
    api_secret: Text | None = Field(default=None, description="A ${VAR} reference.")
    emulator: Text | None = Field(default=None, description="Base URL of the local emulator.")
    capital: Money = Field(gt=0)
    risk: RiskSpec = RiskSpec()

    @field_validator("emulator")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise custom("url", f"expected an http:// or https:// URL, got {shown(value)}")
        return value


def _environments(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


class PlaySpec(Section):
    """A play file and the environments it runs in."""

    play: Text = Field(min_length=1, description="Path of the play file, relative to this file.")
    name: Text | None = Field(default=None, description="Its name here; the file's stem.")
    symbol: Text | None = Field(default=None, description="The play's first symbol.")
    environments: Annotated[tuple[str, ...], BeforeValidator(_environments)] = Field(min_length=1)
    capital_share: Share = Decimal(1)


class DeploymentModel(Section):
    schema_version: Literal[1]
    name: Text = Field(min_length=1, max_length=64)
    environments: dict[str, EnvironmentSpec] = Field(min_length=1)
    plays: tuple[PlaySpec, ...] = Field(min_length=1)
    limits: GlobalRiskSpec = GlobalRiskSpec()
    pipeline: Ladder = Ladder()
    """The graduation ladder: its stages, their criteria over the defaults, live approval."""

    @field_validator("limits", mode="before")
    @classmethod
    def _group_limits_only(cls, value: Any) -> Any:
        for name in ("max_trade_risk_percent", "max_symbol_exposure"):
            if isinstance(value, dict) and name in value:
                raise custom(
                    "engine_limit",
                    f"{name} is checked by each play against its own equity, not across "
                    "environments: set it in an environment's risk section",
                )
        return value


@dataclass(frozen=True, slots=True)
class Deployment:
    """A validated deployment: its model, the file it came from, and each play's pairs."""

    source: Path
    model: DeploymentModel

    @property
    def name(self) -> str:
        return self.model.name

    def play_path(self, spec: PlaySpec) -> Path:
        path = Path(spec.play).expanduser()
        return path if path.is_absolute() else self.source.parent / path

    def environments_of(self, spec: PlaySpec) -> tuple[str, ...]:
        """The environments ``spec`` runs in, ``all`` and ``pipeline`` spelled out (in file
        order); a stage without exactly one environment has none here (the deployment's checks
        report it)."""
        if spec.environments == ("all",):
            return tuple(self.model.environments)
        if spec.environments == (PIPELINE,):
            stages = set()
            for stage in self.model.pipeline.running:
                with contextlib.suppress(ValueError):
                    stages.add(self.stage_environment(stage))
            return tuple(name for name in self.model.environments if name in stages)
        return spec.environments

    def graduates(self, spec: PlaySpec) -> bool:
        return spec.environments == (PIPELINE,)

    def live_safety_above(self, stage: Stage) -> bool:
        """Whether a play may leave ``stage`` upwards as far as live safety goes: unless the
        stage above is live, yes; into live, only if its environment limits the drawdown and
        the daily loss."""
        above = self.model.pipeline.above(stage)
        if above is None or not above.is_live:
            return True
        risk = self.model.environments[self.stage_environment(above)].risk
        return risk.max_drawdown_percent is not None and risk.max_daily_loss_percent is not None

    def stage_environment(self, stage: Stage) -> str:
        """The environment ``stage`` trades in. :class:`ValueError` when none or several."""
        named = self.model.pipeline.environments.get(stage)
        if named is not None:
            return named
        kind = stage_kind(stage)
        found = [n for n, e in self.model.environments.items() if e.kind is kind]
        if len(found) != 1:
            several = f"several ({', '.join(found)})" if found else "none"
            raise ValueError(
                f"the {stage} stage runs in the {kind} environment, and there are {several}: "
                f"name it in pipeline.environments.{stage}"
            )
        return found[0]


def load_deployment(path: Path, environ: Mapping[str, str] | None = None) -> Deployment:
    """Read and validate a deployment file; :class:`DeploymentFileError` lists every problem."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DeploymentFileError(source, [Problem("", f"cannot read the file: {error}")]) from None
    return read_deployment(text, path, os.environ if environ is None else environ)


def read_deployment(text: str, path: Path, environ: Mapping[str, str]) -> Deployment:
    source = str(path)
    try:
        document = read_document(text, source)
    except PlayFileError as error:
        raise DeploymentFileError(source, error.problems) from None
    problems = _secrets_in_file(document)
    data = _substitute(document.data, (), document, environ, problems)
    _check_version(data, document, problems)
    if problems:
        raise DeploymentFileError(source, problems)
    try:
        model = DeploymentModel.model_validate(data)
    except ValidationError as error:
        # A list whose item is wrong is also reported as "too short" by pydantic: drop that.
        items = [e for e in error.errors() if not (e["type"] == "too_short" and e["input"])]
        found = dict.fromkeys(_problem(item, document) for item in items)
        raise DeploymentFileError(source, sorted(found, key=_line)) from None
    deployment = Deployment(path, model)
    problems = cross_checks(deployment, document)
    if problems:
        raise DeploymentFileError(source, problems)
    return deployment


def _line(problem: Problem) -> int:
    return problem.line or 0


def _check_version(data: dict[str, Any], document: Document, problems: list[Problem]) -> None:
    version = data.get("schema_version")
    if version == SCHEMA_VERSION and not isinstance(version, bool):
        return
    message = (
        f"required field is missing; write 'schema_version: {SCHEMA_VERSION}' first"
        if version is None
        else f"this tradeplay reads schema version {SCHEMA_VERSION}, the file says {shown(version)}"
    )
    problems.append(document.problem(("schema_version",), message))


def _secrets_in_file(document: Document) -> list[Problem]:
    found = []
    environments = document.data.get("environments")
    for name, spec in (environments or {}).items() if isinstance(environments, dict) else ():
        for secret in _SECRETS:
            value = spec.get(secret) if isinstance(spec, dict) else None
            if value is not None and not (
                isinstance(value, str) and _REFERENCE.fullmatch(value.strip())
            ):
                message = (
                    "secrets never live in the deployment file: write a reference such as "
                    f"${{BYBIT_{name.upper()}_{secret.upper()}}} and set that variable"
                )
                found.append(document.problem(("environments", name, secret), message))
    return found


def _substitute(  # noqa: PLR0911  # one return per kind of YAML node
    node: Any,
    path: FieldPath,
    document: Document,
    environ: Mapping[str, str],
    problems: list[Problem],
) -> Any:
    """The data with every ``${VAR}`` filled in; a whole-value reference is read as YAML would
    read the value written in its place (``${CAPITAL}`` = ``500`` is a number)."""
    if isinstance(node, dict):
        return {k: _substitute(v, (*path, k), document, environ, problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, (*path, i), document, environ, problems) for i, v in enumerate(node)]
    if not isinstance(node, str) or "${" not in node:
        return node
    missing = [name for name in _REFERENCE.findall(node) if name not in environ]
    for name in dict.fromkeys(missing):
        problems.append(document.problem(path, f"environment variable {name} is not set"))
    if missing:
        return node
    filled = _REFERENCE.sub(lambda match: environ[match.group(1)], node)
    if _REFERENCE.fullmatch(node) and path[-1:] not in (("api_key",), ("api_secret",)):
        try:
            value = yaml.safe_load(filled)
        except yaml.YAMLError:
            return filled
        return value if isinstance(value, int | float | bool | str) else filled
    return filled


def _problem(item: ErrorDetails, document: Document) -> Problem:
    path: FieldPath = tuple(part for part in item["loc"] if not str(part).startswith("function-"))
    kind = item["type"]
    ctx: Mapping[str, Any] = item.get("ctx") or {}
    if kind == "unknown_field":
        path = (*path, str(ctx["field"]))
    if kind == "missing":
        message = "required field is missing"
    elif kind in ("literal_error", "enum"):
        expected = ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        message = f"expected one of {expected}, got {shown(item['input'])}"
    elif kind in ("greater_than", "greater_than_equal"):
        bound = ctx.get("gt", ctx.get("ge"))
        sign = ">" if kind == "greater_than" else "≥"
        message = f"expected a number {sign} {bound}, got {shown(item['input'])}"
    elif kind in ("dict_type", "model_type"):
        message = f"expected a mapping of fields ('name: value' lines), got {shown(item['input'])}"
    elif kind in ("too_short", "string_too_short"):
        message = "must not be empty"
    else:
        text = item["msg"].removeprefix("Value error, ")
        message = text[:1].lower() + text[1:]
    return Problem(dotted(path), message, document.line(path))
