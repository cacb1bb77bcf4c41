"""The resources `/fhir/` serves, one module per part of the record, each a plain dict builder.

Every builder returns JSON-ready data for one resource with a stable logical id: a referral's
ServiceRequest and Task are its reference, a Patient its record's public id, an outcome
Observation its assessment's public id and the output. `fhir_server.views` validates each with the
R4B models before it is served."""
