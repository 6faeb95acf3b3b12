"""``python -m simulator.bench [--quick] [--repeats N] [--out PATH] [--only WORKLOAD ...]``"""

from __future__ import annotations

import argparse

from simulator.bench import main
from simulator.bench.workloads import WORKLOADS

parser = argparse.ArgumentParser(prog="python -m simulator.bench", description=main.__doc__)
parser.add_argument("--quick", action="store_true", help="n=20k requests, 1 repeat")
parser.add_argument("--repeats", type=int, default=3, help="timed runs per workload and side (default 3)")
parser.add_argument("--out", default=None, help="JSON output (default results/bench/latest.json)")
parser.add_argument("--only", action="append", default=None, metavar="WORKLOAD",
                    choices=[w.name for w in WORKLOADS], help="run only this workload (repeatable)")
args = parser.parse_args()
raise SystemExit(main(quick=args.quick, repeats=args.repeats, out=args.out, only=args.only))
