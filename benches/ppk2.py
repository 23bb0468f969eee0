#!/usr/bin/env python3
"""Write a PPK2 session (.ppk2) of N samples for benches/bench.sh: 100 kS/s, a 2 mA idle current
with 0.05 mA noise and a 30 mA x 5 ms burst every second, D0 high during each burst; session.raw
is deflated (level 6, as the app writes it), so the file is about 2.9 bytes a sample (350 M samples: 1.0 GB).

    python3 benches/ppk2.py OUT.ppk2 [SAMPLES]
"""
import json, sys, zipfile
import numpy as np

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000_000
rate = 100_000
rng = np.random.default_rng(1)
rec = np.dtype([("i", "<f4"), ("d", "<u2")])
block = 1 << 20
with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
    z.writestr("metadata.json", json.dumps({"metadata": {"samplesPerSecond": rate, "startSystemTime": 0}, "formatVersion": 2}))
    with z.open("session.raw", "w", force_zip64=True) as f:
        for start in range(0, n, block):
            k = np.arange(start, min(start + block, n))
            burst = (k % rate) < rate // 200
            a = np.empty(len(k), dtype=rec)
            # Current in µA, quantised to 0.01 µA as the PPK2's ADC steps would leave it.
            a["i"] = np.round(2000 + 50 * rng.standard_normal(len(k)) + 30000 * burst, 2)
            # Two bits a channel (01 low, 10 high): D0 high during each burst, D1-D7 low.
            a["d"] = np.where(burst, 0b10, 0b01).astype(np.uint16) | 0x5554
            f.write(a.tobytes())
print(out)
