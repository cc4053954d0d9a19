"""Event JSON Schemas and the rule that keeps a published event type backward compatible.

A published type (``fmc.<service>.<name>.vN``) may only gain optional fields. Removing a field,
changing its type (including its format, enum, constant or nullability), adding a required field or
making an optional one required breaks the consumers that rely on it: publish ``...vN+1`` instead.
Length and range constraints are not compared.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from fmc_common.events.catalog import ALL_EVENTS

Schema = Mapping[str, Any]

# Field names that would leak a score or a ranking on a partner-facing topic.
FORBIDDEN_PUBLIC_FIELD = re.compile(r"score|rank|grade|points|rating", re.IGNORECASE)

_VERSIONED_TYPE = re.compile(r"^fmc\.[a-z0-9-]+\.[a-z0-9-]+\.v(?P<version>[1-9][0-9]*)$")


def event_schemas() -> dict[str, dict[str, Any]]:
    """One JSON Schema per event type, by versioned type name."""
    return {cls.event_type: cls.json_schema() for cls in ALL_EVENTS}


def next_version(event_type: str) -> str:
    match = _VERSIONED_TYPE.match(event_type)
    if match is None:
        return f"{event_type}.v2"
    version = int(match["version"])
    return f"{event_type[: match.start('version')]}{version + 1}"


def is_versioned(event_type: str) -> bool:
    return _VERSIONED_TYPE.match(event_type) is not None


def event_schema_breaks(old: Schema, new: Schema) -> list[str]:
    """What in ``new`` breaks a consumer written against ``old`` (empty when compatible)."""
    problems: list[str] = []
    _compare(old, new, "", _Defs(old), _Defs(new), problems, set())
    return problems


def forbidden_public_fields(schema: Schema) -> list[str]:
    """Paths of every property, at any depth (``$defs`` included), named like a score or a rank."""
    return sorted({path for path, name in _property_names(schema, "") if FORBIDDEN_PUBLIC_FIELD.search(name)})


class _Defs:
    def __init__(self, root: Schema) -> None:
        self.defs: Mapping[str, Schema] = root.get("$defs", {})

    def resolve(self, schema: Schema) -> tuple[Schema, str | None]:
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            return schema, None
        name = ref.removeprefix("#/$defs/")
        return self.defs.get(name, {}), name


def _compare_properties(
    old: Schema,
    new: Schema,
    path: str,
    old_defs: _Defs,
    new_defs: _Defs,
    problems: list[str],
    seen: set[tuple[str | None, str | None]],
) -> None:
    """Fields kept (and compared), none removed, none newly required."""
    old_props: Mapping[str, Schema] = old.get("properties", {})
    new_props: Mapping[str, Schema] = new.get("properties", {})
    for name, old_prop in old_props.items():
        child = f"{path}.{name}" if path else name
        if name not in new_props:
            problems.append(f"{child}: field removed")
            continue
        _compare(old_prop, new_props[name], child, old_defs, new_defs, problems, seen)
    old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
    for name in sorted(new_required - old_required):
        child = f"{path}.{name}" if path else name
        if name in old_props:
            problems.append(f"{child}: optional field became required")
        else:
            problems.append(f"{child}: new required field")


def _compare(
    old: Schema,
    new: Schema,
    path: str,
    old_defs: _Defs,
    new_defs: _Defs,
    problems: list[str],
    seen: set[tuple[str | None, str | None]],
) -> None:
    old, old_ref = old_defs.resolve(old)
    new, new_ref = new_defs.resolve(new)
    if old_ref is not None or new_ref is not None:
        if (old_ref, new_ref) in seen:
            return
        seen = seen | {(old_ref, new_ref)}
    where = path or "<root>"
    old_sig, new_sig = _signature(old, old_defs), _signature(new, new_defs)
    if old_sig != new_sig:
        problems.append(f"{where}: type changed from {old_sig} to {new_sig}")
        return
    _compare_properties(old, new, path, old_defs, new_defs, problems, seen)
    if "items" in old and "items" in new:
        _compare(old["items"], new["items"], f"{path}[]", old_defs, new_defs, problems, seen)
    for keyword in ("anyOf", "oneOf", "allOf"):
        for index, (old_member, new_member) in enumerate(
            zip(old.get(keyword, ()), new.get(keyword, ()), strict=False)
        ):
            _compare(
                old_member, new_member, f"{path}<{keyword}[{index}]>", old_defs, new_defs, problems, seen
            )


def _signature(schema: Schema, defs: _Defs) -> str:
    """A compact description of what values a schema admits, ignoring lengths, ranges and prose."""
    schema, _ = defs.resolve(schema)
    parts: list[str] = []
    kind = schema.get("type")
    if isinstance(kind, list):
        parts.append("|".join(sorted(map(str, kind))))
    elif kind is not None:
        parts.append(str(kind))
    elif "properties" in schema:
        parts.append("object")
    for keyword in ("format", "const"):
        if keyword in schema:
            parts.append(f"{keyword}={schema[keyword]!r}")
    if "enum" in schema:
        parts.append(f"enum={sorted(map(repr, schema['enum']))}")
    for keyword in ("anyOf", "oneOf", "allOf"):
        if keyword in schema:
            members = ", ".join(_signature(member, defs) for member in schema[keyword])
            parts.append(f"{keyword}[{members}]")
    if "items" in schema:
        parts.append(f"items={_signature(schema['items'], defs)}")
    return " ".join(parts) or "any"


def _property_names(schema: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(schema, Mapping):
        for name, sub in schema.get("properties", {}).items():
            child = f"{path}.{name}" if path else str(name)
            yield child, str(name)
            yield from _property_names(sub, child)
        for name, sub in schema.get("$defs", {}).items():
            yield from _property_names(sub, f"$defs.{name}")
        for keyword in ("items", "additionalProperties", "not"):
            if isinstance(schema.get(keyword), Mapping):
                yield from _property_names(schema[keyword], f"{path}[]")
        for keyword in ("anyOf", "oneOf", "allOf"):
            for member in schema.get(keyword, ()):
                yield from _property_names(member, path)
