"""Every resource leaves validated: built as a dict, checked against the R4B models (which match
R4 for the resources served), and returned as the models serialise it (FHIR's element order)."""

import json
from typing import Any, cast

from fhir.resources.R4B import get_fhir_model_class


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    model = get_fhir_model_class(resource["resourceType"])
    return cast(dict[str, Any], json.loads(model.model_validate(resource).model_dump_json()))
