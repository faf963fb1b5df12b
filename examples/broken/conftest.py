"""The broken suite tests the same client as the demo suite: import it from there."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "demo"))
