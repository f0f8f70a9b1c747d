#!/usr/bin/env python3
"""A fake trainer: "trains" for a few epochs and writes one small checkpoint per epoch.

Standard library only, so any ``python3`` runs it. Each checkpoint is a JSON file that
carries the training settings, which is how ``generate.py`` later knows what it tests.
"""

import argparse
import json
import os
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="the binarised data folder (not read: this is a fake)")
    parser.add_argument("--save-dir", type=Path, required=True)
    parser.add_argument("--norm", choices=["new", "batch"], required=True)
    parser.add_argument("--moment", type=float, default=0.1)
    parser.add_argument("--early-stop", action="store_true")
    args = parser.parse_args()

    gpu = os.environ.get("CUDA_VISIBLE_DEVICES", "none")
    print(f"training on {args.data} with {args.norm}norm, moment {args.moment}, gpu {gpu}")
    epochs = 6 if args.early_stop else 8
    args.save_dir.mkdir(parents=True, exist_ok=True)
    settings = {"norm": args.norm, "moment": args.moment, "early_stop": args.early_stop}
    for epoch in range(1, epochs + 1):
        loss = 8.0 / (epoch + 1) + (0.3 if args.norm == "new" else 0.0)
        print(f"epoch {epoch:03d} | loss {loss:.3f}")
        checkpoint = {"epoch": epoch, "weight": 1.0 / epoch, "settings": settings}
        (args.save_dir / f"checkpoint{epoch}.pt").write_text(json.dumps(checkpoint) + "\n")
    if args.early_stop:
        print(f"early stop after epoch {epochs}")


if __name__ == "__main__":
    main()
