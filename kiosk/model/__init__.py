"""The pose model: MoveNet on a TFLite interpreter, from a frame to 17 keypoints in frame pixels.

The interpreter and its runtime (`runtime`), the model's graph extended to expose its heatmap and
offsets (`graph`), the tensors in and out (`tensors`), the crop cut and scaled into the input
(`inputs`), the vote decoding of the keypoints (`decode`), and MoveNet with its crop following
and mirror averaging (`pose`).

May import: kiosk.core, kiosk.settings.  Not the body, the camera or anything above.
"""
