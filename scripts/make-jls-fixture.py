#!/usr/bin/env python3
"""Write tests/fixtures/native/generated_step-droop.jls with the reference JLS writer (pyjls):
a 1 s recording at 10 kS/s of a 15.625 mA idle current with one 125 mA burst (a one-sample
rise at 0.3 s, a one-sample fall at 0.35 s) while the supply droops linearly from 3.25 V to
3.0 V and recovers over one sample. Every piece between samples is linear in V·I, so the
trapezoid rule integrates it exactly; tests/it/native.rs checks the closed form.

It also writes tests/fixtures/native/generated_late-defs.jls: the same samples with the voltage
signal defined only after the current's data chunks (small data chunks flush at once), as
EM•Scope writes its files; a reader that stops looking for definitions at the first data chunk
sees only `current` and computes the energy at a constant 5 V instead of the recorded supply.

    python3 -m venv /tmp/jls && /tmp/jls/bin/pip install pyjls numpy
    /tmp/jls/bin/python scripts/make-jls-fixture.py
"""
import pathlib
import numpy as np
from pyjls import Writer, DataType

RATE = 10_000
N = RATE + 1
I0, AMP = 0.015625, 0.125          # A (exact in f32)
V0, DV = 3.25, 0.25                # V
K1, K2 = 3000, 3500                # samples: plateau from 0.3 s to 0.35 s

current = np.full(N, I0, dtype=np.float32)
current[K1:K2 + 1] = I0 + AMP      # rise over [K1-1, K1], fall over [K2, K2+1]
voltage = np.full(N, V0, dtype=np.float32)
voltage[K1:K2 + 1] = V0 - DV * (np.arange(K1, K2 + 1) - K1) / (K2 - K1)
voltage[K2 + 1] = V0 - DV          # held through the fall, recovered by the next sample

fixtures = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/native"
out = fixtures / "generated_step-droop.jls"
with Writer(str(out)) as w:
    w.source_def(source_id=1, name="shuntscope-test", vendor="shuntscope", model="synthetic",
                 version="1", serial_number="0")
    for sid, name, units, data in [(1, "current", "A", current), (2, "voltage", "V", voltage)]:
        w.signal_def(signal_id=sid, source_id=1, data_type=DataType.F32, sample_rate=RATE,
                     name=name, units=units)
        w.fsr_f32(sid, 0, data)
print(out, out.stat().st_size, "bytes")

late = fixtures / "generated_late-defs.jls"
with Writer(str(late)) as w:
    w.source_def(source_id=1, name="shuntscope-test", vendor="shuntscope", model="late-defs",
                 version="1", serial_number="0")
    w.signal_def(signal_id=1, source_id=1, data_type=DataType.F32, sample_rate=RATE,
                 samples_per_data=1000, name="current", units="A")
    w.fsr_f32(1, 0, current)
    w.flush()
    w.signal_def(signal_id=2, source_id=1, data_type=DataType.F32, sample_rate=RATE,
                 samples_per_data=1000, name="voltage", units="V")
    w.fsr_f32(2, 0, voltage)
print(late, late.stat().st_size, "bytes")
