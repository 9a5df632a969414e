"""The base API viewset scopes every query to the caller's organisation and cannot be bypassed."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory, force_authenticate

from mlplatform.accounts.models import Team
from mlplatform.accounts.scoped_api import OrgScopedViewSet
from mlplatform.accounts.serializers import TeamSerializer
from tests.factories import make_team


@pytest.mark.parametrize("method", ["get_queryset", "get_object", "initial"])
def test_a_subclass_cannot_override_the_scoping(method):
    with pytest.raises(TypeError, match=method):
        type("Sneaky", (OrgScopedViewSet,), {method: lambda self, *a, **k: None})


class WideningTeams(OrgScopedViewSet):
    queryset = Team.objects.all()
    serializer_class = TeamSerializer

    def scope_queryset(self, queryset):
        return Team.objects.all()  # tries to escape the organisation

    def list(self, request, **kwargs):
        from rest_framework.response import Response

        return Response([t.name for t in self.get_queryset()])


@pytest.mark.django_db
def test_a_widening_scope_is_filtered_back_to_the_organisation(acme, globex, alice):
    make_team(acme, "Ours")
    make_team(globex, "Theirs")
    request = APIRequestFactory().get("/")
    force_authenticate(request, user=alice)
    response = WideningTeams.as_view({"get": "list"})(request, org_id=str(acme.pk))
    assert response.data == ["Ours"]
