"""Forms for the account and organisation pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.http import HttpRequest
from django.utils import timezone

from mlplatform.accounts.models import Role, Team, TokenScope, User
from mlplatform.accounts.validation import (
    ORGANIZATION_NAME_MAX_LENGTH,
    ORGANIZATION_SLUG_MAX_LENGTH,
    TEAM_NAME_MAX_LENGTH,
    TOKEN_NAME_MAX_LENGTH,
    USER_NAME_MAX_LENGTH,
)


class SignupExtraForm(forms.Form):
    """What sign-up asks besides email and password (django-allauth calls `signup`)."""

    name = forms.CharField(
        max_length=USER_NAME_MAX_LENGTH,
        required=False,
        label="Your name",
        widget=forms.TextInput({"autofocus": True}),
    )

    def signup(self, request: HttpRequest, user: User) -> None:
        user.name = self.cleaned_data["name"].strip()
        user.save(update_fields=["name"])


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=USER_NAME_MAX_LENGTH, required=False, label="Your name")


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=ORGANIZATION_NAME_MAX_LENGTH, label="Organisation name")


class OrganizationSettingsForm(forms.Form):
    name = forms.CharField(max_length=ORGANIZATION_NAME_MAX_LENGTH, label="Name")
    slug = forms.SlugField(
        max_length=ORGANIZATION_SLUG_MAX_LENGTH,
        label="Address",
        help_text="Used in links: /o/<address>/. Changing it breaks old links.",
    )


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, organization: Any, can_invite_owners: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        teams = Team.objects.filter(organization=organization)
        if teams.exists():
            cast(forms.ModelMultipleChoiceField, self.fields["teams"]).queryset = teams
        else:
            del self.fields["teams"]
        if not can_invite_owners:
            cast(forms.ChoiceField, self.fields["role"]).choices = [
                c for c in Role.choices if c[0] != Role.OWNER
            ]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TeamForm(forms.Form):
    name = forms.CharField(max_length=TEAM_NAME_MAX_LENGTH, label="Team name")


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Member")

    def __init__(self, *args: Any, organization: Any, team: Team, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = User.objects.filter(
            memberships__organization=organization
        ).exclude(teams=team)


EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("never", "Never")]


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=TOKEN_NAME_MAX_LENGTH,
        help_text="Where it will be used, e.g. 'nightly batch job'.",
    )
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.INGEST)
    project: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="—"
    )
    expires = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90", label="Expires after")

    def __init__(self, *args: Any, projects: Any, scopes: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["project"]).queryset = projects
        cast(forms.ChoiceField, self.fields["scope"]).choices = [
            c for c in TokenScope.choices if c[0] in scopes
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        if data.get("scope") == TokenScope.INGEST and not data.get("project"):
            self.add_error("project", "An ingest token is bound to one project: pick it.")
        if data.get("scope") in (TokenScope.READ, TokenScope.WRITE):
            data["project"] = None
        return data

    def expires_at(self) -> Any:
        days = self.cleaned_data["expires"]
        return None if days == "never" else timezone.now() + timedelta(days=int(days))
