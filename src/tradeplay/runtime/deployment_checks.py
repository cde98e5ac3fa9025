"""The deployment file's checks across its sections: names, symbols per environment, the
ladder's environments. Each problem names the file's line and field (see
:mod:`tradeplay.runtime.deployment`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from tradeplay.graduation import Stage
from tradeplay.play.document import Document
from tradeplay.play.document import Path as FieldPath
from tradeplay.play.errors import Problem
from tradeplay.runtime.live import RunEnvironment

if TYPE_CHECKING:
    from tradeplay.runtime.deployment import Deployment, PlaySpec

__all__ = ["PIPELINE", "cross_checks", "play_name", "stage_kind"]

_NAME: Final = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
PIPELINE: Final = "pipeline"
"""A play's ``environments``: the environment of its stage on the graduation ladder."""


def stage_kind(stage: Stage) -> RunEnvironment:
    return RunEnvironment.LIVE if stage.is_live else RunEnvironment(str(stage))


def cross_checks(deployment: Deployment, document: Document) -> list[Problem]:
    model = deployment.model
    problems = [
        document.problem(("environments", name), "names are 1 to 32 of a-z, 0-9, '_' or '-'")
        for name in model.environments
        if not _NAME.match(name)
    ]
    reserved = {"all": "every environment", PIPELINE: "a play's stage on the ladder"}
    for word, meaning in reserved.items():
        if word in model.environments:
            message = f"'{word}' means {meaning}: pick another name"
            problems.append(document.problem(("environments", word), message))
    if any(deployment.graduates(play) for play in model.plays):
        problems += _stage_checks(deployment, document)
    for name, spec in model.environments.items():
        if (spec.api_key is None) != (spec.api_secret is None):
            problems.append(
                document.problem(("environments", name), "give both api_key and api_secret")
            )
        if spec.credentials is not None and spec.api_key is not None:
            problems.append(
                document.problem(
                    ("environments", name, "credentials"),
                    "give either a stored key (credentials) or api_key / api_secret, not both",
                )
            )
    symbols: dict[tuple[str, str], str] = {}
    names: dict[str, int] = {}
    for index, play in enumerate(model.plays):
        problems += _play_checks(deployment, document, index, play, symbols, names)
    return problems


def _play_checks(  # noqa: PLR0917  # the shared tallies of the one pass over the plays
    deployment: Deployment,
    document: Document,
    index: int,
    spec: PlaySpec,
    symbols: dict[tuple[str, str], str],
    names: dict[str, int],
) -> list[Problem]:
    where: FieldPath = ("plays", index)
    found = []
    if not deployment.play_path(spec).is_file():
        found.append(
            document.problem((*where, "play"), f"no play file at {deployment.play_path(spec)}")
        )
    name = play_name(deployment, spec)
    if name in names:
        found.append(
            document.problem(
                (*where, "name"), f"the name {name!r} is already used by plays[{names[name]}]"
            )
        )
    names[name] = index
    known = tuple(deployment.model.environments)
    if spec.environments not in (("all",), (PIPELINE,)):
        for position, env in enumerate(spec.environments):
            if env not in known:
                message = (
                    f"unknown environment {env!r}; expected all, pipeline or one of "
                    f"{', '.join(known)}"
                )
                found.append(document.problem((*where, "environments", position), message))
    symbol = spec.symbol
    if symbol is not None:
        for env in deployment.environments_of(spec):
            other = symbols.setdefault((env, symbol), name)
            if other != name:
                message = (
                    f"{name} and {other} both trade {symbol} in {env}: one account holds one "
                    "position per symbol, so each play of an environment needs its own symbol"
                )
                found.append(document.problem((*where, "symbol"), message))
    return found


def _stage_checks(deployment: Deployment, document: Document) -> list[Problem]:
    """Each running stage of the ladder has one environment, of its kind."""
    model = deployment.model
    found = []
    for stage in model.pipeline.running:
        where: FieldPath = ("pipeline", "environments", str(stage))
        try:
            name = deployment.stage_environment(stage)
        except ValueError as error:
            found.append(document.problem(where, str(error)))
            continue
        spec = model.environments.get(name)
        if spec is None:
            known = ", ".join(model.environments)
            found.append(document.problem(where, f"unknown environment {name!r}; one of {known}"))
        elif spec.kind is not stage_kind(stage):
            message = (
                f"the {stage} stage needs a {stage_kind(stage)} environment, {name} is {spec.kind}"
            )
            found.append(document.problem(where, message))
    return found


def play_name(deployment: Deployment, spec: PlaySpec) -> str:
    return spec.name or deployment.play_path(spec).stem
