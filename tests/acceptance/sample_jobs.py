"""Job functions the acceptance tests load through CRONBASE_JOB_MODULES."""

from __future__ import annotations

import os
import time
from typing import Any

from cronbase.registry import JobContext, registry


@registry.job("slowNoop", description="Sleep a little, then report which process ran.")
def slow_noop(ctx: JobContext) -> dict[str, Any]:
    time.sleep(float(ctx.metadata.get("sleep", 0.005)))
    return {"pid": os.getpid()}
