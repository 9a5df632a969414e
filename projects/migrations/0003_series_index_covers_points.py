"""The points index carries value and snapshot (index-only series reads); autovacuum keeps the
points table's visibility map current so those reads stay index-only."""

from django.db import migrations, models


def tune_autovacuum(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE projects_metricpoint SET (autovacuum_vacuum_insert_scale_factor = 0.01)"
        )


def reset_autovacuum(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE projects_metricpoint RESET (autovacuum_vacuum_insert_scale_factor)"
        )


class Migration(migrations.Migration):
    dependencies = [("projects", "0002_snapshots_and_points")]

    operations = [
        migrations.RemoveIndex(model_name="metricpoint", name="point_series_time"),
        migrations.AddIndex(
            model_name="metricpoint",
            index=models.Index(
                fields=["series", "timestamp"],
                include=("value", "snapshot"),
                name="point_series_time_cover",
            ),
        ),
        migrations.RunPython(tune_autovacuum, reset_autovacuum),
    ]
