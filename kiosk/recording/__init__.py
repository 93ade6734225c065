"""Records and the files analysis writes: the walk and set records database (`store`, numbers
only, never pictures or names), the per-frame and per-step CSVs (`outputs`) and the report's
plots (`plots`).

May import: kiosk.core, kiosk.settings, kiosk.body.  Not the flow or the screen.
"""
