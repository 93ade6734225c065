"""The flow: frames through the model and the body to verdicts, one way.

The per-frame pipelines for one person and for a group (`pipeline`, `group`), the nearest-person
lock (`lock`), the threads that capture, infer and show with the newest frame winning
(`threads`), the screen loop (`loop`) and the calibration loop (`calibrating`).

May import: kiosk.core, kiosk.settings, kiosk.model, kiosk.body, kiosk.camera.
"""
