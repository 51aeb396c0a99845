#!/usr/bin/env python3
"""Two builds of `worklet` measured side by side on the same processors.

    python3 tests/bench/builds_side_by_side.py --base BASE/worklet --new target/release/worklet \
        [--rounds 5] [--seconds 3] MODULE.js...

Each round runs `worklet bench MODULE --json` once with each build, in alternating
order, so both see the same machine load; the report gives per-build medians of the
bare real-time factor (the render loop alone) and of the time per quantum, and the
median of the per-round ratios new ÷ base. With `--profile` each round runs `worklet
bench --profile` instead and compares process()'s median time per quantum (steadier
on a busy machine than a mean), reported as how many times faster the new build is.

A build of Worklet on stock Boa 0.22 (the engine without its speed patches, for the
"before" figures of a Boa patch) comes from a worktree with those patches reverted:

    git worktree add --detach /tmp/stock HEAD && cd /tmp/stock
    for p in $(seq 20 -1 4); do p=$(printf %04d $p)
        git apply -R -p1 --directory=plugin/vendor/boa_engine plugin/vendor/patches/$p-*.patch
    done
    cargo build --release -p worklet --bin worklet    # /tmp/stock/target/release/worklet

(0001-0003 stay: the engine uses the APIs they add, and they do not touch speed.)
"""

import argparse
import json
import statistics
import subprocess
import sys


def bench(binary, module, seconds, profile):
    """(speed, quantum µs): the bare real-time factor, or with `profile` the
    inverse of process()'s median time per quantum (`bench --profile`, whose
    per-quantum median shrugs off the machine's slow moments)."""
    command = [binary, "bench", module, "--seconds", str(seconds), "--json"]
    if profile:
        command.insert(2, "--profile")
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    if profile:
        return 1e6 / report["process_us"]["p50"], report["quantum_us"]
    return report["bare_rtf"], report["quantum_us"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the build measured against")
    parser.add_argument("--new", required=True, help="the build measured")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="compare process()'s median time per quantum (bench --profile) instead of the bare rtf",
    )
    parser.add_argument("modules", nargs="+")
    args = parser.parse_args()

    results = {}
    for module in args.modules:
        runs = {"base": [], "new": []}
        for round_ in range(args.rounds):
            order = ["base", "new"] if round_ % 2 == 0 else ["new", "base"]
            for build in order:
                runs[build].append(bench(getattr(args, build), module, args.seconds, args.profile))
        ratios = [n[0] / b[0] for b, n in zip(runs["base"], runs["new"])]
        speed = statistics.median
        results[module] = {
            build: {
                "quantum_us": statistics.median(r[1] for r in runs[build]),
                **(
                    {"process_p50_us": 1e6 / speed(r[0] for r in runs[build])}
                    if args.profile
                    else {"bare_rtf": speed(r[0] for r in runs[build])}
                ),
            }
            for build in runs
        }
        results[module]["ratio"] = statistics.median(ratios)
        results[module]["ratio_range"] = [min(ratios), max(ratios)]
        if not args.json:
            base, new = results[module]["base"], results[module]["new"]
            if args.profile:
                print(
                    f"{module}: process() p50 {base['process_p50_us']:.1f} -> {new['process_p50_us']:.1f} us "
                    f"(x{results[module]['ratio']:.2f} faster, range {min(ratios):.2f}-{max(ratios):.2f}); "
                    f"quantum {base['quantum_us']:.2f} -> {new['quantum_us']:.2f} us",
                    flush=True,
                )
                continue
            print(
                f"{module}: bare rtf {base['bare_rtf']:.1f} -> {new['bare_rtf']:.1f} "
                f"(x{results[module]['ratio']:.2f}, range {min(ratios):.2f}-{max(ratios):.2f}); "
                f"quantum {base['quantum_us']:.1f} -> {new['quantum_us']:.1f} us",
                flush=True,
            )
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()


if __name__ == "__main__":
    main()
