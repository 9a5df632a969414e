"""Project workflows that touch many rows."""

from projects.models import MetricPoint, Project


def delete_project(project: Project) -> None:
    """Delete a project with everything in it. Its points go first, in one statement: the ORM's
    cascade would otherwise collect them snapshot by snapshot."""
    MetricPoint.objects.filter(series__project=project).delete()
    project.delete()
