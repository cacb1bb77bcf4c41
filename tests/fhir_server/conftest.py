"""FHIR clients: the API's clients and real tokens (`tests/api/conftest.py`), FHIR JSON in and
out, and a GP system's referral message to send."""

import pytest

from tests.api.conftest import api_as, client_of, token_for  # noqa: F401  (fixtures)

from .messages import referral_message


@pytest.fixture
def gp(people, client_of, api_as):  # noqa: F811
    return api_as(client_of(people.practice_a, name="GP system"))


@pytest.fixture
def leisure(people, client_of, api_as):  # noqa: F811
    return api_as(client_of(people.operator_x, name="Leisure system"))


@pytest.fixture
def message(people):
    return referral_message(people)
