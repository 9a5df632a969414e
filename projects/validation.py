"""The limits of project fields and snapshot filters, stated once, for forms and serializers."""

from __future__ import annotations

from mlplatform.accounts.validation import MAX_TEAM_IDS, column_max_length
from projects.models import Project, SnapshotTag

PROJECT_NAME_MAX_LENGTH = column_max_length(Project, "name")
PROJECT_DESCRIPTION_MAX_LENGTH = column_max_length(Project, "description")
PROJECT_MAX_TEAMS = MAX_TEAM_IDS
TAG_MAX_LENGTH = column_max_length(SnapshotTag, "tag")
