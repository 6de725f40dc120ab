#!/usr/bin/python3
"""make_data_fixtures.py - writes the small committed fixtures tests/test_data.c reads.

  tests/fixtures/data_minari_mb.h5        h5py-written Minari layout: RGB 24x32 frames, int8
                                          multi-binary actions [T,8], bool flags, episodes named
                                          episode_0, episode_2, episode_10 (numeric order test; an odd
                                          layout with its metadata group: read with accept_odd)
  tests/fixtures/data_minari_discrete.h5  grey 16x20 frames with T (not T+1) rows, int64
                                          discrete actions [T]
  tests/fixtures/data_pillow.h5           Pillow oracle: RGB images, convert("L"), and
                                          resize((W,H), BILINEAR) of the grey and RGB images

Pixel and action values of the Minari fixtures follow closed formulas (see obs_value and
mb_action below) that test_data.c recomputes. Seeded; run with /usr/bin/python3 from the
repository root. Pillow 9.4 made the committed oracle.
"""
import os
import sys

import h5py
import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def obs_value(e, t, y, x, c):  # same formula in tests/test_data.c
    return (e * 50 + t * 7 + y * 3 + x * 5 + c * 11) % 256


def mb_action(e, t, a):
    return 1 if (e + t + a) % 3 == 0 else 0


def minari_mb(path):
    lengths = {0: 5, 2: 3, 10: 4}  # id -> T
    H, W, C, A = 24, 32, 3, 8
    with h5py.File(path, "w") as f:
        for eid, T in lengths.items():
            g = f.create_group(f"episode_{eid}")
            t, y, x, c = np.meshgrid(np.arange(T + 1), np.arange(H), np.arange(W), np.arange(C), indexing="ij")
            g.create_dataset("observations", data=obs_value(eid, t, y, x, c).astype(np.uint8))
            t, a = np.meshgrid(np.arange(T), np.arange(A), indexing="ij")
            g.create_dataset("actions", data=np.vectorize(mb_action)(eid, t, a).astype(np.int8))
            g.create_dataset("rewards", data=np.zeros(T, np.float64))
            g.create_dataset("terminations", data=np.arange(T) == T - 1)
            g.create_dataset("truncations", data=np.zeros(T, bool))
            g.attrs["id"] = eid
            g.attrs["total_steps"] = T
        f.attrs["total_episodes"] = len(lengths)
        f.attrs["total_steps"] = sum(lengths.values())
        f.attrs["action_names"] = "A,B,SELECT,START,UP,DOWN,LEFT,RIGHT"
        f.attrs["game"] = "fixture"
        f.create_group("metadata")  # not an episode: an odd layout (data.accept_odd = yes skips it)


def minari_discrete(path):
    lengths = [6, 4]
    H, W = 16, 20
    with h5py.File(path, "w") as f:
        for eid, T in enumerate(lengths):
            g = f.create_group(f"episode_{eid}")
            t, y, x = np.meshgrid(np.arange(T), np.arange(H), np.arange(W), indexing="ij")
            g.create_dataset("observations", data=obs_value(eid, t, y, x, 0)[..., None].astype(np.uint8))
            g.create_dataset("actions", data=((np.arange(T) * 3 + eid) % 5).astype(np.int64))
        f.attrs["total_episodes"] = len(lengths)
        f.attrs["total_steps"] = sum(lengths)


def test_image(rng, h, w):
    """Smooth gradients and sinusoids, sharp rectangles, a noisy patch: RGB uint8 [h,w,3]."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    for c in range(3):
        fmax = 0.3 if h * w <= 20000 else 0.1
        fx, fy, ph = rng.uniform(0.02, fmax), rng.uniform(0.02, fmax), rng.uniform(0, 6.3)
        img[..., c] = 128 + 100 * np.sin(fx * x + fy * y + ph) + rng.uniform(-20, 20)
        if h * w > 20000:  # big image: coarser levels keep the committed fixture small
            img[..., c] = np.round(img[..., c] / 6) * 6
    for _ in range(6):
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        img[y0:y0 + rng.integers(1, h // 2 + 2), x0:x0 + rng.integers(1, w // 2 + 2)] = rng.integers(0, 256, 3)
    ph, pw = max(1, min(h // 6, 12)), max(1, min(w // 6, 12))
    img[:ph, -pw:] = rng.integers(0, 256, (ph, pw, 3))
    img[0, 0], img[-1, -1] = (255, 255, 255), (0, 0, 0)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def pillow(path):
    rng = np.random.default_rng(20240601)
    cases = [(240, 256, 80, 80), (37, 50, 80, 80), (20, 33, 16, 16), (45, 31, 30, 44)]  # in_h,in_w,out_h,out_w
    with h5py.File(path, "w") as f:
        f.attrs["pillow_version"] = Image.__version__ if hasattr(Image, "__version__") else "?"
        f.attrs["n"] = len(cases)
        for i, (ih, iw, oh, ow) in enumerate(cases):
            rgb = test_image(rng, ih, iw)
            im = Image.fromarray(rgb, "RGB")
            grey = im.convert("L")
            kw = dict(compression="gzip", compression_opts=9)
            f.create_dataset(f"case_{i}/rgb", data=rgb, **kw)
            f.create_dataset(f"case_{i}/luma", data=np.asarray(grey), **kw)
            f.create_dataset(f"case_{i}/grey_resized", data=np.asarray(grey.resize((ow, oh), Image.BILINEAR)), **kw)
            f.create_dataset(f"case_{i}/rgb_resized", data=np.asarray(im.resize((ow, oh), Image.BILINEAR)), **kw)


def main():
    os.makedirs(OUT, exist_ok=True)
    minari_mb(os.path.join(OUT, "data_minari_mb.h5"))
    minari_discrete(os.path.join(OUT, "data_minari_discrete.h5"))
    pillow(os.path.join(OUT, "data_pillow.h5"))
    for n in ("data_minari_mb.h5", "data_minari_discrete.h5", "data_pillow.h5"):
        print(n, os.path.getsize(os.path.join(OUT, n)), "bytes")


if __name__ == "__main__":
    sys.exit(main())
