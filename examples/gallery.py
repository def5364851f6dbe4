"""Render the docs' pictures: one photo under every preset and mode, two crops under
per-image normalization (the implicit brightness/contrast change), and masked statistics (a
letterboxed photo, a CT-like volume).

    python examples/gallery.py [--out docs/images]

Writes gallery.png, crops.png and masks.png (small PNGs, committed in docs/images;
scripts/check_docs_images.py redraws them and compares, in CI).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import cv2
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import albu_norm as AN

ROOT = Path(__file__).resolve().parent
PHOTO = ROOT / "images" / "astronaut.jpg"
COLORS = ("tab:red", "tab:green", "tab:blue")


def load_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def for_display(values: np.ndarray) -> np.ndarray:
    """Per-image min-max rescale of normalized values to [0, 1], for showing them."""
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def gallery(photo: np.ndarray, out: Path) -> None:
    photo = cv2.resize(photo, (160, 160), interpolation=cv2.INTER_AREA)
    configs = [(f"preset={name}", {"preset": name}) for name in ("imagenet", "clip", "yolo")]
    configs += [
        (mode, {"normalization": mode})
        for mode in ("image", "image_per_channel", "min_max", "min_max_per_channel")
    ]
    figure, axes = plt.subplots(2, len(configs), figsize=(2.2 * len(configs), 4.4))
    for column, (title, kwargs) in enumerate(configs):
        values = AN.Normalize(**kwargs)(image=photo)["image"]
        axes[0, column].imshow(for_display(values))
        axes[0, column].set_title(title, fontsize=8)
        axes[0, column].axis("off")
        for channel, color in enumerate(COLORS):
            axes[1, column].hist(
                values[..., channel].ravel(), bins=40, histtype="step", color=color
            )
        axes[1, column].tick_params(labelsize=6)
        axes[1, column].set_yticks([])
    figure.suptitle("astronaut.jpg under each preset and mode (display: per-image min-max)")
    figure.tight_layout()
    figure.savefig(out / "gallery.png", dpi=80)
    plt.close(figure)


def crops(photo: np.ndarray, out: Path) -> None:
    crop_a, crop_b = photo[:320, 96:416], photo[192:512, 96:416]  # rows 192-320 overlap
    transform = AN.Normalize(normalization="image")
    out_a = transform(image=crop_a)["image"]
    out_b = transform(image=crop_b)["image"]
    mu_a, sigma_a = crop_a.mean(dtype=np.float64), crop_a.std(dtype=np.float64)
    mu_b, sigma_b = crop_b.mean(dtype=np.float64), crop_b.std(dtype=np.float64)
    shared_a, shared_b = out_a[192:320].ravel(), out_b[:128].ravel()
    figure, axes = plt.subplots(1, 3, figsize=(11, 3.8))
    axes[0].imshow(for_display(out_a))
    axes[0].set_title(f"crop A (rows 0-320): mu={mu_a:.1f}, sigma={sigma_a:.1f}", fontsize=9)
    axes[1].imshow(for_display(out_b))
    axes[1].set_title(f"crop B (rows 192-512): mu={mu_b:.1f}, sigma={sigma_b:.1f}", fontsize=9)
    for axis in axes[:2]:
        axis.axis("off")
    step = max(1, shared_a.size // 4000)
    axes[2].scatter(shared_a[::step], shared_b[::step], s=2, alpha=0.4)
    line = np.linspace(float(shared_a.min()), float(shared_a.max()), 2)
    slope, intercept = sigma_a / sigma_b, (mu_a - mu_b) / sigma_b
    axes[2].plot(line, slope * line + intercept, color="black", linewidth=1)
    axes[2].set_xlabel("out_A of the overlap")
    axes[2].set_ylabel("out_B of the same pixels")
    axes[2].set_title(f"out_B = {slope:.3f} out_A {intercept:+.3f}", fontsize=9)
    figure.tight_layout()
    figure.savefig(out / "crops.png", dpi=80)
    plt.close(figure)
    error = np.abs(shared_b - (slope * shared_a + intercept)).max()
    print(f"crops: out_B = {slope:.4f} * out_A {intercept:+.4f}; max deviation {error:.2e}")


def masks(photo: np.ndarray, out: Path) -> None:
    """A letterboxed photo normalized with and without its mask, and a volume normalized per
    slice and per volume."""
    import albumentations as A

    wide = photo[128:384]  # 256 x 512: letterboxing adds bars above and below
    letterbox = A.Compose(
        [A.LongestMaxSize(256), A.PadIfNeeded(256, 256, border_mode=cv2.BORDER_CONSTANT, fill=0)],
        additional_targets={"valid": "mask"},
    )
    ones = np.ones(wide.shape[:2], np.uint8)
    boxed = letterbox(image=wide, valid=ones, mask=ones)  # AlbumentationsX needs mask= too
    inside = boxed["valid"] != 0
    plain = AN.Normalize(normalization="image_per_channel")(image=boxed["image"])["image"]
    masked = AN.Normalize(normalization="image_per_channel", mask_key="mask")(
        image=boxed["image"], mask=boxed["valid"]
    )["image"]
    rng = np.random.default_rng(0)  # a CT-like volume: 12 slices, brighter towards the middle
    depth = np.arange(12)
    levels = 400 + 600 * np.exp(-((depth - 6) ** 2) / 10)
    volume = (levels[:, None, None] + rng.normal(0, 60, (12, 48, 48))).astype(np.float32)
    per_slice = AN.Normalize(normalization="image", per_slice=True)(volume=volume)["volume"]
    per_volume = AN.Normalize(normalization="image")(volume=volume)["volume"]

    figure, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    axes[0].imshow(boxed["image"])
    axes[0].set_title("letterboxed: 256 x 128 photo, 64-pixel bars", fontsize=9)
    axes[0].axis("off")
    bins = np.linspace(-3, 3, 61)
    axes[1].hist(plain[inside][:, 1], bins=bins, histtype="step", label="without mask")
    axes[1].hist(masked[inside][:, 1], bins=bins, histtype="step", label="mask_key='valid'")
    axes[1].set_title("green channel inside the photo", fontsize=9)
    axes[1].legend(fontsize=8)
    axes[1].set_yticks([])
    axes[2].plot(depth, per_slice.mean(axis=(1, 2)), "o-", label="per_slice=True")
    axes[2].plot(depth, per_volume.mean(axis=(1, 2)), "s-", label="per volume (default)")
    axes[2].set_xlabel("slice")
    axes[2].set_ylabel("mean of the normalized slice")
    axes[2].set_title("a CT-like volume", fontsize=9)
    axes[2].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / "masks.png", dpi=80)
    plt.close(figure)
    print(
        "masks: inside the photo, mean/std without the mask "
        f"{plain[inside].mean():+.3f}/{plain[inside].std():.3f}, with it "
        f"{masked[inside].mean():+.3f}/{masked[inside].std():.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT.parent / "docs" / "images",
        help="folder for the PNGs (default: docs/images of the repository)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    photo = load_rgb(PHOTO)
    gallery(photo, args.out)
    crops(photo, args.out)
    masks(photo, args.out)
    print(f"wrote gallery.png, crops.png and masks.png to {args.out}")


if __name__ == "__main__":
    main()
