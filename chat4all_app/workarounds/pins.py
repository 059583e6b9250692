"""The library versions the workarounds were written against, and how a private name is declared."""

from __future__ import annotations

from dataclasses import dataclass

# Distribution name -> version every module of this package was checked against.
WRITTEN_FOR = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0", "aiobreaker": "1.2.0"}


@dataclass(frozen=True)
class Private:
    """A private name of a library that a workaround relies on.

    `owner` is "module:Class" (or "module" for a module-level name); `instance` names an attribute
    the class sets on its instances (`self.<name> = ...`) rather than defines on itself.
    """

    owner: str
    name: str
    instance: bool = False
