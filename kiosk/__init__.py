"""Beltline: a mirror kiosk with a virtual ruler through the belt loops.

Data flows one way: frame source -> pose model -> pelvis reading -> tracker -> view
(and analysis records).  See README.md, "Architecture".
"""

__version__ = "0.1.0"
