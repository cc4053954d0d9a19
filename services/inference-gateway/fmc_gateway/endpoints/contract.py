"""The evaluation contract of a team's model on Triton, and the check of a model against it (pure).

A model must declare (docs/triton-contract.md):

* input ``prompt`` BYTES and input ``max_tokens`` INT32 (it may be optional), each one element;
* outputs ``text`` BYTES, ``prompt_tokens`` and ``completion_tokens`` (INT32 or INT64), one element;
* optionally ``temperature`` FP32, ``top_p`` FP32 and ``seed`` INT32/INT64 inputs, sent when declared;
* no other required input (the gateway would not know what to send).

One element means dims ``[1]`` without batching (``max_batch_size: 0``), or ``[-1, 1]`` as Triton
reports a batching model (the gateway then sends a batch of one). A run whose decoding parameters
need a generation input the model lacks (a temperature other than 0, a top_p other than 1) does not
fit either: the team's model would silently decode differently from the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fmc_common.events.inference import DecodingParameters

REQUIRED_INPUTS: Mapping[str, frozenset[str]] = {
    "prompt": frozenset({"BYTES"}),
    "max_tokens": frozenset({"INT32"}),
}
GENERATION_INPUTS: Mapping[str, frozenset[str]] = {
    "temperature": frozenset({"FP32"}),
    "top_p": frozenset({"FP32"}),
    "seed": frozenset({"INT32", "INT64"}),
}
REQUIRED_OUTPUTS: Mapping[str, frozenset[str]] = {
    "text": frozenset({"BYTES"}),
    "prompt_tokens": frozenset({"INT32", "INT64"}),
    "completion_tokens": frozenset({"INT32", "INT64"}),
}


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
    datatypes: Mapping[str, str]
    """Input name -> datatype, for every input the gateway sends to this model."""

    @property
    def ok(self) -> bool:
        return not self.violations


def signature_from_triton(metadata: Mapping[str, Any], config: Mapping[str, Any]) -> ModelSignature:
    """Build the signature from Triton's model metadata and model config (both as JSON)."""
    body = config.get("config", config)
    optional = {str(spec.get("name")) for spec in body.get("input", []) if spec.get("optional")}
    return ModelSignature(
        inputs=tuple(_specs(metadata.get("inputs", []), optional)),
        outputs=tuple(_specs(metadata.get("outputs", []), set())),
        max_batch_size=int(body.get("max_batch_size", 0) or 0),
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


def _one_element(spec: TensorSpec, batched: bool) -> bool:
    shape = spec.shape[1:] if batched and spec.shape[:1] == (-1,) else spec.shape
    return shape in ((1,), (-1,))


def _shape_text(spec: TensorSpec) -> str:
    return "[" + ", ".join(str(dim) for dim in spec.shape) + "]"


def _check_tensor(
    kind: str, spec: TensorSpec | None, name: str, allowed: frozenset[str], batched: bool
) -> list[str]:
    wanted = " or ".join(sorted(allowed))
    if spec is None:
        return [f"missing {kind} '{name}' ({wanted}, one element)"]
    problems = []
    if spec.datatype not in allowed:
        problems.append(f"{kind} '{name}' must be {wanted}; the model declares {spec.datatype}")
    if not _one_element(spec, batched):
        problems.append(
            f"{kind} '{name}' must hold one element (dims [1]); the model declares {_shape_text(spec)}"
        )
    return problems


def check_contract(signature: ModelSignature, decoding: DecodingParameters | None = None) -> ContractCheck:
    """Every way ``signature`` breaks the contract (empty when it fits), each phrased for the team."""
    batched = signature.batched
    problems: list[str] = []
    for name, allowed in REQUIRED_INPUTS.items():
        problems += _check_tensor("input", signature.input(name), name, allowed, batched)
    for name, allowed in REQUIRED_OUTPUTS.items():
        problems += _check_tensor("output", signature.output(name), name, allowed, batched)
    for name, allowed in GENERATION_INPUTS.items():
        spec = signature.input(name)
        if spec is not None:
            problems += _check_tensor("input", spec, name, allowed, batched)
    known = set(REQUIRED_INPUTS) | set(GENERATION_INPUTS)
    for spec in signature.inputs:
        if spec.name not in known and not spec.optional:
            problems.append(
                f"unexpected required input '{spec.name}': the gateway sends only "
                + ", ".join(sorted(known))
                + "; make it optional or remove it"
            )
    if decoding is not None:
        if decoding.temperature != 0.0 and signature.input("temperature") is None:
            problems.append(
                f"the stage decodes with temperature {decoding.temperature}, but the model has no "
                "'temperature' input (FP32, one element)"
            )
        if decoding.top_p != 1.0 and signature.input("top_p") is None:
            problems.append(
                f"the stage decodes with top_p {decoding.top_p}, but the model has no 'top_p' input "
                "(FP32, one element)"
            )
    sent = {name: spec.datatype for name in known if (spec := signature.input(name)) is not None}
    return ContractCheck(violations=tuple(problems), datatypes=sent)
