"""Prints one row per shape and one column per bench JSON (bench_decode.py
--json), attn microseconds: the A/B table of interleaved runs of builds.

  python3 bench/compare.py old-1.json new-1.json old-2.json new-2.json
"""
import json
import os
import sys


def main():
    runs = [(os.path.basename(f).removesuffix(".json"), json.load(open(f))["rows"]) for f in sys.argv[1:]]
    shapes = []
    for _, rows in runs:
        for r in rows:
            key = (r["variant"], r["B"], r["L"])
            if key not in shapes:
                shapes.append(key)
    print(f"{'variant':8} {'B':>4} {'L':>6}" + "".join(f"{name[-12:]:>13}" for name, _ in runs))
    for key in shapes:
        cells = []
        for _, rows in runs:
            r = next((r for r in rows if (r["variant"], r["B"], r["L"]) == key), None)
            cells.append("-" if r is None else f"{r['attn_us']:.1f}{'' if r['ok'] else '!'}")
        print(f"{key[0]:8} {key[1]:>4} {key[2]:>6}" + "".join(f"{c:>13}" for c in cells))


if __name__ == "__main__":
    main()
