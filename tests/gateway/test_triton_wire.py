"""Triton's gRPC wire: requests built and responses read without tritonclient's tensor objects (pure)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.grpc import service_pb2
from tritonclient.grpc._utils import _get_inference_request

from fmc_common.events.inference import DecodingParameters, InferenceProtocol, ServingConvention
from fmc_gateway.serving.prompts import Prompt
from fmc_gateway.triton.inference import EndpointAddress, ModelClient, bytes_element, raw_scalar

FMC_TEXT = {"prompt": "BYTES", "max_tokens": "INT32", "temperature": "FP32", "seed": "INT64"}


def tritonclients_request(prompt: str, decoding: DecodingParameters, batched: bool) -> object:
    """The request tritonclient builds for the same item (its tensor objects, its serialisation)."""
    shape = [1, 1] if batched else [1]
    values = {
        "prompt": (np.object_, prompt.encode()),
        "max_tokens": (np.int32, decoding.max_tokens),
        "temperature": (np.float32, decoding.temperature),
        "seed": (np.int64, decoding.seed),
    }
    inputs = []
    for name, (dtype, value) in values.items():
        tensor = grpcclient.InferInput(name, shape, FMC_TEXT[name])
        tensor.set_data_from_numpy(np.array([value], dtype=dtype).reshape(shape))
        inputs.append(tensor)
    outputs = [grpcclient.InferRequestedOutput(n) for n in ("text", "prompt_tokens", "completion_tokens")]
    return _get_inference_request(
        model_name="demo-lm",
        inputs=inputs,
        model_version="2",
        request_id="",
        outputs=outputs,
        sequence_id=0,
        sequence_start=False,
        sequence_end=False,
        priority=0,
        timeout=None,
        parameters=None,
    )


class TestRequests:
    @pytest.mark.parametrize("batched", [False, True])
    async def test_each_items_request_is_the_one_tritonclient_builds(self, batched: bool) -> None:
        address = EndpointAddress(
            "127.0.0.1:1", InferenceProtocol.GRPC, "demo-lm", "2", ServingConvention.FMC_TEXT
        )
        client = ModelClient(address, FMC_TEXT, batched)
        decoding = DecodingParameters(max_tokens=7, temperature=0.5, seed=11)
        try:
            for prompt in ("first", "a second, longer prompt: ünïcödé", ""):
                built = client._request(Prompt(text=prompt), decoding)
                assert built == tritonclients_request(prompt, decoding, batched)
        finally:
            await client.close()

    def test_a_bytes_element_is_its_length_then_its_bytes(self) -> None:
        assert bytes_element(b"abc") == struct.pack("<I", 3) + b"abc"
        assert bytes_element(b"") == b"\x00\x00\x00\x00"


class TestRawOutputs:
    def test_one_element_of_an_expected_type_is_read_as_a_python_value(self) -> None:
        assert raw_scalar("BYTES", [1], bytes_element("é".encode())) == "é".encode()
        assert raw_scalar("BYTES", [1, 1], bytes_element(b"x")) == b"x"
        assert raw_scalar("INT32", [1], struct.pack("<i", -5)) == -5
        assert raw_scalar("INT64", [], struct.pack("<q", 2**40)) == 2**40

    @pytest.mark.parametrize(
        ("datatype", "shape", "content"),
        [
            ("BYTES", [2], bytes_element(b"a") + bytes_element(b"b")),  # two elements
            ("BYTES", [1], bytes_element(b"a") + b"trailing"),  # more than its one element
            ("BYTES", [1], b"\x01"),  # shorter than a length
            ("INT32", [1], struct.pack("<q", 1)),  # 8 bytes for an INT32
            ("FP32", [1], struct.pack("<f", 1.5)),  # not a type read raw
            ("INT32", [0], b""),  # no element
        ],
    )
    def test_anything_else_is_left_to_numpy(self, datatype: str, shape: list[int], content: bytes) -> None:
        assert raw_scalar(datatype, shape, content) is not None
        assert not isinstance(raw_scalar(datatype, shape, content), bytes | int)

    async def test_an_output_of_another_type_reads_as_tritonclient_reads_it(self) -> None:
        address = EndpointAddress("127.0.0.1:1", InferenceProtocol.GRPC, "demo-lm")
        client = ModelClient(address, {"prompt": "BYTES", "max_tokens": "INT32"})
        response = service_pb2.ModelInferResponse(model_name="demo-lm", model_version="1")
        contents = {
            "text": ("BYTES", bytes_element(b"hello")),
            "prompt_tokens": ("FP32", struct.pack("<f", 3.0)),  # outside the contract
            "completion_tokens": ("INT32", struct.pack("<i", 2)),
        }
        for name, (datatype, raw) in contents.items():
            output = response.outputs.add()
            output.name, output.datatype = name, datatype
            output.shape.extend([1])
            response.raw_output_contents.append(raw)
        try:
            outputs = client._outputs_of(response)
            assert outputs["text"] == b"hello"
            assert outputs["completion_tokens"] == 2
            assert outputs["prompt_tokens"].dtype == np.float32  # numpy, as the convention judges it
        finally:
            await client.close()
