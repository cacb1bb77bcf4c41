"""`manage.py bench` (`make bench`): the issue 15 benchmark, rerunnable by anyone.

At a scale tier (`demo/scale.py`, loaded once and reused), it times every list page, the
referral page, each programme report scope and the report CSV in-process (`pages.py`, against
a hand-written SQL baseline from `baselines.py`), create-and-submit throughput from one and four
processes (`writes.py`), the drain of pending status updates by one Celery worker
(`outbox.py`), and the list pages over HTTP through gunicorn with four clients
(`over_http.py`). `world.py` finds the heaviest realistic people in the data and keeps the
bench's own rows apart; `results.py` prints the table and writes the JSON.
"""
