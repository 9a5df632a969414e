"""Loaded into a test's Celery worker (`celery worker --include`): every run it starts is held
open, its collector locked and nothing stored, so that the test can kill the worker mid-run."""

import logging
import time
from typing import Any

from collector.signals import run_started

HOLD_SECONDS = 30

logger = logging.getLogger(__name__)


def hold(sender: Any, run_id: Any, **kwargs: Any) -> None:
    logger.warning("Holding run %s open for %d s", run_id, HOLD_SECONDS)
    time.sleep(HOLD_SECONDS)


run_started.connect(hold, dispatch_uid="tests.collector.holding_runs.hold")
