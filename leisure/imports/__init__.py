"""Attendance imports from leisure management systems (issue 14): `reading` turns an exported
file into clean rows; it is plain Python, so it imports no app and no model."""
