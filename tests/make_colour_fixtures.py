#!/usr/bin/python3
"""Oracle for evaluation/colour.c's hue: scikit-image's rgb2hsv on fixed and random colours
(the NES palette, greys, ties between channels, random floats). Writes
tests/fixtures/colour_hue.txt: lines "r g b hue_degrees" (floats). Run with Debian's python3."""
import os
import numpy as np
from skimage.color import rgb2hsv

NES = [0x3CBCFC, 0x0058F8, 0xB8F818, 0x0078F8, 0xF878F8, 0xF85898, 0x58D854, 0xF87858, 0xFCA044,
       0x6888FC, 0x7C7C7C, 0xFCFCFC, 0x000000, 0xA81000, 0x00A844, 0x00E8D8]
rows = [[((c >> 16) & 255) / 255.0, ((c >> 8) & 255) / 255.0, (c & 255) / 255.0] for c in NES]
rows += [[1, 1, 0], [0, 1, 1], [1, 0, 1], [0.5, 0.5, 0.2], [0.2, 0.5, 0.5], [0.5, 0.2, 0.5], [0.3, 0.3, 0.3]]
rng = np.random.default_rng(18)
rows += rng.random((40, 3)).astype(np.float32).tolist()
a = np.array(rows, dtype=np.float32)
h = rgb2hsv(a[None, :, :])[0, :, 0].astype(np.float64) * 360.0
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "colour_hue.txt")
with open(out, "w") as f:
    f.write("# r g b hue_degrees: skimage.color.rgb2hsv (tests/make_colour_fixtures.py)\n")
    for (r, g, b), hh in zip(a.tolist(), h.tolist()):
        f.write(f"{r:.9g} {g:.9g} {b:.9g} {hh:.9g}\n")
print(out, len(a))
