"""The form renderer: Django's, with each field's errors under its own input (forms/p.html), for
`{{ form }}` and `{{ form.as_p }}` alike (django-allauth's pages use the latter)."""

from typing import Any

from django.forms.renderers import DjangoTemplates

OURS = {"django/forms/p.html": "forms/p.html"}


class ErrorsUnderTheirField(DjangoTemplates):
    form_template_name = "forms/p.html"

    def get_template(self, template_name: str) -> Any:
        return super().get_template(OURS.get(template_name, template_name))
