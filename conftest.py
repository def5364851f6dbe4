"""Repository-wide pytest setup: no network from Albumentations' update check."""

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
