"""Projects: one monitored model or dataset, inside an organisation, optionally restricted to teams."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from mlplatform.accounts.access import Access
from mlplatform.accounts.models import Organization, Role, Team, TokenScope


class ProjectQuerySet(models.QuerySet["Project"]):
    def for_access(self, access: Access) -> ProjectQuerySet:
        """The projects of the access's organisation that its holder may see.

        Owners, admins and org tokens see every project; an ingest token sees its own project; other
        members see the projects restricted to no team and those of the teams they belong to.
        """
        projects = self.filter(organization=access.organization)
        if access.token is not None:
            if access.token.scope == TokenScope.INGEST:
                return projects.filter(pk=access.token.project_id)
            return projects
        assert access.role is not None
        assert access.user is not None
        if access.role.at_least(Role.ADMIN):
            return projects
        visible = Q(teams__isnull=True) | Q(teams__members=access.user)
        return projects.filter(pk__in=projects.filter(visible).values("pk"))


class Project(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    # Empty: every member of the organisation sees the project. Otherwise only these teams' members
    # (and the organisation's owners and admins) do.
    teams = models.ManyToManyField(Team, blank=True, related_name="projects")
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
