"""A model's signature as Triton reports it, and the tensor checks every convention shares (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TensorSpec:
    name: str
    datatype: str
    shape: tuple[int, ...]
    optional: bool = False


@dataclass(frozen=True)
class ModelSignature:
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    max_batch_size: int = 0
    decoupled: bool = False

    @property
    def batched(self) -> bool:
        return self.max_batch_size > 0

    def input(self, name: str) -> TensorSpec | None:
        return next((spec for spec in self.inputs if spec.name == name), None)

    def output(self, name: str) -> TensorSpec | None:
        return next((spec for spec in self.outputs if spec.name == name), None)


@dataclass(frozen=True)
class ContractCheck:
    violations: tuple[str, ...]
    datatypes: Mapping[str, str] = field(default_factory=dict)
    """Input name -> datatype, for every input the gateway sends to this model."""

    @property
    def ok(self) -> bool:
        return not self.violations


def signature_from_triton(metadata: Mapping[str, Any], config: Mapping[str, Any]) -> ModelSignature:
    """Build the signature from Triton's model metadata and model config (both as JSON)."""
    body = config.get("config", config)
    optional = {str(spec.get("name")) for spec in body.get("input", []) if spec.get("optional")}
    policy = body.get("model_transaction_policy") or {}
    return ModelSignature(
        inputs=tuple(_specs(metadata.get("inputs", []), optional)),
        outputs=tuple(_specs(metadata.get("outputs", []), set())),
        max_batch_size=int(body.get("max_batch_size", 0) or 0),
        decoupled=bool(policy.get("decoupled", False)),
    )


def _specs(raw: Sequence[Mapping[str, Any]], optional: set[str]) -> list[TensorSpec]:
    return [
        TensorSpec(
            name=str(spec.get("name", "")),
            datatype=str(spec.get("datatype", "")),
            shape=tuple(int(dim) for dim in spec.get("shape", [])),
            optional=str(spec.get("name", "")) in optional,
        )
        for spec in raw
    ]


def one_element(spec: TensorSpec, batched: bool) -> bool:
    shape = spec.shape[1:] if batched and spec.shape[:1] == (-1,) else spec.shape
    return shape in ((1,), (-1,))


def shape_text(spec: TensorSpec) -> str:
    return "[" + ", ".join(str(dim) for dim in spec.shape) + "]"


def check_tensor(
    kind: str, spec: TensorSpec | None, name: str, allowed: frozenset[str], batched: bool
) -> list[str]:
    """What is wrong with one tensor the convention needs (one element of one of ``allowed``)."""
    wanted = " or ".join(sorted(allowed))
    if spec is None:
        return [f"missing {kind} '{name}' ({wanted}, one element)"]
    problems = []
    if spec.datatype not in allowed:
        problems.append(f"{kind} '{name}' must be {wanted}; the model declares {spec.datatype}")
    if not one_element(spec, batched):
        problems.append(
            f"{kind} '{name}' must hold one element (dims [1]); the model declares {shape_text(spec)}"
        )
    return problems


def check_tensors(
    signature: ModelSignature,
    required_inputs: Mapping[str, frozenset[str]],
    required_outputs: Mapping[str, frozenset[str]],
    known_inputs: Mapping[str, frozenset[str]],
) -> tuple[list[str], dict[str, str]]:
    """The required inputs and outputs, the known optional inputs when declared, no other required input.

    Returns the problems (in that order) and the inputs the gateway sends (name -> datatype).
    """
    batched = signature.batched
    problems: list[str] = []
    for name, allowed in required_inputs.items():
        problems += check_tensor("input", signature.input(name), name, allowed, batched)
    for name, allowed in required_outputs.items():
        problems += check_tensor("output", signature.output(name), name, allowed, batched)
    for name, allowed in known_inputs.items():
        spec = signature.input(name)
        if spec is not None:
            problems += check_tensor("input", spec, name, allowed, batched)
    names = set(required_inputs) | set(known_inputs)
    for spec in signature.inputs:
        if spec.name not in names and not spec.optional:
            problems.append(
                f"unexpected required input '{spec.name}': the gateway sends only "
                + ", ".join(sorted(names))
                + "; make it optional or remove it"
            )
    sent = {name: spec.datatype for name in names if (spec := signature.input(name)) is not None}
    return problems, sent


def first_text(value: Any) -> str | None:
    """The text of a BYTES output holding one or more elements (joined), or ``None`` if absent."""
    if value is None:
        return None
    items = list(value.reshape(-1)) if hasattr(value, "reshape") else [value]
    if not items:
        return None
    return "".join(
        item.decode("utf-8", errors="replace") if isinstance(item, bytes) else str(item) for item in items
    )
