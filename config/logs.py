"""Log records as one JSON object a line (for a log collector), each with the request id.

`RequestIdFilter` puts the id of the request being served (`audit.middleware`, also sent back as
`X-Request-ID` and stored with every change) on every record, so one request's lines can be found
together; "-" outside a request. `JsonFormatter` writes time, level, logger, message, request id
and any exception. `LOG_FORMAT=json` (the default in production) or `plain`.

Patient data never reaches logs: the portal logs opaque references only.
"""

import json
import logging
from datetime import UTC, datetime

from audit.middleware import current_request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx/5xx response after the middleware has returned, with the request.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", current_request_id.get()),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
