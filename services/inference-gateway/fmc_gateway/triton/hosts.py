"""Which Triton servers the gateway connects to: the ones the platform runs, named in its settings.

A caller names an endpoint's address (a run over REST or ``InferenceRunRequested``, a submission's
``SubmissionRegistered``, ``/v1/endpoints/check|load|unload``, an arena battle). Without this rule
the gateway would open a connection to any host and port on the caller's word (SSRF). So an address
is accepted only when the ``host:port`` the gateway would connect to (``EndpointAddress.host_port``:
the URL without its scheme) is exactly one of ``FMC_GATEWAY_TRITON_ALLOWED_HOSTS`` or
``FMC_GATEWAY_TRITON_URL`` (host compared without case, port as a number written without leading
zeros). Nothing else, not even another port of an allowed host. ``check`` is called at every entry
point, before anything is recorded or any connection is opened.
"""

from __future__ import annotations

from collections.abc import Iterable

from fmc_common.errors import InvalidInput

# Characters a host name or address literal never holds: they would let a client read the address
# differently from this check (a path, a user, a query, whitespace).
_FORBIDDEN = frozenset("/@?#\\%")


class TritonHostNotAllowed(InvalidInput):
    # The same code as an items reference outside the configured sources: one rule, one code.
    code = "uri-not-allowed"
    title = "The endpoint names a Triton server this gateway does not connect to"


def host_port_of(url: str) -> str:
    """The address the gateway connects to for an endpoint URL (``host:port`` or ``scheme://host:port``)."""
    return url.split("://", 1)[-1].rstrip("/")


def _parse(host_port: str) -> tuple[str, int] | None:
    """``(host, port)`` of a canonical ``host:port`` (``[v6]:port`` for IPv6), or None."""
    host, sep, port = host_port.rpartition(":")
    if (
        not sep
        or not host
        or not port.isascii()
        or not port.isdigit()
        or port != str(int(port))
        or not 0 < int(port) < 65536
        or any(c in _FORBIDDEN or c.isspace() or not c.isprintable() for c in host)
        or (":" in host and not (host.startswith("[") and host.endswith("]")))
    ):
        return None
    return host.lower(), int(port)


class TritonHosts:
    """The configured Triton servers; ``check`` refuses any other address."""

    def __init__(self, allowed: Iterable[str]) -> None:
        hosts: set[tuple[str, int]] = set()
        for entry in allowed:
            parsed = _parse(host_port_of(entry))
            if parsed is None:
                raise ValueError(
                    f"FMC_GATEWAY_TRITON_ALLOWED_HOSTS / FMC_GATEWAY_TRITON_URL: {entry!r} is not [scheme://]host:port"
                )
            hosts.add(parsed)
        self._hosts = frozenset(hosts)

    def allows(self, host_port: str) -> bool:
        parsed = _parse(host_port)
        return parsed is not None and parsed in self._hosts

    def check(self, url: str) -> None:
        """Refuse an endpoint URL (``host:port`` or ``scheme://host:port``) outside the configured servers."""
        if not self.allows(host_port_of(url)):
            raise TritonHostNotAllowed(
                "the endpoint is none of the gateway's Triton servers "
                "(FMC_GATEWAY_TRITON_ALLOWED_HOSTS, FMC_GATEWAY_TRITON_URL)",
                uri=url,
            )
