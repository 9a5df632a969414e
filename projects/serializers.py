"""API representations of projects, snapshots and metric series."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from mlplatform.accounts.serializers import StrictSerializer
from projects.models import Project, Snapshot
from projects.validation import (
    PROJECT_DESCRIPTION_MAX_LENGTH,
    PROJECT_MAX_TEAMS,
    PROJECT_NAME_MAX_LENGTH,
)


class ProjectSerializer(serializers.ModelSerializer):
    organization = serializers.UUIDField(source="organization_id", read_only=True)
    teams = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "organization", "name", "description", "teams", "created_at", "archived_at"]

    def get_teams(self, project: Project) -> list[str]:
        return [str(team.pk) for team in project.teams.all()]


class ProjectWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=PROJECT_NAME_MAX_LENGTH)
    description = serializers.CharField(
        max_length=PROJECT_DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True
    )
    teams = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=PROJECT_MAX_TEAMS
    )


class SnapshotSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    project = serializers.UUIDField(source="project_id", read_only=True)
    tags = serializers.SerializerMethodField()
    test_counts = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    metrics = serializers.IntegerField(source="metric_count", read_only=True)
    points = serializers.IntegerField(source="point_count", read_only=True)
    processed = serializers.SerializerMethodField()
    # As in the document: no name is null, not "" (see to_representation).
    name = serializers.CharField(read_only=True, allow_null=True)
    batch_id = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The metadata's batch_id: snapshots of one batch are counted once by sums.",
    )

    class Meta:
        model = Snapshot
        fields = [
            "id",
            "project",
            "timestamp",
            "name",
            "tags",
            "metadata",
            "batch_id",
            "status",
            "test_counts",
            "metrics",
            "points",
            "size_bytes",
            "created_at",
            "processed",
        ]

    def to_representation(self, instance: Snapshot) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["name"] = data["name"] or None  # as in the document: no name is null, not ""
        return data

    def get_tags(self, snapshot: Snapshot) -> list[str]:
        if "tags" in self.context:  # known already (ingestion): no query
            return self.context["tags"]
        return sorted(row.tag for row in snapshot.tag_rows.all())

    def get_processed(self, snapshot: Snapshot) -> bool:
        return snapshot.processed_at is not None


@extend_schema_serializer(many=False)  # a page of the list, not a list (the schema would guess)
class SnapshotPageSerializer(serializers.Serializer):
    """A page of the snapshot list (the documentation's shape; the view builds the page)."""

    results = SnapshotSerializer(many=True)
    next = serializers.CharField(
        allow_null=True, help_text="The `cursor` of the next page; null on the last page."
    )


def snapshot_with_document(snapshot: Snapshot, document: dict[str, Any]) -> dict[str, Any]:
    return {**SnapshotSerializer(snapshot).data, "document": document}
