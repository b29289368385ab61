"""Registries that flows name: actions (Python functions run by action nodes) and input validators."""
from dataclasses import dataclass
from typing import Callable

ACTIONS = {}
VALIDATORS = {}


@dataclass(frozen=True)
class Action:
    """A named function an action node runs; it returns one of its declared outcomes."""

    name: str
    function: Callable
    outcomes: tuple


def action(name, outcomes):
    """Register `function(context) -> outcome` as the action `name` with its possible outcomes."""

    def register(function):
        ACTIONS[name] = Action(name=name, function=function, outcomes=tuple(outcomes))
        return function

    return register


def validator(name):
    """Register `function(digits, context) -> value` (raising InvalidInput) as the validator `name`."""

    def register(function):
        VALIDATORS[name] = function
        return function

    return register
