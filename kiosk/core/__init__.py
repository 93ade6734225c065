"""The core: the values every other part passes around, and nothing that does work on them.

Frozen dataclasses with units in their names (`types`), the error tree (`errors`), pure plane
geometry (`geometry`), files written whole or not at all (`files`), fault counting (`faults`),
the allocator's housekeeping (`memory`) and every word a person reads on the screen (`words`).

May import: the standard library and numpy only; nothing else of kiosk.
"""
