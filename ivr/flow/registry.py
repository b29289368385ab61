"""Registries of what flows name that Python supplies: actions, input validators and transfer targets."""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Action:
    """A named function an action node runs; it returns one of its declared outcomes."""

    name: str
    function: Callable
    outcomes: tuple
    sets: tuple = ()  # the call variables it may set, which prompts after it may name


class Registry:
    """The actions, validators and transfer targets one set of flows may name; given to the loader, never global."""

    def __init__(self, transfer_targets=()):
        self.actions = {}
        self.validators = {}
        self.transfer_targets = frozenset(transfer_targets)

    def action(self, name, outcomes, sets=()):
        """Register `function(context) -> outcome` as the action `name`, its outcomes and the variables it sets."""

        def register(function):
            self.actions[name] = Action(name=name, function=function, outcomes=tuple(outcomes), sets=tuple(sets))
            return function

        return register

    def validator(self, name):
        """Register `function(digits, context) -> value` (raising InvalidInput) as the validator `name`."""

        def register(function):
            self.validators[name] = function
            return function

        return register


# The hotline's own: ivr/actions.py and ivr/verify.py register on it, and create_app hands it to the loader.
# "agent" is dialled at IVR_AGENT_NUMBER.
hotline = Registry(transfer_targets=("agent",))
