"""The serving contract of a team's model on Triton, and the check of a model against it (pure).

Each endpoint names its serving convention (docs/triton-contract.md); the check applies that
convention's rules (``fmc_gateway.serving.conventions``). Our own signature (``fmc-text``, the
default) requires:

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

from fmc_common.events.inference import DecodingParameters, InferenceProtocol, ServingConvention
from fmc_gateway.serving.conventions import convention_of, tensors_of
from fmc_gateway.serving.signature import ContractCheck, ModelSignature, TensorSpec, signature_from_triton

__all__ = [
    "ContractCheck",
    "ModelSignature",
    "TensorSpec",
    "check_contract",
    "check_protocol",
    "signature_from_triton",
]


def check_contract(
    signature: ModelSignature,
    decoding: DecodingParameters | None = None,
    convention: ServingConvention = ServingConvention.FMC_TEXT,
) -> ContractCheck:
    """Every way ``signature`` breaks ``convention``'s rules (none when it fits), phrased for the team."""
    tensors = tensors_of(convention)
    if tensors is None:
        return ContractCheck(
            violations=(f"convention {convention} is not served by Triton: it has no tensor signature",)
        )
    return tensors.check(signature, decoding)


def check_protocol(convention: ServingConvention, protocol: InferenceProtocol) -> tuple[str, ...]:
    """Why ``protocol`` cannot carry ``convention`` (empty when it can)."""
    return tuple(convention_of(convention).check_protocol(protocol == InferenceProtocol.GRPC))
