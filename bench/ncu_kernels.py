"""Reads Nsight Compute's raw CSV (--csv --page raw) on stdin and prints one
line per profiled kernel launch; used by scripts/gpu-breakdown.sh."""
import csv
import sys

METRICS = [("gpu__time_duration.sum", "us"),
           ("dram__throughput.avg.pct_of_peak_sustained_elapsed", "dram%"),
           ("lts__throughput.avg.pct_of_peak_sustained_elapsed", "L2%"),
           ("launch__grid_size", "grid"),
           ("launch__registers_per_thread", "regs"),
           ("sm__warps_active.avg.pct_of_peak_sustained_active", "warps%")]
TIME_SCALE = {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3}


def main():
    rows = list(csv.reader(l for l in sys.stdin if l.startswith('"')))
    if len(rows) < 3:
        print("  (no kernels profiled)")
        return
    head, units = rows[0], rows[1]
    col = {n: head.index(n) for n in head}
    print("  " + f"{'kernel':14}" + "".join(f"{label:>9}" for _, label in METRICS))
    for r in rows[2:]:
        cells = []
        for name, _ in METRICS:
            v = float(r[col[name]].replace(",", ""))
            if name == "gpu__time_duration.sum":
                v *= TIME_SCALE[units[col[name]]]
            cells.append(f"{v:9.1f}")
        print("  " + f"{r[col['Kernel Name']]:14}" + "".join(cells))


if __name__ == "__main__":
    main()
