"""team-lm: a SIMULATED team model for the stage-1 replay, served by Triton's Python backend.

This is not a neural network and nothing is learned. Each of the five teams in the replay gets a
copy of this file with its own ``knowledge.json`` (written by ``fmc_devrunner.stage1.models``): the
answers that this stand-in "knows", a share of the demo questions chosen by the team's simulated
quality. Asked a question it knows, it answers it; otherwise a multiple-choice question gets a
guessed letter (``sha256(seed + prompt)``, chance level) and any other question an admission that it
does not know. So the teams differ in quality the way the replay needs, reproducibly, and the
platform evaluates them exactly as it would evaluate real models behind the same Triton contract
(docs/triton-contract.md).

The answering logic (``answer``) is a pure function; ``triton_python_backend_utils`` is imported only
inside Triton.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

_CHOICE_LINE = re.compile(r"^\s*([A-Z])[.)](?:\s|$)")
_ANSWER_CUES = ("Answer:", "정답:")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _choice_letters(prompt: str) -> list[str]:
    lines = [line.strip() for line in prompt.splitlines() if line.strip()]
    if not lines or lines[-1] not in _ANSWER_CUES:
        return []
    letters = sorted({m.group(1) for line in lines[:-1] if (m := _CHOICE_LINE.match(line))})
    return letters if len(letters) >= 2 else []


def _question_of(prompt: str) -> str:
    """The question without the rendered choices and answer cue."""
    if _choice_letters(prompt):
        lines = prompt.splitlines()
        return "\n".join(
            line for line in lines if not _CHOICE_LINE.match(line) and line.strip() not in _ANSWER_CUES
        )
    return prompt


def answer(prompt: str, knowledge: dict[str, str], seed: str, max_tokens: int) -> str:
    """What the simulated model says: a known answer, a guessed letter, or that it does not know."""
    question = _question_of(prompt).strip()
    known = knowledge.get(question)
    korean = bool(_HANGUL.search(prompt))
    letters = _choice_letters(prompt)
    if known is None and letters:
        digest = hashlib.sha256((seed + "\x00" + prompt).encode("utf-8")).digest()
        known = letters[int.from_bytes(digest[:8], "big") % len(letters)]
    if known is None:
        text = "잘 모르겠습니다." if korean else "I am not sure."
    elif letters:
        text = f"정답: {known}" if korean else f"Answer: {known}"
    else:
        text = known
    return " ".join(text.split()[:max_tokens])


def load_knowledge(path: Path) -> tuple[dict[str, str], str]:
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("simulated") is not True:
        raise ValueError(f"{path} is not marked as simulated knowledge")
    return {str(k): str(v) for k, v in document["answers"].items()}, str(document["seed"])


class TritonPythonModel:
    """Entry point looked up by the Triton Python backend."""

    def initialize(self, args: dict[str, str]) -> None:
        version_dir = Path(args["model_repository"]) / args["model_version"]
        self.knowledge, self.seed = load_knowledge(version_dir / "knowledge.json")

    def execute(self, requests: list[Any]) -> list[Any]:
        import triton_python_backend_utils as pb_utils  # type: ignore[import-not-found]

        responses = []
        for request in requests:
            raw = pb_utils.get_input_tensor_by_name(request, "prompt").as_numpy().reshape(-1)[0]
            prompt = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
            max_tokens = 256
            tensor = pb_utils.get_input_tensor_by_name(request, "max_tokens")
            if tensor is not None:
                max_tokens = int(tensor.as_numpy().reshape(-1)[0])
            if max_tokens < 1:
                error = pb_utils.TritonError(f"input 'max_tokens' must be >= 1, got {max_tokens}")
                responses.append(pb_utils.InferenceResponse(output_tensors=[], error=error))
                continue
            text = answer(prompt, self.knowledge, self.seed, max_tokens)
            responses.append(
                pb_utils.InferenceResponse(
                    output_tensors=[
                        pb_utils.Tensor("text", np.array([text.encode("utf-8")], dtype=np.object_)),
                        pb_utils.Tensor("prompt_tokens", np.array([len(prompt.split())], dtype=np.int32)),
                        pb_utils.Tensor("completion_tokens", np.array([len(text.split())], dtype=np.int32)),
                    ]
                )
            )
        return responses

    def finalize(self) -> None:
        """Nothing to release."""
