"""The body: what the keypoints and the picture say about a person's pelvis, gait and exercise.

Pure, with time as an argument: the hip line (`pelvis`), the belt line in the picture (`belt`), a
worn marker (`marker`), the three read together (`reading`), the smoothed tilt and its colour
(`tracker`), steps and walks (`gait`), the exercise coach (`exercise`), gestures (`gesture`),
telling people apart (`people`) and the calibrated standing level (`calibration`).

May import: kiosk.core, kiosk.settings.  Not the model, the camera or anything above.
"""
