"""A loopback emulator of Microsoft Graph v1.0 for what a directory provider uses.

    from tests.emulators.graph import GraphEmulator

    with GraphEmulator(skus={"O365_BUSINESS_PREMIUM": 25}, resource_units_per_10s=3500) as emulator:
        http = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(base_url=emulator.url + "/v1.0"))
        adapter = GraphRequestAdapter(AnonymousAuthenticationProvider(), client=http)
        adapter.base_url = emulator.url + "/v1.0"
        client = GraphServiceClient(request_adapter=adapter)

Run standalone with ``python -m tests.emulators.graph --port 8086``.
"""

from .errors import GraphError
from .server import GraphEmulator

__all__ = ["GraphEmulator", "GraphError"]
