"""The evaluation contract (pure): what fits, and how a misfit is explained."""

from __future__ import annotations

from fmc_common.events.inference import DecodingParameters
from fmc_gateway.endpoints.contract import (
    ModelSignature,
    TensorSpec,
    check_contract,
    signature_from_triton,
)

DEMO_METADATA = {
    "inputs": [
        {"name": "prompt", "datatype": "BYTES", "shape": ["1"]},
        {"name": "max_tokens", "datatype": "INT32", "shape": ["1"]},
    ],
    "outputs": [
        {"name": "text", "datatype": "BYTES", "shape": ["1"]},
        {"name": "prompt_tokens", "datatype": "INT32", "shape": ["1"]},
        {"name": "completion_tokens", "datatype": "INT32", "shape": ["1"]},
    ],
}
DEMO_CONFIG = {"config": {"max_batch_size": 0, "input": [{"name": "max_tokens", "optional": True}]}}


def signature(**changes: object) -> ModelSignature:
    base = signature_from_triton(DEMO_METADATA, DEMO_CONFIG)
    return ModelSignature(
        inputs=changes.get("inputs", base.inputs),  # type: ignore[arg-type]
        outputs=changes.get("outputs", base.outputs),  # type: ignore[arg-type]
        max_batch_size=changes.get("max_batch_size", base.max_batch_size),  # type: ignore[arg-type]
    )


class TestContract:
    def test_the_demo_model_fits_and_gets_prompt_and_max_tokens(self) -> None:
        check = check_contract(signature_from_triton(DEMO_METADATA, DEMO_CONFIG), DecodingParameters())
        assert check.ok
        assert dict(check.datatypes) == {"prompt": "BYTES", "max_tokens": "INT32"}

    def test_the_optional_flag_comes_from_the_config(self) -> None:
        parsed = signature_from_triton(DEMO_METADATA, DEMO_CONFIG)
        assert parsed.input("max_tokens") == TensorSpec("max_tokens", "INT32", (1,), optional=True)
        assert parsed.input("prompt") == TensorSpec("prompt", "BYTES", (1,), optional=False)

    def test_a_batching_model_with_one_element_per_request_fits(self) -> None:
        batched = signature(
            inputs=tuple(TensorSpec(s.name, s.datatype, (-1, 1)) for s in signature().inputs),
            outputs=tuple(TensorSpec(s.name, s.datatype, (-1, 1)) for s in signature().outputs),
            max_batch_size=8,
        )
        assert check_contract(batched).ok

    def test_a_wrong_datatype_and_shape_are_named(self) -> None:
        wrong = signature(
            inputs=(TensorSpec("prompt", "FP32", (4,)), TensorSpec("max_tokens", "INT32", (1,))),
        )
        assert check_contract(wrong).violations == (
            "input 'prompt' must be BYTES; the model declares FP32",
            "input 'prompt' must hold one element (dims [1]); the model declares [4]",
        )

    def test_an_extra_required_input_is_refused_but_an_optional_one_is_fine(self) -> None:
        extra = signature(inputs=(*signature().inputs, TensorSpec("image", "UINT8", (-1,))))
        assert check_contract(extra).violations[0].startswith("unexpected required input 'image'")
        optional = signature(inputs=(*signature().inputs, TensorSpec("image", "UINT8", (-1,), optional=True)))
        assert check_contract(optional).ok

    def test_generation_inputs_are_sent_when_declared_and_required_when_the_stage_needs_them(self) -> None:
        sampling = DecodingParameters(temperature=0.7, top_p=0.9, seed=3)
        assert check_contract(signature(), sampling).violations == (
            "the stage decodes with temperature 0.7, but the model has no 'temperature' input "
            "(FP32, one element)",
            "the stage decodes with top_p 0.9, but the model has no 'top_p' input (FP32, one element)",
        )
        full = signature(
            inputs=(
                *signature().inputs,
                TensorSpec("temperature", "FP32", (1,), optional=True),
                TensorSpec("top_p", "FP32", (1,), optional=True),
                TensorSpec("seed", "INT64", (1,), optional=True),
            )
        )
        check = check_contract(full, sampling)
        assert check.ok
        assert set(check.datatypes) == {"prompt", "max_tokens", "temperature", "top_p", "seed"}

    def test_int64_token_counts_are_accepted(self) -> None:
        outputs = tuple(
            TensorSpec(s.name, "INT64" if s.name.endswith("tokens") else s.datatype, s.shape)
            for s in signature().outputs
        )
        assert check_contract(signature(outputs=outputs)).ok
