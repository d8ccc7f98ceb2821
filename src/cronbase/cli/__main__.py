"""`python -m cronbase.cli`, the same as `cronbase`."""

from __future__ import annotations

import sys

from cronbase.cli import main

sys.exit(main())
