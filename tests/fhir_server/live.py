"""Two real FHIR client libraries against the live `/fhir/` server, behind one small interface.

`Library` is what the round trip (`test_real_clients.py`) asks of a client: the metadata, the
message, a read, a search and its pages, each done the library's own way: the SMART on FHIR
client (`fhirclient`) parses every resource into its R4 models, strictly (an unknown element or a
wrong type raises); `fhirpy` hands back its own resources. Both send their requests through
`requests`, so a `Wire` hooked into them sees every response they receive, validates each body
against the R4B models (`fhir.resources`) as it arrives and keeps the exchange, for a test to
check what went over the wire (the token sent, the pages fetched).
"""

import importlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests
from fhir.resources.R4B import get_fhir_model_class
from fhirclient.client import FHIRClient
from fhirclient.models.bundle import Bundle
from fhirpy import SyncFHIRClient

TIMEOUT = 10
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def r4b_valid(resource: dict) -> dict:
    """The resource, after the R4B models accepted it (they raise on anything invalid)."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def token_uri(statement: dict) -> str:
    """The token endpoint the CapabilityStatement names (SMART's oauth-uris extension)."""
    (security,) = [rest["security"] for rest in statement["rest"]]
    (uris,) = [e for e in security["extension"] if e["url"] == OAUTH_URIS]
    (uri,) = [e["valueUri"] for e in uris["extension"] if e["url"] == "token"]
    return uri


def token_of(uri: str, credentials: Any, scope: str) -> str:
    """An access token from the token endpoint, as the client's integration gets one."""
    response = requests.post(
        uri,
        data={
            "grant_type": "client_credentials",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "scope": scope,
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@dataclass(frozen=True)
class Exchange:
    method: str
    url: str
    status: int
    authorization: str | None
    body: Any


@dataclass
class Wire:
    """Every response a library received: its body checked against R4B on arrival."""

    exchanges: list[Exchange] = field(default_factory=list)

    def record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        body = response.json() if response.content else None
        self.exchanges.append(
            Exchange(
                method=response.request.method or "",
                url=response.request.url or "",
                status=response.status_code,
                authorization=response.request.headers.get("Authorization"),
                body=body,
            )
        )
        assert response.headers["Content-Type"].startswith("application/fhir+json"), (
            response.request.url,
            response.headers["Content-Type"],
        )
        assert isinstance(body, dict), (response.request.url, body)
        assert "resourceType" in body, (response.request.url, body)
        r4b_valid(body)

    def since(self, mark: int) -> list[Exchange]:
        return self.exchanges[mark:]


class Library:
    """What the round trip asks of a client library; every answer is plain FHIR JSON."""

    name: ClassVar[str]

    def __init__(self, base: str, wire: Wire) -> None:
        self.base = base
        self.wire = wire

    def capability_statement(self) -> dict:
        """GET [base]/metadata, before the client has a token."""
        raise NotImplementedError

    def authorise(self, token: str) -> None:
        raise NotImplementedError

    def process_message(self, bundle: dict) -> dict:
        raise NotImplementedError

    def read(self, resource_type: str, resource_id: str) -> dict:
        raise NotImplementedError

    def search(self, resource_type: str, params: dict[str, str]) -> list[dict]:
        """Every match, on every page, by the library's search API."""
        raise NotImplementedError

    def pages(self, resource_type: str, params: dict[str, str], count: int) -> list[list[dict]]:
        """The matches page by page, `count` a page, by the library's own paging."""
        raise NotImplementedError


class SmartClient(Library):
    """The SMART on FHIR Python client (`fhirclient`): R4 models, parsed strictly."""

    name = "fhirclient"

    def __init__(self, base: str, wire: Wire) -> None:
        super().__init__(base, wire)
        self.client = FHIRClient(settings={"app_id": "gp-system", "api_base": base})
        self.server = self.client.server
        self.server.session.hooks["response"].append(wire.record)

    @staticmethod
    def model(resource_type: str) -> Any:
        module = importlib.import_module(f"fhirclient.models.{resource_type.lower()}")
        return getattr(module, resource_type)

    def capability_statement(self) -> dict:
        return self.server.capabilityStatement.as_json()  # parsed into the R4 model

    def authorise(self, token: str) -> None:
        # fhirclient's OAuth does the SMART app launch (or a signed JWT assertion), not a client
        # secret: the integration gets its token itself and the client's session sends it.
        self.server.session.headers["Authorization"] = f"Bearer {token}"

    def process_message(self, bundle: dict) -> dict:
        response = self.server.post_json("$process-message", bundle)
        return Bundle(response.json()).as_json()

    def read(self, resource_type: str, resource_id: str) -> dict:
        return self.model(resource_type).read(resource_id, self.server).as_json()

    def search(self, resource_type: str, params: dict[str, str]) -> list[dict]:
        search = self.model(resource_type).where(struct=params)
        return [resource.as_json() for resource in search.perform_resources_iter(self.server)]

    def pages(self, resource_type: str, params: dict[str, str], count: int) -> list[list[dict]]:
        search = self.model(resource_type).where(struct={**params, "_count": str(count)})
        return [
            [entry.resource.as_json() for entry in bundle.entry or []]
            for bundle in search.perform_iter(self.server)
        ]


class Fhirpy(Library):
    """`fhirpy`'s sync client: its own resources, its raw `execute` for the operation."""

    name = "fhirpy"

    def _client(self, authorization: str | None) -> SyncFHIRClient:
        return SyncFHIRClient(
            self.base,
            authorization=authorization,
            requests_config={"timeout": TIMEOUT, "hooks": {"response": [self.wire.record]}},
        )

    def __init__(self, base: str, wire: Wire) -> None:
        super().__init__(base, wire)
        self.client = self._client(None)

    def capability_statement(self) -> dict:
        return dict(self.client.execute("metadata", method="get"))

    def authorise(self, token: str) -> None:
        self.client = self._client(f"Bearer {token}")

    def process_message(self, bundle: dict) -> dict:
        return dict(self.client.execute("$process-message", method="post", data=bundle))

    def read(self, resource_type: str, resource_id: str) -> dict:
        return self.client.reference(resource_type, resource_id).to_resource().serialize()

    def search(self, resource_type: str, params: dict[str, str]) -> list[dict]:
        found = self.client.resources(resource_type).search(**params).fetch_all()
        return [resource.serialize() for resource in found]

    def pages(self, resource_type: str, params: dict[str, str], count: int) -> list[list[dict]]:
        mark = len(self.wire.exchanges)
        every = self.client.resources(resource_type).search(**params).limit(count).fetch_all()
        bundles = [exchange.body for exchange in self.wire.since(mark)]
        pages = [[entry["resource"] for entry in bundle.get("entry", [])] for bundle in bundles]
        # What fetch_all() gathered is what the pages held, in order.
        assert [r.serialize() for r in every] == [r for page in pages for r in page]
        return pages


LIBRARIES: list[type[Library]] = [SmartClient, Fhirpy]
