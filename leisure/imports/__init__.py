"""Attendance imports from leisure management systems (issue 14): the services behind the
upload, the preview, the Celery run and the coordinator's queue of unmatched rows, a module for
each job:

- `reading` turns an exported file into clean rows (format, encoding, messes, each row's
  problems); it is plain Python, so it imports no app and no model;
- `mappings`: a source's saved `ImportMapping` (which columns hold what), saved and read;
- `uploads`: an uploaded file kept as an `AttendanceImport` (queued at once, or a draft to map,
  preview and start), reading the stored file, and queueing the run on commit;
- `matching`: a row to the operator's referrals, and whether one was open at the visit's time;
- `run`: the run (`import_run`, a chunk per transaction) and how each row ends;
- `unmatched`: the coordinator's queue of rows nobody matched, resolved by choosing a referral;
- `clearing`: the retention step that empties old files and forgets their rows' values;
- `access`: who may import (the operator's coordinators), checked by the services above.
"""
