"""A request budget per API client (not per address: many clients share a gateway), kept in Redis
so every web process counts against the same budget. Over it, a 429 problem with `Retry-After`.

If Redis cannot be reached the request is let through: the budget protects the service from a
runaway integration, and an outage of the counter must not become an outage of the API.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class ClientRateThrottle(SimpleRateThrottle):
    scope = "client"

    def __init__(self) -> None:
        self.cache = caches["api"]
        self.rate = settings.PORTAL_API_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        token = request.auth
        if token is None or not getattr(token, "application_id", None):
            return None  # refused by authentication anyway
        # The client id, not the row's key: unique across databases sharing one Redis.
        return f"api-throttle:{token.application.client_id}"

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as error:  # the counter is down: serve, and say so in the log
            logger.warning("API throttle skipped: %s: %s", type(error).__name__, error)
            return True
