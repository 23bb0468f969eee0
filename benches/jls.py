#!/usr/bin/env python3
"""Write a Joulescope JLS v2 file of N samples for benches/bench.sh with the reference writer
(pyjls): current and voltage as f32 at 1 MS/s, a 2 mA idle current with 0.05 mA noise and a
30 mA x 5 ms burst every second, 3.3 V supply; 8 bytes a sample (50 M samples: 414 MB).

    python3 benches/jls.py OUT.jls [SAMPLES]
"""
import numpy as np, sys
from pyjls import Writer, DataType
n = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000_000
rate = 1_000_000
rng = np.random.default_rng(1)
with Writer(sys.argv[1]) as w:
    w.source_def(source_id=1, name="b", vendor="b", model="b", version="1", serial_number="0")
    w.signal_def(signal_id=1, source_id=1, data_type=DataType.F32, sample_rate=rate, name="current", units="A")
    w.signal_def(signal_id=2, source_id=1, data_type=DataType.F32, sample_rate=rate, name="voltage", units="V")
    block = 1 << 20
    for sid in (1, 2):
        for s in range(0, n, block):
            k = np.arange(s, min(s + block, n))
            if sid == 1:
                d = (0.002 + 0.00005 * rng.standard_normal(len(k)) + 0.03 * ((k % rate) < 5000)).astype(np.float32)
            else:
                d = np.full(len(k), 3.3, dtype=np.float32)
            w.fsr_f32(sid, s, d)
