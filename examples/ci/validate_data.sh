#!/usr/bin/env bash
# A CI step that validates a batch of data before it is used (training, scoring, a release): runs
# the stability and drift test suites against a reference, pushes the snapshot to the platform so
# the result is on the project's dashboard, and fails the pipeline when a test fails.
#
# Usage: examples/ci/validate_data.sh CURRENT REFERENCE [more `mlp run` options...]
#   e.g. examples/ci/validate_data.sh data/new.parquet data/train.parquet --id-column customer_id
#
# Environment:
#   MLP_URL, MLP_TOKEN   the platform and a token (an ingest token for the project is enough)
#   MLP_PROJECT          the project's id
#   MLP                  the mlp command (default: mlp, from `pip install` of the package)
#   SNAPSHOT_PATH        where to keep the snapshot for the CI artifacts (default: snapshot.json)
#   MLP_FAIL_ON          "fail" (default: FAIL and ERROR fail the step) or "warning" (warnings too)
#
# Exit codes are mlp's: 0 passed, 1 tests failed, 2 bad input, 3 the platform refused or could not
# be reached. Every non-zero code fails the step; the message says which.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 CURRENT REFERENCE [mlp run options...]" >&2
    exit 2
fi
current=$1
reference=$2
shift 2
: "${MLP_PROJECT:?set MLP_PROJECT to the id of the project to push to}"
mlp=${MLP:-mlp}
commit=${GITHUB_SHA:-${CI_COMMIT_SHA:-unknown}}

status=0
"$mlp" run \
    --preset data_stability_tests \
    --preset data_drift_tests \
    --current "$current" \
    --reference "$reference" \
    --name "CI data validation" \
    --tag ci \
    --meta "commit=$commit" \
    --meta "current=$(basename "$current")" \
    --fail-on "${MLP_FAIL_ON:-fail}" \
    --output "${SNAPSHOT_PATH:-snapshot.json}" \
    --push --project "$MLP_PROJECT" \
    "$@" || status=$?

# "::error::" lines are annotations on GitHub Actions, and plain lines elsewhere.
case $status in
    0) echo "Data validation passed." ;;
    1) echo "::error::Data validation failed: the failed tests are listed above." ;;
    2) echo "::error::Data validation could not run: bad arguments or unreadable data (see above)." ;;
    3) echo "::error::The checks ran but the snapshot could not be pushed (see above)." ;;
    *) echo "::error::mlp exited with $status." ;;
esac
exit "$status"
