"""The frame sources: clips, stills, webcams and the Pi camera (picamera2, imported only when it
is chosen), each giving frames from reused buffers (`pool`), reconnecting when asked.

May import: kiosk.core, kiosk.settings.
"""
