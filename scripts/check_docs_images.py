"""Check that the pictures in docs/images are what examples/gallery.py draws today.

Regenerates them into a temporary directory and compares each with the committed PNG. Not
byte for byte (matplotlib, FreeType and OpenCV versions move anti-aliased edges by a few gray
levels): a picture passes when it has the same size, its mean absolute difference is at most
1 gray level (of 255, over every pixel and channel) and at most 0.5% of its pixel values differ
by more than 32 levels. A changed plot, a moved label or a different photo fails.

    python scripts/check_docs_images.py            # exit 1 on a mismatch (CI)
    python examples/gallery.py --out docs/images   # regenerate the committed pictures
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
NAMES = ("gallery.png", "crops.png", "masks.png")
MEAN_LEVELS = 1.0
LARGE_LEVELS = 32
LARGE_SHARE = 0.005


def compare(committed: np.ndarray, fresh: np.ndarray) -> tuple[bool, str]:
    """Whether two pictures match within the tolerances above, and the numbers."""
    if committed.shape != fresh.shape:
        return False, f"size {committed.shape} != {fresh.shape}"
    difference = np.abs(committed.astype(np.int16) - fresh.astype(np.int16))
    mean = float(difference.mean())
    large = float((difference > LARGE_LEVELS).mean())
    ok = mean <= MEAN_LEVELS and large <= LARGE_SHARE
    return ok, f"mean |diff| {mean:.3f} levels, {large:.3%} of values over {LARGE_LEVELS}"


def main() -> int:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [sys.executable, str(ROOT / "examples" / "gallery.py"), "--out", out],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        failed = []
        for name in NAMES:
            committed = cv2.imread(str(IMAGES / name), cv2.IMREAD_UNCHANGED)
            if committed is None:
                print(f"{name}: missing from docs/images", file=sys.stderr)
                failed.append(name)
                continue
            ok, numbers = compare(
                committed, cv2.imread(str(Path(out) / name), cv2.IMREAD_UNCHANGED)
            )
            print(f"{name}: {numbers}: {'ok' if ok else 'DIFFERENT'}")
            if not ok:
                failed.append(name)
    if failed:
        print(
            f"docs/images differ from examples/gallery.py's output ({', '.join(failed)}): run "
            "`python examples/gallery.py --out docs/images` and commit the pictures.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
