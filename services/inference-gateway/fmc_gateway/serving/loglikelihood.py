"""Log-likelihood of a continuation after a context: the requests and the reading of the answers (pure).

A log-likelihood run asks, for each choice of an item, how likely the model finds the choice's text
after the item's context (lm-evaluation-harness's ``loglikelihood`` requests). Two ways to ask
(docs/triton-contract.md, "Log-likelihood extension"):

* **fmc-text** on Triton: the model's optional input ``continuation`` (BYTES) next to ``prompt``
  (the context); the outputs ``log_probs`` (FP32: the sum of the log-probs of the continuation's
  tokens) and ``token_count`` (INT32 or INT64: how many tokens the continuation took).
* **openai-chat** servers: ``POST /v1/completions`` with ``prompt`` = context + continuation,
  ``echo: true``, ``logprobs: 1``, ``max_tokens: 1``: the echoed prompt tokens come back with their
  log-probs and character offsets; the continuation's tokens are those starting at or after the
  context's end. llama.cpp counts its offsets after a leading space it adds to the text: the offsets
  are aligned by where the echo ends (the first generated token), not assumed to start at 0.

The record's text is the canonical JSON of the answers (``loglikelihoods_text``): what scoring reads
and grades, and what the responses hash covers, like any other answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fmc_gateway.serving.protocol import ReplyInvalid

COMPLETIONS_PATH = "/v1/completions"
CONTINUATION_INPUT = "continuation"
LOG_PROBS_OUTPUT = "log_probs"
TOKEN_COUNT_OUTPUT = "token_count"
EXTENSION = (
    "the log-likelihood extension (docs/triton-contract.md): for fmc-text, the optional input "
    "'continuation' (BYTES) and the outputs 'log_probs' (FP32) and 'token_count' (INT32); for "
    "openai-chat, POST /v1/completions answering echo with logprobs"
)


@dataclass(frozen=True)
class Loglikelihood:
    """One continuation's answer: the sum of its tokens' log-probs, and how many tokens it took."""

    logprob: float
    tokens: int


def loglikelihoods_text(answers: Sequence[Loglikelihood]) -> str:
    """The record's text: ``{"loglikelihoods": [{"logprob", "tokens"}, ...]}`` in choice order."""
    body = {"loglikelihoods": [{"logprob": a.logprob, "tokens": a.tokens} for a in answers]}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def completions_request(model: str, context: str, continuation: str) -> dict[str, Any]:
    """The ``POST /v1/completions`` body scoring ``continuation`` after ``context`` (nothing sampled
    that matters: one token, greedy, then ignored)."""
    return {
        "model": model,
        "prompt": context + continuation,
        "max_tokens": 1,
        "temperature": 0.0,
        "echo": True,
        "logprobs": 1,
        "stream": False,
    }


def completions_loglikelihood(body: Any, context: str, continuation: str) -> Loglikelihood:
    """Read the continuation's log-probs off an echoed completion (``ReplyInvalid`` if it cannot)."""
    logprobs = _echoed(body)
    offsets = [int(offset) for offset in logprobs["text_offset"]]
    values = list(logprobs["token_logprobs"])
    tokens = [str(token) for token in logprobs["tokens"]]
    if not (len(offsets) == len(values) == len(tokens)) or not tokens:
        raise ReplyInvalid("logprobs: text_offset, token_logprobs and tokens differ in length")
    usage = body.get("usage") if isinstance(body.get("usage"), Mapping) else {}
    generated = usage.get("completion_tokens")
    generated = generated if isinstance(generated, int) and 0 <= generated < len(tokens) else 1
    echoed = len(tokens) - generated
    prompt = context + continuation
    # Where the echo ends in the server's offsets: the first generated token's offset.
    end = offsets[echoed] if generated else offsets[-1] + len(tokens[-1])
    start = len(context) + (end - len(prompt))
    picked = [values[i] for i in range(echoed) if offsets[i] >= start]
    if not picked:
        raise ReplyInvalid("no echoed token starts within the continuation")
    if any(value is None for value in picked):
        raise ReplyInvalid("a continuation token has no log-probability")
    return Loglikelihood(float(sum(float(value) for value in picked)), len(picked))


def _echoed(body: Any) -> Mapping[str, Any]:
    try:
        logprobs = body["choices"][0]["logprobs"]
        for name in ("text_offset", "token_logprobs", "tokens"):
            if not isinstance(logprobs[name], list):
                raise TypeError(name)
    except (KeyError, IndexError, TypeError) as exc:
        raise ReplyInvalid(
            f"the completion carries no echoed logprobs (choices[0].logprobs.text_offset, "
            f"token_logprobs, tokens): {exc!r}"
        ) from exc
    if not isinstance(logprobs, Mapping):
        raise ReplyInvalid("choices[0].logprobs is not an object")
    return logprobs


def triton_loglikelihood(outputs: Mapping[str, Any]) -> Loglikelihood:
    """The ``log_probs`` (FP32) and ``token_count`` (integer) outputs, one element each."""
    values = {}
    for name in (LOG_PROBS_OUTPUT, TOKEN_COUNT_OUTPUT):
        value = outputs.get(name)
        if value is None or getattr(value, "size", 1) != 1:
            raise ReplyInvalid(f"the response lacks one element of output {name!r}")
        values[name] = value.reshape(-1)[0] if hasattr(value, "reshape") else value
    if (
        getattr(outputs[LOG_PROBS_OUTPUT], "dtype", None) is not None
        and outputs[LOG_PROBS_OUTPUT].dtype.kind != "f"
    ):
        raise ReplyInvalid(
            f"output log_probs holds {outputs[LOG_PROBS_OUTPUT].dtype}; the contract wants FP32"
        )
    if (
        getattr(outputs[TOKEN_COUNT_OUTPUT], "dtype", None) is not None
        and outputs[TOKEN_COUNT_OUTPUT].dtype.kind not in "iu"
    ):
        raise ReplyInvalid(
            f"output token_count holds {outputs[TOKEN_COUNT_OUTPUT].dtype}; the contract wants INT32 or INT64"
        )
    logprob, count = float(values[LOG_PROBS_OUTPUT]), int(values[TOKEN_COUNT_OUTPUT])
    if not -1e30 < logprob <= 1e-3 or count < 1:
        raise ReplyInvalid(
            f"log_probs {logprob} must be a log-probability (at most 0), token_count {count} at least 1"
        )
    return Loglikelihood(logprob, count)
