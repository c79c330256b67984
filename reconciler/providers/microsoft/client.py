"""An HTTP client for Microsoft Graph built by msgraph-sdk's own GraphClientFactory,
authenticated by azure-identity. Its retry middleware does not act on the plain requests
GraphHttp sends (measured: a 503 reaches GraphHttp), so GraphHttp retries 429/503/504 itself.

Ways in: `RECONCILER_GRAPH_ENDPOINT` (loopback only, no credentials: the emulator);
a client secret (`AZURE_CLIENT_SECRET`) or certificate (`AZURE_CLIENT_CERTIFICATE_PATH`)
for local use; keyless federated credentials from GitHub Actions OIDC
(`ClientAssertionCredential` fed by the runner's ID token, audience
`api://AzureADTokenExchange`, or `api://AzureADTokenExchangeChina` in 21Vianet's cloud).

Tenants of Microsoft 365 operated by 21Vianet (`cloud: china`) are a separate cloud: Graph at
https://microsoftgraph.chinacloudapi.cn, sign-in at login.chinacloudapi.cn; a token of one
cloud is worthless in the other.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.errors import ProviderError
from reconciler.i18n import T_, _, said
from reconciler.providers.emulator import loopback_endpoint as emulator_endpoint

ENDPOINT_ENV = "RECONCILER_GRAPH_ENDPOINT"
TIMEOUT = 60.0  # seconds; a request that times out is retried (graph.py), a create only after a look


@dataclass(frozen=True)
class Cloud:
    graph: str  # Graph's service root
    authority: str  # Entra ID's sign-in host (azure-identity's `authority`)
    token_exchange_audience: str  # what a federated credential's external token is issued for

    @property
    def scope(self) -> str:
        return f"{self.graph}/.default"


# Microsoft Graph national cloud deployments: the service root and Entra ID endpoint per cloud.
CLOUDS: dict[str, Cloud] = {
    "global": Cloud("https://graph.microsoft.com", "login.microsoftonline.com", "api://AzureADTokenExchange"),
    "china": Cloud("https://microsoftgraph.chinacloudapi.cn", "login.chinacloudapi.cn",
                   "api://AzureADTokenExchangeChina"),
}
GRAPH_SCOPE = CLOUDS["global"].scope
CloudName = Literal["global", "china"]


def loopback_endpoint() -> str | None:
    url = emulator_endpoint(ENDPOINT_ENV)
    return None if url is None else url.rstrip("/")


def _github_oidc_token(audience: str) -> str:
    """The runner's OIDC token for Entra ID's token exchange (needs `id-token: write`)."""
    import httpx

    url, bearer = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL"), os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not bearer:
        raise said(ProviderError(), T_("no GitHub OIDC token: the job needs {setting}",
                                       setting="`permissions: id-token: write`"))
    answer = httpx.get(url, params={"audience": audience}, headers={"Authorization": f"Bearer {bearer}"}, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["value"])


def credential(tenant: str, client_id: str, cloud: CloudName = "global") -> Any:
    try:
        from azure.identity import CertificateCredential, ClientAssertionCredential, ClientSecretCredential
    except ImportError:
        raise ProviderError(_("the Microsoft provider needs {package}: {command}").format(
            package="azure-identity", command="pip install azure-identity")) from None
    where = CLOUDS[cloud]
    if secret := os.environ.get("AZURE_CLIENT_SECRET"):
        return ClientSecretCredential(tenant, client_id, secret, authority=where.authority)
    if certificate := os.environ.get("AZURE_CLIENT_CERTIFICATE_PATH"):
        return CertificateCredential(tenant, client_id, certificate_path=certificate, authority=where.authority)
    if os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL"):
        return ClientAssertionCredential(tenant, client_id, lambda: _github_oidc_token(where.token_exchange_audience),
                                         authority=where.authority)
    # Said in the reader's language, English where JSON carries it (a DNS report's note).
    raise said(ProviderError(), T_(
        "no Microsoft credentials: set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, "
        "or run in GitHub Actions with {setting} and a federated credential", setting="id-token: write"))


def _bearer_auth(httpx: Any, cred: Any, scope: str) -> Any:
    """httpx auth asking azure-identity for a (cached, refreshed) Graph token per request."""

    class BearerAuth(httpx.Auth):
        def auth_flow(self, request: Any) -> Generator[Any, Any, None]:
            request.headers["Authorization"] = f"Bearer {cred.get_token(scope).token}"
            yield request

    return BearerAuth()


def graph_root(cloud: CloudName = "global") -> str:
    """Where requests go: the emulator on loopback when configured, else the cloud's Graph."""
    endpoint = loopback_endpoint()
    return f"{endpoint or CLOUDS[cloud].graph}/v1.0"


def build_http(tenant: str, client_id: str, cloud: CloudName = "global", *,
               timeout: float = TIMEOUT) -> tuple[Any, str, Any]:
    """An httpx.AsyncClient with Graph's middleware, the base URL requests are relative to, and
    the transport to close afterwards (the middleware's wrapper cannot close it itself);
    `timeout`: seconds to wait to connect, for an answer, or between two reads of one."""
    try:
        import httpx
        from msgraph_core import GraphClientFactory
    except ImportError:
        raise ProviderError(_("the Microsoft provider needs {package}: {command}").format(
            package="msgraph-sdk", command="pip install msgraph-sdk")) from None
    base = graph_root(cloud)
    auth = None if loopback_endpoint() else _bearer_auth(httpx, credential(tenant, client_id, cloud),
                                                         CLOUDS[cloud].scope)
    transport = httpx.AsyncHTTPTransport()
    client = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(base_url=base, auth=auth, timeout=timeout, transport=transport))
    return client, base, transport
