"""The screen: the fullscreen pygame mirror with the ruler drawn through the belt loops
(`view`), and its drawing primitives (`draw`).

May import: kiosk.core, kiosk.settings, kiosk.body (the coach's values it shows).
"""
