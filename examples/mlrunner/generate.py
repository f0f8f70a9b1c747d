#!/usr/bin/env python3
"""A fake test: "translates" the test set with a checkpoint and prints its BLEU4 line.

The score is a deterministic function of the training settings stored in the
checkpoint, chosen so that the five runs of ``params.yaml`` give the five BLEU scores
of mlrunner's README (11.0, 12.3, 14.4, 16.5 and 15.0).
"""

import argparse
import json
from pathlib import Path

BASE = {"new": 11.0, "batch": 14.4}  # BLEU at moment 0.1 without early stop
PER_MOMENT_STEP = {"new": 1.3, "batch": 2.1}  # gained for each 0.05 less moment
EARLY_STOP = 0.6


def bleu(settings: dict) -> float:
    """The fake BLEU4 of a model trained with ``settings``."""
    norm = settings["norm"]
    steps = (0.1 - settings["moment"]) / 0.05
    return BASE[norm] + PER_MOMENT_STEP[norm] * steps + EARLY_STOP * settings["early_stop"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="the binarised data folder (not read: this is a fake)")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--path", type=Path, required=True, help="the checkpoint to test")
    args = parser.parse_args()

    model = json.loads(args.path.read_text())
    print(f"loaded {args.path} (average of epochs {model['epochs']})")
    print(f"Generate test with beam={args.beam}: BLEU4 = {bleu(model['settings']):.2f}")


if __name__ == "__main__":
    main()
