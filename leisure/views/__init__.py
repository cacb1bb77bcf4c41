"""The leisure side's pages: triage, classes and places, registers, caseload."""
