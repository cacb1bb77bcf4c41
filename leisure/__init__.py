"""The leisure side: the coordinator's triage and class places, the instructor's registers
and caseload."""
