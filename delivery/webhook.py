"""POST a signed FHIR message to an organisation's webhook, per the Standard Webhooks scheme.

Signing uses the `standardwebhooks` library: `webhook-id` is the notification's public id (the
same on every retry, so the receiver can drop duplicates), `webhook-timestamp` the send time in
Unix seconds, `webhook-signature` `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the
organisation's `whsec_` secret.

The address is checked on every send, not only when an admin saves it: https only (plain http
when `PORTAL_WEBHOOK_ALLOW_HTTP`, which defaults to DEBUG), no credentials in the URL, and every
address the host name resolves to must be on the public internet unless
`PORTAL_WEBHOOK_ALLOW_PRIVATE` (tests, a receiver on the same machine). The connection goes to
the address that was checked, so a DNS answer that changes between check and connect cannot
point the request at an internal service. Redirects are not followed.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from standardwebhooks import Webhook


class DeliveryFailed(Exception):
    """A send failed. `message` is safe to store and show: no secrets, no patient data.

    `permanent` failures (an address the policy refuses) go straight to dead: retrying cannot
    help until someone changes the configuration and retries by hand.
    """

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


USER_AGENT = "ReferralPortal-Webhooks/1.0"
MAX_RESPONSE_BYTES = 64 * 1024


def signed_headers(*, secret: str, msg_id: str, body: str, now: float | None = None) -> dict:
    """The three Standard Webhooks headers for `body`, signed now."""
    timestamp = datetime.fromtimestamp(int(now if now is not None else time.time()), UTC)
    try:
        signer = Webhook(secret)
    except Exception as error:  # not base64, or empty: the library raises several kinds
        raise DeliveryFailed("The webhook signing secret is not valid", permanent=True) from error
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signer.sign(msg_id=msg_id, timestamp=timestamp, data=body),
    }


def _checked_address(host: str, port: int) -> tuple:
    """Resolve `host` and return the socket address to connect to, if policy allows all of them."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise DeliveryFailed("Could not resolve the webhook host name") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global and not settings.PORTAL_WEBHOOK_ALLOW_PRIVATE:
            raise DeliveryFailed(
                "The webhook address is private, loopback or reserved, which is not allowed",
                permanent=True,
            )
    return infos[0][4]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a checked address while naming the host in the request."""

    def __init__(self, host, port, *, sockaddr, timeout):
        super().__init__(host, port, timeout=timeout)
        self._sockaddr = sockaddr

    def connect(self):
        self.sock = socket.create_connection(self._sockaddr[:2], self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS verified against the host name, not the address."""

    def __init__(self, host, port, *, sockaddr, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._sockaddr = sockaddr

    def connect(self):
        sock = socket.create_connection(self._sockaddr[:2], self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def check_webhook_url(url: str):
    """The parsed URL if the policy allows sending to it; DeliveryFailed(permanent) if not."""
    parts = urlsplit(url)
    allowed_schemes = {"https", "http"} if settings.PORTAL_WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed_schemes:
        raise DeliveryFailed("The webhook address must start with https://", permanent=True)
    if parts.username or parts.password:
        raise DeliveryFailed(
            "The webhook address must not contain a user name or password", permanent=True
        )
    if not parts.hostname:
        raise DeliveryFailed("The webhook address has no host", permanent=True)
    return parts


def webhook_post(*, url: str, secret: str, msg_id: str, body: str) -> int:
    """Send once; return the HTTP status on 2xx, raise DeliveryFailed otherwise."""
    parts = check_webhook_url(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    sockaddr = _checked_address(parts.hostname, port)
    timeout = settings.PORTAL_WEBHOOK_TIMEOUT_SECONDS
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, sockaddr=sockaddr, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Content-Type": "application/fhir+json; charset=utf-8",
        "User-Agent": USER_AGENT,
        **signed_headers(secret=secret, msg_id=msg_id, body=body),
    }
    try:
        connection.request("POST", path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
    except TimeoutError as error:
        raise DeliveryFailed(f"No response within {timeout:g} s") from error
    except ssl.SSLError as error:
        raise DeliveryFailed(f"TLS failed ({error.reason or type(error).__name__})") from error
    except OSError as error:
        raise DeliveryFailed(
            f"Could not connect ({error.strerror or type(error).__name__})"
        ) from error
    except http.client.HTTPException as error:
        raise DeliveryFailed(f"Invalid HTTP response ({type(error).__name__})") from error
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        raise DeliveryFailed(f"HTTP {response.status} {response.reason}"[:200])
    return response.status
