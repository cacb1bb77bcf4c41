"""No django-oauth-toolkit pages in the platform admin: an API client's application and tokens
are made, rotated and revoked only through `accounts.api_clients` (the organisation's admin in
/manage/, or `create_api_client`), which keeps the client, its system user and its application
in step. Hand-edited tokens or applications could not be."""

from django.contrib import admin
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

for model in (
    get_application_model(),
    get_access_token_model(),
    get_refresh_token_model(),
    get_grant_model(),
    get_id_token_model(),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
