"""A JSON summary of the gRPC protos (packages, messages, fields, enums, services) and its compatibility rule.

The summary is compiled from the ``.proto`` sources (not from the generated Python, which may be stale).
A change breaks clients when it removes a message, an enum, a service or an RPC, changes an RPC's
request, response or streaming, or removes, renumbers, renames, retypes or changes the cardinality of a
field. A field may be removed only when both its number and its name are reserved. Breaking changes go
into a new package version (``fmc.<service>.v2``) next to the old one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2

Summary = dict[str, Any]

_TYPE_NAMES = {
    value: name.removeprefix("TYPE_").lower()
    for name, value in descriptor_pb2.FieldDescriptorProto.Type.items()
}


def proto_root() -> Path:
    """The directory that holds ``fmc_protos`` (the include root of every .proto)."""
    import fmc_protos

    return Path(fmc_protos.__file__).resolve().parent.parent


def proto_summary(root: Path | None = None) -> Summary:
    root = root or proto_root()
    files = sorted((root / "fmc_protos").rglob("*.proto"))
    descriptor_set = _compile(root, files)
    summary: Summary = {}
    for proto in sorted(descriptor_set.file, key=lambda f: f.name):
        package = summary.setdefault(
            proto.package, {"files": [], "messages": {}, "enums": {}, "services": {}}
        )
        package["files"].append(proto.name)
        for message in proto.message_type:
            _message(message, "", package)
        for enum in proto.enum_type:
            package["enums"][enum.name] = _enum(enum)
        for service in proto.service:
            package["services"][service.name] = {
                method.name: {
                    "input": method.input_type,
                    "output": method.output_type,
                    "client_streaming": method.client_streaming,
                    "server_streaming": method.server_streaming,
                }
                for method in service.method
            }
    return summary


def _compile(root: Path, files: list[Path]) -> descriptor_pb2.FileDescriptorSet:
    from grpc_tools import protoc  # a build-time tool: imported only when the summary is made

    include = Path(protoc.__file__).resolve().parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "protos.pb"
        args = [
            "protoc",
            f"-I{root}",
            f"-I{include}",
            f"--descriptor_set_out={out}",
            *(str(path.relative_to(root)) for path in files),
        ]
        if protoc.main(args) != 0:
            raise RuntimeError("protoc failed to compile the protos")
        descriptor_set = descriptor_pb2.FileDescriptorSet()
        descriptor_set.ParseFromString(out.read_bytes())
    return descriptor_set


def _message(message: descriptor_pb2.DescriptorProto, prefix: str, package: Summary) -> None:
    name = f"{prefix}{message.name}"
    package["messages"][name] = {
        "fields": {
            field.name: {
                "number": field.number,
                "type": field.type_name or _TYPE_NAMES[field.type],
                "label": _label(field),
            }
            for field in message.field
        },
        "reserved_numbers": sorted(
            number for span in message.reserved_range for number in range(span.start, span.end)
        ),
        "reserved_names": sorted(message.reserved_name),
    }
    for nested in message.nested_type:
        _message(nested, f"{name}.", package)
    for enum in message.enum_type:
        package["enums"][f"{name}.{enum.name}"] = _enum(enum)


def _label(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED:
        return "repeated"
    return "optional" if field.proto3_optional else "singular"


def _enum(enum: descriptor_pb2.EnumDescriptorProto) -> dict[str, Any]:
    return {
        "values": {value.name: value.number for value in enum.value},
        "reserved_numbers": sorted(
            number for span in enum.reserved_range for number in range(span.start, span.end + 1)
        ),
        "reserved_names": sorted(enum.reserved_name),
    }


def proto_breaks(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What in ``new`` breaks a client built against ``old`` (empty when compatible)."""
    problems: list[str] = []
    for package_name, old_package in old.items():
        new_package = new.get(package_name)
        if new_package is None:
            problems.append(f"{package_name}: package removed")
            continue
        problems += _package_breaks(package_name, old_package, new_package)
    return problems


def _package_breaks(package_name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for name, old_message in old["messages"].items():
        new_message = new["messages"].get(name)
        if new_message is None:
            problems.append(f"{package_name}.{name}: message removed")
        else:
            problems += _field_breaks(f"{package_name}.{name}", old_message, new_message)
    for name, old_enum in old["enums"].items():
        new_enum = new["enums"].get(name)
        if new_enum is None:
            problems.append(f"{package_name}.{name}: enum removed")
        else:
            problems += _enum_breaks(f"{package_name}.{name}", old_enum, new_enum)
    for name, old_service in old["services"].items():
        new_service = new["services"].get(name)
        if new_service is None:
            problems.append(f"{package_name}.{name}: service removed")
        else:
            problems += _service_breaks(f"{package_name}.{name}", old_service, new_service)
    return problems


def _service_breaks(where: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for rpc, old_rpc in old.items():
        new_rpc = new.get(rpc)
        if new_rpc is None:
            problems.append(f"{where}/{rpc}: RPC removed")
        elif new_rpc != old_rpc:
            problems.append(f"{where}/{rpc}: RPC changed from {old_rpc} to {new_rpc}")
    return problems


def _field_breaks(where: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    new_fields: Mapping[str, Any] = new["fields"]
    new_by_number = {field["number"]: name for name, field in new_fields.items()}
    for name, field in old["fields"].items():
        number = field["number"]
        current = new_fields.get(name)
        if current is None:
            if number in new_by_number:
                problems.append(f"{where}.{name}: field {number} renamed to {new_by_number[number]}")
            elif number not in new["reserved_numbers"] or name not in new["reserved_names"]:
                problems.append(
                    f"{where}.{name}: field {number} removed without reserving its number and name"
                )
            continue
        if current["number"] != number:
            problems.append(f"{where}.{name}: renumbered from {number} to {current['number']}")
            continue
        if current["type"] != field["type"]:
            problems.append(f"{where}.{name}: type changed from {field['type']} to {current['type']}")
        if current["label"] != field["label"]:
            problems.append(
                f"{where}.{name}: cardinality changed from {field['label']} to {current['label']}"
            )
    return problems


def _enum_breaks(where: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for name, number in old["values"].items():
        current = new["values"].get(name)
        if current is None:
            if number not in new["reserved_numbers"] or name not in new["reserved_names"]:
                problems.append(f"{where}.{name}: enum value {number} removed without reserving it")
        elif current != number:
            problems.append(f"{where}.{name}: enum value renumbered from {number} to {current}")
    return problems
