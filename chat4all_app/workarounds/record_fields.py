"""A faust.Record's declared fields and defaults (Faust has no public introspection API for them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust

from chat4all_app.workarounds.pins import Private

PRIVATE = (Private("faust:Record", "_options"),)


def declared_fields(record: type[faust.Record]) -> Mapping[str, Any]:
    """Field name -> its annotation, in declaration order."""
    return record._options.fields


def defaulted_fields(record: type[faust.Record]) -> Mapping[str, Any]:
    """Field name -> default, for the fields that may be left out."""
    return record._options.defaults
