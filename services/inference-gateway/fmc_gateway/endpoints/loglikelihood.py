"""The readiness check's second half for a log-likelihood run: can the endpoint give log-probabilities?

Asked by doing it once: one continuation scored after a short context through the same client the
run will use (``ModelClient.loglikelihoods``). A Triton model without the extension (no input
``continuation``, no output ``log_probs`` or ``token_count``) is refused by Triton in its own words;
an OpenAI-compatible server without ``/v1/completions``, or whose completions carry no echoed
log-probs, answers something the reader cannot use: both are a ``model-contract-mismatch`` that
names what is missing. An endpoint that does not answer is not a verdict yet (the run waits).
"""

from __future__ import annotations

from dataclasses import replace

from fmc_common.events.inference import DecodingParameters, ServingConvention
from fmc_gateway.endpoints.readiness import Readiness, ReadinessCode
from fmc_gateway.serving.loglikelihood import EXTENSION
from fmc_gateway.triton.inference import EndpointAddress, FailureKind, InferenceFailure, ModelClient

PROBE_CONTEXT = "Question: 1 + 1 = ?\nAnswer:"
PROBE_CONTINUATION = " 2"
_WITH_EXTENSION = (ServingConvention.FMC_TEXT, ServingConvention.OPENAI_CHAT)


async def check_loglikelihood(
    address: EndpointAddress, readiness: Readiness, decoding: DecodingParameters, timeout: float
) -> Readiness:
    """``readiness`` (of an endpoint found ready) if it also answers log-probabilities, else why not."""
    if address.convention not in _WITH_EXTENSION:
        return _mismatch(
            address,
            readiness,
            f"a loglikelihood run needs {EXTENSION}; convention {address.convention} has none",
        )
    client = ModelClient(address, readiness.datatypes, readiness.batched)
    try:
        await client.loglikelihoods(PROBE_CONTEXT, [PROBE_CONTINUATION], decoding, timeout)
    except InferenceFailure as failure:
        if failure.kind != FailureKind.MODEL_ERROR:
            reason = f"the log-probabilities probe got no answer from {address.label}: {failure.message}"
            return replace(readiness, reachable=False, code=ReadinessCode.UNREACHABLE, reason=reason)
        return _mismatch(
            address,
            readiness,
            f"it cannot give log-probabilities ({failure.message}); a loglikelihood run needs {EXTENSION}",
        )
    finally:
        await client.close()
    return readiness


def _mismatch(address: EndpointAddress, readiness: Readiness, problem: str) -> Readiness:
    return replace(
        readiness,
        code=ReadinessCode.MISMATCH,
        reason=f"model '{address.model_name}' at {address.host_port} does not fit the evaluation contract "
        f"(docs/triton-contract.md, convention {address.convention}): {problem}",
        violations=(problem,),
    )
