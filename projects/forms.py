"""Forms for the project pages."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from mlplatform.accounts.models import Team
from mlplatform.instants import InstantField
from projects.validation import (
    PROJECT_DESCRIPTION_MAX_LENGTH,
    PROJECT_NAME_MAX_LENGTH,
    TAG_MAX_LENGTH,
)


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=PROJECT_NAME_MAX_LENGTH)
    description = forms.CharField(
        max_length=PROJECT_DESCRIPTION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea({"rows": 3}),
    )


class ProjectTeamsForm(forms.Form):
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for a project everyone in the organisation sees.",
    )

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["teams"]).queryset = Team.objects.filter(
            organization=organization
        )


class SnapshotFilterForm(forms.Form):
    since = InstantField(required=False, widget=forms.DateInput({"type": "date"}))
    until = InstantField(required=False, widget=forms.DateInput({"type": "date"}))
    tag = forms.CharField(required=False, max_length=TAG_MAX_LENGTH)
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any status"),
            ("FAIL", "Failed"),
            ("ERROR", "Error"),
            ("WARNING", "Warning"),
            ("SUCCESS", "Passed"),
            ("NO_TESTS", "No tests"),
        ],
    )
