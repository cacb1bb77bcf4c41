"""OperationOutcome: how every refusal and error under `/fhir/` is told.

Each issue names what is wrong (`diagnostics`, written for the person fixing the sending system)
and, where the fault is in the request, the element it is in (`expression`, FHIRPath), so a GP
system can put the message beside the field it came from.
"""

from dataclasses import dataclass, field

# FHIR's issue-type codes (http://hl7.org/fhir/issue-type) used here.
INVALID = "invalid"
STRUCTURE = "structure"
REQUIRED = "required"
VALUE = "value"
BUSINESS_RULE = "business-rule"
DUPLICATE = "duplicate"
NOT_FOUND = "not-found"
NOT_SUPPORTED = "not-supported"
SECURITY = "security"
FORBIDDEN = "forbidden"
LOGIN = "login"
THROTTLED = "throttled"
CONFLICT = "conflict"
EXCEPTION = "exception"
INFORMATIONAL = "informational"


@dataclass(frozen=True)
class Issue:
    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()
    severity: str = "error"

    def as_fhir(self) -> dict:
        issue: dict = {"severity": self.severity, "code": self.code}
        if self.diagnostics:
            issue["diagnostics"] = self.diagnostics
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


@dataclass
class FhirError(Exception):
    """A refusal to answer with an OperationOutcome and `status` (views raise it; the exception
    handler renders it)."""

    status: int
    issues: list[Issue] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__("; ".join(issue.diagnostics for issue in self.issues))


def operation_outcome(issues: list[Issue]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [issue.as_fhir() for issue in issues]}


def refused(status: int, code: str, diagnostics: str, *expression: str) -> FhirError:
    return FhirError(status, [Issue(code, diagnostics, tuple(expression))])
