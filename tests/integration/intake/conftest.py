"""Puts this folder's helpers on the import path (as tests/integration/signing does)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
