"""Which items references a gateway accepts: a URL under a configured base, a file below the items
directory, nothing else (the rule, without a server; tests/gateway/test_items_origin.py shows it
holding against real servers)."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from fmc_common.grpc_support import status_for
from fmc_gateway.runs.sources import FileSource, HttpSource, ItemsSources, UriNotAllowed

BASE = "http://scoring:8003/v1/runs/"
SOURCES = ItemsSources([BASE, "https://items.example"], Path("/srv/items"))


class TestHttpReferences:
    @pytest.mark.parametrize(
        "uri",
        [
            "http://scoring:8003/v1/runs/7b1c/items",
            "http://scoring:8003/v1/runs",
            "HTTP://SCORING:8003/v1/runs/7b1c/items?part=1",
            "http://scoring:8003/v1/runs/a/../b/items",  # stays under the base once the dots are removed
            "https://items.example/suite.jsonl",
            "https://items.example:443/suite.jsonl",
        ],
    )
    def test_a_url_under_an_allowed_base_is_accepted(self, uri: str) -> None:
        assert isinstance(SOURCES.check(uri), HttpSource)

    @pytest.mark.parametrize(
        "uri",
        [
            "http://elsewhere:8003/v1/runs/x/items",  # another host
            "http://scoring:8004/v1/runs/x/items",  # another port
            "http://scoring/v1/runs/x/items",  # the default port is another port
            "https://scoring:8003/v1/runs/x/items",  # another scheme
            "http://items.example/suite.jsonl",  # https only for that base
            "http://scoring.:8003/v1/runs/x/items",  # a host spelt otherwise
            "http://scoring:8003/v1/suites/x",  # another path
            "http://scoring:8003/v1/runsx/items",  # a prefix that is not a whole segment
            "http://scoring:8003/v1/runs/../../admin",
            "http://scoring:8003/v1/runs/%2e%2e/%2e%2e/admin",
            "http://scoring:8003/v1/runs/%2E%2E/admin",
            "http://scoring:8003/v1/runs/%252e%252e/admin",  # encoded twice
            "http://scoring:8003/v1/runs/..%2fadmin",
            "http://scoring:8003/v1/runs/..\\admin",
            "http://scoring:8003/v1/runs/%5c..%5cadmin",
            "http://scoring:8003/v1/runs/a%00b",
            "http://scoring:8003@elsewhere:9000/v1/runs/x/items",  # userinfo hiding the host
            "http://scoring:8003\\@elsewhere/v1/runs/x/items",
            "http://user:secret@scoring:8003/v1/runs/x/items",
            "http:/scoring:8003/v1/runs/x/items",
            "ftp://scoring:8003/v1/runs/x/items",
            "gopher://scoring:8003/_GET",
        ],
    )
    def test_anything_else_is_refused(self, uri: str) -> None:
        with pytest.raises(UriNotAllowed) as refused:
            SOURCES.check(uri)
        assert refused.value.code == "uri-not-allowed"
        assert refused.value.status == 422

    def test_without_a_configured_base_no_url_is_accepted(self) -> None:
        with pytest.raises(UriNotAllowed):
            ItemsSources([], None).check("http://scoring:8003/v1/runs/x/items")

    @pytest.mark.parametrize(
        "base",
        ["ftp://scoring", "http://u:pw@scoring/", "http://scoring/v1?x=1", "http://scoring/%2e%2e/", "x"],
    )
    def test_a_base_that_is_not_scheme_host_port_and_path_stops_the_start(self, base: str) -> None:
        with pytest.raises(ValueError, match="FMC_GATEWAY_ITEMS_ALLOWED_URLS"):
            ItemsSources([base], None)


class TestFileReferences:
    @pytest.mark.parametrize(
        "uri", ["file:///srv/items/demo.jsonl", "/srv/items/demo.jsonl", "file:///srv/items/a%20b"]
    )
    def test_a_file_below_the_items_directory_is_accepted(self, uri: str) -> None:
        assert isinstance(SOURCES.check(uri), FileSource)

    @pytest.mark.parametrize(
        "uri",
        [
            "/etc/passwd",
            "file:///etc/passwd",
            "file:///srv/items/../../etc/passwd",
            "file:///srv/items/%2e%2e/%2e%2e/etc/passwd",
            "/srv/items/../secrets",
            "file://elsewhere/srv/items/demo.jsonl",
            "file:///srv/itemsx/demo.jsonl",
            "demo.jsonl",
        ],
    )
    def test_a_file_anywhere_else_is_refused(self, uri: str) -> None:
        with pytest.raises(UriNotAllowed):
            SOURCES.check(uri)

    def test_without_an_items_directory_no_file_is_accepted(self) -> None:
        with pytest.raises(UriNotAllowed, match="FMC_GATEWAY_ITEMS_DIRECTORY"):
            ItemsSources([BASE], None).check("file:///srv/items/demo.jsonl")


class TestRefusalOnEveryEdge:
    def test_the_refusal_is_a_422_problem_and_an_invalid_argument_status(self) -> None:
        """REST answers 422, a gRPC method INVALID_ARGUMENT, the consumer dead-letters it as handler-rejected
        (a 4xx): one error raised by the runs service, mapped by each edge."""
        refused = UriNotAllowed("elsewhere", uri="http://elsewhere/")
        assert refused.problem()["status"] == 422
        assert refused.problem()["code"] == "uri-not-allowed"
        assert status_for(refused) == grpc.StatusCode.INVALID_ARGUMENT
