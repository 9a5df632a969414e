"""The `mlp` command: run presets over CSV or Parquet files, save or push the snapshot, and list or
create projects on the platform. The reference is docs/cli.md.

    mlp run --preset data_stability_tests --preset data_drift_tests \\
        --current today.parquet --reference training.parquet --output snapshot.json
    mlp run --preset classification --current scored.csv --target churned --prediction predicted \\
        --push --project 5b2f...   # with MLP_URL and MLP_TOKEN in the environment
    mlp push snapshot.json --project 5b2f...
    mlp projects
    mlp create-project "Churn model" --description "nightly scoring"
    mlp import-evidently ./evidently-workspace --project 5b2f...   # Evidently 0.7's local folder

Exit codes: 0 done (tests passed); 1 a test failed or errored (or warned, with --fail-on warning);
2 a usage or data error (the message says what, without a traceback); 3 the platform could not be
reached or refused the request (pushing, listing or creating projects).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from metrics.client.evidently_folder import EvidentlyFolderError, find_snapshots
from metrics.client.remote import RemoteWorkspace
from metrics.core.definition import DEFINITION_FIELDS, DataDefinition, DataDefinitionError
from metrics.core.progress import Progress
from metrics.core.report import Report, Run
from metrics.core.snapshot import Snapshot, SnapshotError, parse_timestamp, with_batch_id
from metrics.presets import PRESETS, PresetOptions
from metrics.suites.base import TestStatus
from metrics.version import __version__
from metrics.workspaces.base import WorkspaceError

EXIT_OK = 0
EXIT_TESTS_FAILED = 1
EXIT_USAGE = 2
EXIT_REMOTE = 3

# Failed tests and metric errors shown in the summary (the snapshot has them all).
MAX_SHOWN = 50


class UsageError(Exception):
    """Bad arguments or unreadable data: exit code 2, with this message."""


class RemoteFailure(Exception):
    """The platform could not be reached or refused: exit code 3, with this message."""


_log_handler: logging.Handler | None = None


# ---- arguments ----------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    # argparse prints usage and exits on its own; raise instead, so main() returns the code.
    def error(self, message: str) -> Any:
        raise UsageError(f"{message}\n{self.format_usage().strip()}")


def _server_options() -> _Parser:
    # A _Parser like the subcommands it is a parent of (typeshed wants the parents of that class).
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("platform")
    group.add_argument("--url", help="the platform's address (default: $MLP_URL)")
    group.add_argument("--token", help="an API token (default: $MLP_TOKEN)")
    return parent


def build_parser() -> argparse.ArgumentParser:
    server = _server_options()
    parser = _Parser(
        prog="mlp",
        description="Data and model checks over CSV or Parquet files, and the platform's projects.",
        epilog="Exit codes: 0 ok, 1 tests failed, 2 usage or data error, 3 platform error. "
        "See docs/cli.md.",
    )
    parser.add_argument("--version", action="version", version=f"mlp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    presets = "\n".join(f"  {name:34} {about}" for name, (about, _) in PRESETS.items())
    run = commands.add_parser(
        "run",
        parents=[server],
        help="run presets over data; print a summary, save or push the snapshot",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run presets over a current (and a reference) dataset.\n\npresets:\n" + presets,
    )
    run.add_argument(
        "--preset",
        action="append",
        required=True,
        metavar="NAME",
        help="a preset to run (repeat for several)",
    )
    run.add_argument("--current", required=True, metavar="FILE", help="the data to check")
    run.add_argument("--reference", metavar="FILE", help="the data to compare with")
    run.add_argument("--definition", metavar="FILE", help="a JSON file with DataDefinition fields")
    roles = run.add_argument_group("column roles (override the definition file)")
    roles.add_argument("--target", metavar="COL")
    roles.add_argument("--prediction", metavar="COL")
    roles.add_argument("--prediction-probas", nargs="+", metavar="COL")
    roles.add_argument("--id-column", metavar="COL")
    roles.add_argument("--timestamp-column", metavar="COL")
    tuning = run.add_argument_group("preset options")
    tuning.add_argument(
        "--drift-share",
        type=float,
        metavar="SHARE",
        help="the share of drifted columns that makes the dataset drift (default 0.5)",
    )
    tuning.add_argument(
        "--pos-label", metavar="LABEL", help="the positive class of a binary classifier"
    )
    labels = run.add_argument_group("snapshot labels")
    labels.add_argument("--name", metavar="N")
    labels.add_argument("--tag", action="append", default=[], metavar="T", help="repeatable")
    labels.add_argument(
        "--meta",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="metadata (repeatable); values are strings",
    )
    labels.add_argument(
        "--batch-id",
        metavar="ID",
        help="the batch of data this run covers: snapshots with one batch id count once",
    )
    labels.add_argument(
        "--timestamp",
        metavar="ISO",
        help="when the data is from, e.g. 2026-11-28T00:00:00Z (default: now)",
    )
    run.add_argument("--output", metavar="FILE", help="write the snapshot to this JSON file")
    run.add_argument("--push", action="store_true", help="push the snapshot to the platform")
    run.add_argument("--project", metavar="ID", help="the project to push to")
    run.add_argument(
        "--fail-on",
        choices=["fail", "warning"],
        default="fail",
        help="exit 1 on FAIL and ERROR (default), or on WARNING too",
    )
    run.add_argument("--quiet", action="store_true", help="print only errors")

    push = commands.add_parser("push", parents=[server], help="push a snapshot file")
    push.add_argument("snapshot", metavar="FILE", help="a snapshot JSON file")
    push.add_argument("--project", required=True, metavar="ID")
    push.add_argument(
        "--batch-id",
        metavar="ID",
        help="name the snapshot's batch: snapshots with one batch id count once",
    )

    commands.add_parser("projects", parents=[server], help="list the organisation's projects")

    imported = commands.add_parser(
        "import-evidently",
        parents=[server],
        help="upload a local Evidently workspace's snapshots to a project",
        description="Upload every snapshot of a local Evidently 0.7 workspace folder (or of one "
        "of its project folders) to a project. Safe to run again: snapshots already there are "
        "not stored twice.",
    )
    imported.add_argument("path", metavar="PATH", help="the Evidently workspace folder")
    imported.add_argument("--project", required=True, metavar="ID", help="the project to fill")
    imported.add_argument("--quiet", action="store_true", help="no progress bar, no summary")

    create = commands.add_parser("create-project", parents=[server], help="create a project")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--description", default="", metavar="D")
    return parser


# ---- data ---------------------------------------------------------------------------------------


def read_frame(path: str, which: str, dates: Sequence[str] = ()) -> Any:
    """A CSV or Parquet file as a DataFrame; UsageError when it cannot be read. CSV has no types:
    the `dates` columns (declared datetime) are parsed as dates, as Parquet would have kept them."""
    import pandas as pd

    file = Path(path)
    name = file.name.lower()
    if not file.is_file():
        raise UsageError(f"The {which} file {path} does not exist.")
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(file)
        if name.endswith((".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz")):
            frame = pd.read_csv(file)
        elif name.endswith((".tsv", ".tsv.gz")):
            frame = pd.read_csv(file, sep="\t")
        else:
            frame = None
    except Exception as exc:  # any reader's failure (pandas, pyarrow, zlib) is a bad file
        raise UsageError(f"Could not read the {which} file {path}: {exc}") from None
    if frame is None:
        raise UsageError(
            f"The {which} file {path} is neither CSV (.csv, .csv.gz, .tsv) nor Parquet (.parquet)."
        )
    for column in dates:
        if column in frame.columns and not pd.api.types.is_datetime64_any_dtype(frame[column]):
            try:
                frame[column] = pd.to_datetime(frame[column], format="ISO8601")
            except (ValueError, TypeError) as exc:
                raise UsageError(
                    f"Column {column!r} of the {which} file {path} is declared datetime but does "
                    f"not hold ISO 8601 dates: {exc}"
                ) from None
    return frame


def load_definition(args: argparse.Namespace) -> DataDefinition:
    values: dict[str, Any] = {}
    if args.definition:
        try:
            document = json.loads(Path(args.definition).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError(f"The definition file {args.definition} does not exist.") from None
        except (OSError, ValueError) as exc:
            raise UsageError(
                f"Could not read the definition file {args.definition}: {exc}"
            ) from None
        if not isinstance(document, dict):
            raise UsageError(f"{args.definition}: a data definition is a JSON object.")
        unknown = sorted(set(document) - set(DEFINITION_FIELDS))
        if unknown:
            raise UsageError(
                f"{args.definition}: unknown field {unknown[0]!r}; the fields are "
                + ", ".join(DEFINITION_FIELDS)
                + "."
            )
        values.update(document)
    for field, flag in (
        ("target", args.target),
        ("prediction", args.prediction),
        ("id_column", args.id_column),
        ("timestamp_column", args.timestamp_column),
    ):
        if flag is not None:
            values[field] = flag
    if args.prediction_probas:
        # One column: the positive class's probability (binary); several: one per class.
        probas = args.prediction_probas
        values["prediction_probas"] = probas[0] if len(probas) == 1 else list(probas)
    try:
        definition = DataDefinition(**values)
        definition.declared_types()  # a column declared with two types fails here, not later
    except (TypeError, DataDefinitionError) as exc:
        raise UsageError(f"Invalid data definition: {exc}") from None
    return definition


def _pos_label(raw: str | None) -> str | int | bool | None:
    """The positive label as the data will hold it: CSV and Parquet labels 0/1 are integers."""
    if raw is None:
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    try:
        return int(raw)
    except ValueError:
        return raw


def _batched(metadata: Mapping[str, Any], batch_id: str) -> dict[str, Any]:
    """The metadata naming its batch; a bad id, or another one already there, is a usage error."""
    try:
        return with_batch_id(metadata, batch_id)
    except SnapshotError as exc:
        raise UsageError(f"--batch-id: {exc}") from None


def _checked_batch_id(metadata: Mapping[str, Any], batch_id: str) -> str:
    _batched(metadata, batch_id)
    return batch_id


def _metadata(pairs: Sequence[str]) -> dict[str, str]:
    metadata = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise UsageError(f"--meta {pair!r}: give KEY=VALUE.")
        metadata[key] = value
    return metadata


def _presets(names: Sequence[str], options: PresetOptions) -> list[Any]:
    chosen = []
    for name in dict.fromkeys(names):  # each once, in the order given
        if name not in PRESETS:
            raise UsageError(f"Unknown preset {name!r}; the presets are: {', '.join(PRESETS)}.")
        chosen.append(PRESETS[name][1](options))
    return chosen


# ---- commands -----------------------------------------------------------------------------------


def _workspace(args: argparse.Namespace) -> RemoteWorkspace:
    try:
        return RemoteWorkspace(args.url, args.token)
    except WorkspaceError as exc:  # no URL or token: the command line is incomplete
        raise UsageError(str(exc)) from None


def command_run(args: argparse.Namespace, out: TextIO) -> int:
    options = PresetOptions(drift_share=args.drift_share, pos_label=_pos_label(args.pos_label))
    if args.drift_share is not None and not 0 < args.drift_share <= 1:
        raise UsageError(f"--drift-share must be in (0, 1], not {args.drift_share}.")
    presets = _presets(args.preset, options)
    definition = load_definition(args)
    metadata = _metadata(args.meta)
    if args.batch_id is not None:
        metadata = _batched(metadata, args.batch_id)
    timestamp = None
    if args.timestamp:
        try:
            timestamp = parse_timestamp(args.timestamp, "--timestamp")
        except SnapshotError as exc:
            raise UsageError(str(exc)) from None
    workspace = None
    if args.push:
        if not args.project:
            raise UsageError("--push needs --project ID (the project to push to).")
        workspace = _workspace(args)  # before the work: a missing token fails fast
    elif args.project:
        raise UsageError("--project is for --push; add --push to send the snapshot.")
    dates = list(definition.datetime_columns or [])
    current = read_frame(args.current, "current", dates)
    reference = read_frame(args.reference, "reference", dates) if args.reference else None
    try:
        run = Report(presets, definition=definition, progress=False if args.quiet else None).run(
            current,
            reference,
            name=args.name,
            tags=args.tag,
            metadata=metadata,
            timestamp=timestamp,
        )
    except (DataDefinitionError, ValueError) as exc:
        # The data does not fit its definition, or a label is invalid (tags, metadata).
        raise UsageError(str(exc)) from None
    failing = {TestStatus.FAIL, TestStatus.ERROR}
    if args.fail_on == "warning":
        failing.add(TestStatus.WARNING)
    if not args.quiet:
        print_summary(run, failing, out)
    if args.output:
        try:
            path = run.save(args.output)
        except OSError as exc:
            raise UsageError(f"Could not write {args.output}: {exc}") from None
        if not args.quiet:
            print(f"Snapshot written to {path}", file=out)
    if workspace is not None:
        try:
            snapshot_id = workspace.add_snapshot(args.project, run)
        except WorkspaceError as exc:
            raise RemoteFailure(f"Pushing the snapshot failed: {exc}") from None
        if not args.quiet:
            print(f"Snapshot {snapshot_id} pushed to project {args.project}", file=out)
    return EXIT_TESTS_FAILED if any(t.status in failing for t in run.tests) else EXIT_OK


def print_summary(run: Run, failing: set[TestStatus], out: TextIO) -> None:
    by_status: dict[str, int] = {}
    for result in run.results:
        by_status[result.status] = by_status.get(result.status, 0) + 1
    extra = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()) if s != "ok")
    print(f"{len(run.results)} metrics" + (f" ({extra})" if extra else ""), file=out)
    errors = [r for r in run.results if r.status == "error"]
    for result in errors[:MAX_SHOWN]:
        print(f"  metric error: {result.metric_id}: {result.reason}", file=out)
    if run.tests:
        counts = ", ".join(f"{n} {s}" for s, n in run.test_counts.items() if n)
        print(f"{len(run.tests)} tests: {counts}", file=out)
    shown = [t for t in run.tests if t.status in failing]
    for test in shown[:MAX_SHOWN]:
        print(f"  {test.status}: {test.description}", file=out)
    if len(shown) > MAX_SHOWN or len(errors) > MAX_SHOWN:
        print("  … and more: see the snapshot.", file=out)


def command_push(args: argparse.Namespace, out: TextIO) -> int:
    try:
        snapshot = Snapshot.load(args.snapshot)
    except FileNotFoundError:
        raise UsageError(f"The snapshot file {args.snapshot} does not exist.") from None
    except (OSError, SnapshotError) as exc:
        raise UsageError(f"{args.snapshot} is not a snapshot: {exc}") from None
    if args.batch_id is not None:
        snapshot = snapshot.with_batch_id(_checked_batch_id(snapshot.metadata, args.batch_id))
    workspace = _workspace(args)
    try:
        snapshot_id = workspace.add_snapshot(args.project, snapshot)
    except WorkspaceError as exc:
        raise RemoteFailure(f"Pushing the snapshot failed: {exc}") from None
    print(f"Snapshot {snapshot_id} pushed to project {args.project}", file=out)
    return EXIT_OK


def command_projects(args: argparse.Namespace, out: TextIO) -> int:
    workspace = _workspace(args)
    try:
        projects = workspace.list_projects()
    except WorkspaceError as exc:
        raise RemoteFailure(f"Listing the projects failed: {exc}") from None
    for project in projects:
        print(f"{project.id}\t{project.name}", file=out)
    return EXIT_OK


def command_create_project(args: argparse.Namespace, out: TextIO) -> int:
    workspace = _workspace(args)
    try:
        project = workspace.create_project(args.name, args.description)
    except WorkspaceError as exc:
        raise RemoteFailure(f"Creating the project failed: {exc}") from None
    print(f"{project.id}\t{project.name}", file=out)
    return EXIT_OK


def command_import_evidently(args: argparse.Namespace, out: TextIO) -> int:
    try:
        files = find_snapshots(args.path)
    except EvidentlyFolderError as exc:
        raise UsageError(str(exc)) from None
    workspace = _workspace(args)
    new = 0
    with Progress(len(files), "Importing", enabled=not args.quiet) as bar:
        for file in files:
            try:
                _, created = workspace.add_evidently_snapshot(args.project, file.path.read_bytes())
            except OSError as exc:
                raise UsageError(f"{file.path} cannot be read: {exc}") from None
            except WorkspaceError as exc:
                raise RemoteFailure(
                    f"Uploading {file.path} failed ({new} new before it): {exc}"
                ) from None
            new += created
            bar.advance(note=file.snapshot_id[:8])
    if not args.quiet:
        print(
            f"{len(files)} snapshots: {new} new, {len(files) - new} already in project "
            f"{args.project}",
            file=out,
        )
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {
    "run": command_run,
    "push": command_push,
    "projects": command_projects,
    "create-project": command_create_project,
    "import-evidently": command_import_evidently,
}


def _show_retries(quiet: bool) -> None:
    """Retries of the HTTP client on stderr (a long wait should not look like a hang)."""
    global _log_handler
    remote_logger = logging.getLogger("metrics.client.remote")
    if _log_handler is None:
        _log_handler = logging.StreamHandler()  # stderr, resolved when it writes
        _log_handler.setFormatter(logging.Formatter("mlp: %(message)s"))
        remote_logger.addHandler(_log_handler)
    _log_handler.setLevel(logging.ERROR if quiet else logging.WARNING)
    if remote_logger.level == logging.NOTSET:
        remote_logger.setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    out = sys.stdout
    try:
        args = build_parser().parse_args(argv)
        _show_retries(getattr(args, "quiet", False))
        return COMMANDS[args.command](args, out)
    except UsageError as exc:
        print(f"mlp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RemoteFailure as exc:
        print(f"mlp: {exc}", file=sys.stderr)
        return EXIT_REMOTE
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except KeyboardInterrupt:
        print("mlp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
