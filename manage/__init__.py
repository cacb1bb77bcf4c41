"""The organisation admin's pages (/manage/) and the audit search (/audit/)."""
