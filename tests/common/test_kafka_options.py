"""Kafka client options: Tansu defaults, Apache Kafka with SASL/TLS and idempotence."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr

from fmc_common.messaging.kafka import client_options, make_consumer, make_producer
from fmc_common.settings import KafkaSecurityProtocol, KafkaSettings


class TestClientOptions:
    def test_defaults_suit_the_embedded_broker(self) -> None:
        options = client_options(KafkaSettings(bootstrap_servers="127.0.0.1:9092"), "c")
        assert options["security_protocol"] == "PLAINTEXT"
        assert "sasl_mechanism" not in options
        assert "ssl_context" not in options

    def test_sasl_ssl_carries_credentials_and_a_tls_context(self, tmp_path: Path) -> None:
        settings = KafkaSettings(
            bootstrap_servers="kafka:9093",
            security_protocol=KafkaSecurityProtocol.SASL_SSL,
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username="registry",
            sasl_password=SecretStr("s3cret"),
        )
        options = client_options(settings, "registry")
        assert options["sasl_mechanism"] == "SCRAM-SHA-512"
        assert options["sasl_plain_username"] == "registry"
        assert options["sasl_plain_password"] == "s3cret"
        assert isinstance(options["ssl_context"], ssl.SSLContext)

    @pytest.mark.parametrize("idempotent", [True, False])
    async def test_the_producer_follows_the_idempotence_setting(self, idempotent: bool) -> None:
        producer = make_producer(KafkaSettings(idempotent_producer=idempotent), "p")
        assert producer._txn_manager is not None if idempotent else producer._txn_manager is None
        await producer.stop()


class TestConsumerOptions:
    async def test_the_session_timeout_follows_the_setting_with_heartbeats_at_the_default_ratio(self) -> None:
        default = make_consumer(KafkaSettings(), "g", ["t"], client_id="c")
        short = make_consumer(KafkaSettings(consumer_session_timeout_ms=2_000), "g", ["t"], client_id="c")
        assert (default._session_timeout_ms, default._heartbeat_interval_ms) == (10_000, 3_000)
        assert (short._session_timeout_ms, short._heartbeat_interval_ms) == (2_000, 600)
        await default.stop()
        await short.stop()
