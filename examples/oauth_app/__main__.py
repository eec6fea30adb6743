"""``python examples/oauth_app --fake``: see ``webapp.py``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from webapp import main

sys.exit(main())
