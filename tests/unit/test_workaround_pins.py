"""The workarounds (chat4all_app/workarounds) reach into Faust, aiokafka and aiobreaker: fail loudly
when an installed version is not the one they were written for, or a private name they use is gone.

After an upgrade, re-read each workaround (its module docstring says why it exists), drop those
the new version makes unnecessary, then update `workarounds/pins.py`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import pkgutil
import re

import pytest

from chat4all_app import workarounds
from chat4all_app.workarounds.pins import WRITTEN_FOR, Private


def workaround_modules() -> list:
    return [importlib.import_module(f"{workarounds.__name__}.{m.name}")
            for m in pkgutil.iter_modules(workarounds.__path__)]


def declared() -> list[Private]:
    return [reach for module in workaround_modules() for reach in getattr(module, "PRIVATE", ())]


@pytest.mark.parametrize("distribution", sorted(WRITTEN_FOR))
def test_the_installed_version_is_the_one_the_workarounds_were_written_for(distribution):
    installed = importlib.metadata.version(distribution)
    assert installed == WRITTEN_FOR[distribution], (
        f"{distribution} {installed} is installed, the workarounds were written for "
        f"{WRITTEN_FOR[distribution]}: re-check chat4all_app/workarounds/ (see its docstring), then "
        f"update workarounds/pins.py")


def owner_of(reach: Private) -> object:
    module, _, qualname = reach.owner.partition(":")
    found: object = importlib.import_module(module)
    for part in filter(None, qualname.split(".")):
        found = getattr(found, part)
    return found


def sets_on_instances(cls: type, name: str) -> bool:
    """Some class in `cls`'s MRO assigns `self.<name>` (an attribute made in __init__ or later)."""
    assignment = re.compile(rf"\bself\.{re.escape(name)}\s*(:[^=\n]+)?=(?!=)")
    for klass in cls.__mro__:
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):  # builtins
            continue
        if assignment.search(source):
            return True
    return False


# `obj._name` (not our own `self._name`) and `from lib import _name` in a workaround's source.
PRIVATE_USE = re.compile(r"(?<!\bself)\.(_[a-z]\w*)|\bimport\s+(_[a-z]\w*)")


@pytest.mark.parametrize("module", workaround_modules(), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_private_name_a_workaround_uses_is_declared(module):
    used = {a or b for a, b in PRIVATE_USE.findall(inspect.getsource(module))}
    declared_here = {reach.name for reach in getattr(module, "PRIVATE", ())}
    assert used <= declared_here, f"declare {sorted(used - declared_here)} in {module.__name__}.PRIVATE"


@pytest.mark.parametrize("reach", declared(), ids=lambda r: f"{r.owner}.{r.name}")
def test_every_private_name_a_workaround_uses_still_exists(reach):
    owner = owner_of(reach)
    if reach.instance:
        assert isinstance(owner, type) and sets_on_instances(owner, reach.name), (
            f"{reach.owner} no longer sets self.{reach.name}")
    else:
        assert hasattr(owner, reach.name), f"{reach.owner} has no {reach.name} any more"


def test_the_check_notices_a_name_that_is_gone():
    breaker = owner_of(Private("aiobreaker.circuitbreaker:CircuitBreaker", "_state_storage"))
    assert sets_on_instances(breaker, "_state_storage") and not sets_on_instances(breaker, "_state_store")
