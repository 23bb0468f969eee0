"""Write traces in other layouts than the benchmark's, for `LAYOUTS=1 benches/bench.sh`.

    python3 benches/layouts.py DIR [ROWS]

Writes, each with ROWS rows (default 3 000 000) and a burst every 100 000 rows:
- ppk2.csv: a Nordic PPK2 export with its digital columns (`Timestamp(ms),Current(uA),D0-D7,...`);
- sci.csv: scientific notation (`1.000000e-05,8.12345e-02`);
- rigol.csv: a Rigol DS1000E-like export, two channels, negative times, a channel crossing zero;
- short.csv: numbers in shortest form (`1e-05,232.09`), as Python's repr writes them.
"""
import math
import os
import random
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 3_000_000
os.makedirs(out, exist_ok=True)
random.seed(1)


def burst(k):
    return k % 100_000 < 600


def write(name, header, row):
    path = os.path.join(out, name)
    if os.path.exists(path) and os.path.getsize(path) > 0:
        return
    with open(path + ".tmp", "w") as f:
        f.write(header)
        f.writelines(row(k) for k in range(n))
    os.replace(path + ".tmp", path)


write(
    "ppk2.csv",
    "Timestamp(ms),Current(uA),D0-D7,D0,D1,D2,D3,D4,D5,D6,D7\n",
    lambda k: "%.2f,%.3f,11111111,1,1,1,1,1,1,1,1\n"
    % (k * 0.01, 7000 + random.gauss(0, 50) + 64000 * burst(k)),
)
write(
    "sci.csv",
    "Time,CH1\nSecond,Volt\n",
    lambda k: "%.6e,%.5e\n" % (k * 1e-5, 0.08 + random.gauss(0, 0.0015) + 0.03 * burst(k)),
)
write(
    "rigol.csv",
    "Time,X(CH1),X(CH2),\nSecond,Volt,Volt,\n",
    lambda k: "%.7e,%.5e,%.5e,\n"
    % (
        (k - 1_000_000) * 1e-8,
        0.4 * math.sin(k / 5000) + random.gauss(0, 0.02),
        0.08 + random.gauss(0, 0.002) + 0.03 * burst(k),
    ),
)
write(
    "short.csv",
    "time_s,current_ma\n",
    lambda k: "%r,%r\n" % (round(k * 1e-5, 5), round(170 + random.gauss(0, 3) + 64 * burst(k), 2)),
)
