"""Forms for the project pages."""

from __future__ import annotations

from typing import Any

from django import forms

from mlplatform.accounts.models import Team


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea({"rows": 3})
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
        self.fields["teams"].queryset = Team.objects.filter(organization=organization)


class SnapshotFilterForm(forms.Form):
    since = forms.DateTimeField(required=False, widget=forms.DateInput({"type": "date"}))
    until = forms.DateTimeField(required=False, widget=forms.DateInput({"type": "date"}))
    tag = forms.CharField(required=False, max_length=100)
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
