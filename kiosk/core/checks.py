"""Numbers read back from files (records, calibrations), checked by value: one way to say that a
value is no number, or a number out of its range (NaN is out of every range)."""

from __future__ import annotations


def number_in(value: object, what: str, low: float, high: float) -> float:
    """`value` as a float when it is a number (not a bool) within low..high; else ValueError naming `what`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} is {type(value).__name__}, not a number")
    if not low <= value <= high:  # NaN fails this too; a huge integer is compared before any float()
        raise ValueError(f"{what} = {str(value)[:40]} is outside {low:g}…{high:g}")
    return float(value)
