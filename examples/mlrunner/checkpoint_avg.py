#!/usr/bin/env python3
"""A fake checkpoint averager: averages the last N checkpoints of a folder into one."""

import argparse
import json
import re
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=Path, required=True, help="folder of checkpoint<N>.pt")
    parser.add_argument("--num", type=int, default=5, help="how many of the last ones")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()

    found = sorted(
        args.inputs.glob("checkpoint*.pt"),
        key=lambda p: int(re.sub(r"\D", "", p.stem) or 0),
    )
    if not found:
        raise SystemExit(f"no checkpoint*.pt in {args.inputs}")
    last = [json.loads(p.read_text()) for p in found[-args.num :]]
    average = {
        "epochs": [c["epoch"] for c in last],
        "weight": sum(c["weight"] for c in last) / len(last),
        "settings": last[-1]["settings"],
    }
    args.output.write_text(json.dumps(average) + "\n")
    print(f"averaged {', '.join(p.name for p in found[-args.num :])} into {args.output}")


if __name__ == "__main__":
    main()
