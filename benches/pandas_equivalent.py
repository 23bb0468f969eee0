"""The analysis a user would write by hand with pandas + numpy, for the benchmark's comparison.

Loads a `time_s,voltage_v` CSV, converts to current on 0.47 ohm, takes the median as baseline and
1.4826 x MAD as noise, finds runs above baseline + 6 sigma, extends each to the baseline on both
sides, and integrates (I - baseline) by the trapezoid rule. Prints the burst count and the total
excess charge in mA*ms so the result can be compared with shuntscope's.
"""
import sys

import numpy as np
import pandas as pd

df = pd.read_csv(sys.argv[1])
t = df.iloc[:, 0].to_numpy()
i_ma = df.iloc[:, 1].to_numpy() / 0.47 * 1000.0
base = np.median(i_ma)
sigma = 1.4826 * np.median(np.abs(i_ma - base))
above = i_ma > base + 6 * sigma
edges = np.diff(above.astype(np.int8))
starts = np.flatnonzero(edges == 1) + 1
ends = np.flatnonzero(edges == -1) + 1
if above[0]:
    starts = np.r_[0, starts]
if above[-1]:
    ends = np.r_[ends, len(above)]
at_base = np.flatnonzero(i_ma <= base)
# Extend each run to the last baseline sample before it and the first after it.
s_idx = at_base[np.clip(np.searchsorted(at_base, starts) - 1, 0, len(at_base) - 1)]
e_idx = at_base[np.clip(np.searchsorted(at_base, ends), 0, len(at_base) - 1)]
seg = 0.5 * (i_ma[1:] + i_ma[:-1] - 2 * base) * np.diff(t)
cum = np.r_[0.0, np.cumsum(seg)]
keep = np.r_[True, s_idx[1:] > e_idx[:-1]]
excess = (cum[e_idx] - cum[s_idx])[keep] * 1e3
print(f"pandas+numpy: {len(excess)} bursts, excess {excess.sum():.1f} mA*ms, baseline {base:.3f} mA")
