"""Reads Nsight Compute's raw CSV (--csv --page raw) on stdin and prints one
line per profiled kernel launch; used by scripts/gpu-breakdown.sh.

Besides time and throughput it prints how evenly the SMs were busy: the
least and the mean active cycles of an SM as a percentage of the kernel's
elapsed cycles (a low minimum with a high mean is a tail of idle SMs; both
high with low DRAM throughput is a per-SM bound)."""
import csv
import sys

METRICS = [("gpu__time_duration.sum", "us"),
           ("dram__throughput.avg.pct_of_peak_sustained_elapsed", "dram%"),
           ("lts__throughput.avg.pct_of_peak_sustained_elapsed", "L2%"),
           ("launch__grid_size", "grid"),
           ("launch__registers_per_thread", "regs"),
           ("sm__warps_active.avg.pct_of_peak_sustained_active", "warps%")]
# Active cycles of the least busy and of the mean SM, against elapsed.
BALANCE = [("sm__cycles_active.min", "smMin%"), ("sm__cycles_active.avg", "smAvg%")]
ELAPSED = "sm__cycles_elapsed.max"
TIME_SCALE = {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3}
NAMES = ",".join([n for n, _ in METRICS] + [n for n, _ in BALANCE] + [ELAPSED])


def main():
    if sys.argv[1:] == ["--metrics"]:
        print(NAMES)
        return
    rows = list(csv.reader(l for l in sys.stdin if l.startswith('"')))
    if len(rows) < 3:
        print("  (no kernels profiled)")
        return
    head, units = rows[0], rows[1]
    col = {n: head.index(n) for n in head}
    num = lambda r, n: float(r[col[n]].replace(",", ""))
    labels = [label for _, label in METRICS + BALANCE]
    print("  " + f"{'kernel':14}" + "".join(f"{label:>9}" for label in labels))
    for r in rows[2:]:
        cells = []
        for name, _ in METRICS:
            v = num(r, name)
            if name == "gpu__time_duration.sum":
                v *= TIME_SCALE[units[col[name]]]
            cells.append(v)
        for name, _ in BALANCE:
            cells.append(100.0 * num(r, name) / max(num(r, ELAPSED), 1.0) if name in col else float("nan"))
        print("  " + f"{r[col['Kernel Name']]:14}" + "".join(f"{v:9.1f}" for v in cells))


if __name__ == "__main__":
    main()
