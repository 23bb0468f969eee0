"""Calls that the stubs must reject (python/tests/test_typing.py expects mypy to fail here)."""

import shuntscope

shuntscope.analyze("t.csv", shunt_ohm=0.47)  # a misspelt flag
shuntscope.analyze("t.csv", shunt_ohms="0.47 ohm")  # a string for a number
shuntscope.analyze("t.csv", window_polarity="up")  # not high or low
shuntscope.batch("runs/", jobs="two")  # not an int
