"""How the OpenAPI schema describes our authentication (drf-spectacular extension)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "mlplatform.accounts.authentication.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (mlp_ing_… for ingestion, mlp_org_… for the organisation), "
            "sent as `Authorization: Bearer <token>`. Never in the URL.",
        }
