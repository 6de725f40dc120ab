#!/usr/bin/env python3
"""make_metrics_fixtures.py - reference SSIM / PSNR / L1 / MSE values from scikit-image.

Writes tests/fixtures/ssim_cases.h5 (read by tests/test_metrics.c):
    attrs n_cases
    /case_<i>/a, /case_<i>/b   float32 [C, H, W] in [0, 1] (values k/255, like decoded frames)
    /case_<i> attrs: ssim, psnr, l1, mse (float64), name (string)
SSIM is skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1.0), computed in float64, RGB with channel_axis=0
(mean over channels). Seeded: rerunning gives the same file contents.
Run: /usr/bin/python3 tests/make_metrics_fixtures.py
"""
import os

import h5py
import numpy as np
from scipy.ndimage import gaussian_filter, shift as nd_shift
from skimage.metrics import structural_similarity

rng = np.random.default_rng(20240601)


def q(x):
    """Clip to [0,1] and quantise to k/255 (float32), as frames decoded from PNG are."""
    return (np.round(np.clip(x, 0, 1) * 255) / 255).astype(np.float32)


def blocks(h, w, c=1):
    """A frame-like picture: dark background, a few bright rectangles, a little texture."""
    img = np.full((c, h, w), 0.1)
    for _ in range(6):
        y, x = rng.integers(0, h - 4), rng.integers(0, w - 4)
        hh, ww = rng.integers(3, max(4, h // 3)), rng.integers(3, max(4, w // 3))
        img[:, y:y + hh, x:x + ww] = rng.uniform(0.3, 1.0, size=(c, 1, 1))
    img += 0.05 * gaussian_filter(rng.standard_normal((c, h, w)), (0, 1, 1))
    return q(img)


cases = []
a = blocks(80, 80)
cases.append(("grey80_noise", a, q(a + 0.08 * rng.standard_normal(a.shape))))
a = blocks(80, 80)
cases.append(("grey80_blur", a, q(gaussian_filter(a, (0, 1.2, 1.2)))))
a = blocks(64, 72)
cases.append(("grey64x72_shift", a, q(nd_shift(a, (0, 1.5, -2.0), order=1, mode="nearest"))))
a = q(rng.uniform(0, 1, (1, 40, 40)))
cases.append(("grey40_uniform_vs_uniform", a, q(rng.uniform(0, 1, (1, 40, 40)))))
a = blocks(48, 64, 3)
b = q(a * np.array([0.9, 1.0, 1.1])[:, None, None] + 0.03 * rng.standard_normal(a.shape))
cases.append(("rgb48x64_tint_noise", a, b))
a = q(rng.uniform(0, 1, (1, 11, 11)))
cases.append(("grey11_tiny", a, q(a + 0.1 * rng.standard_normal(a.shape))))
a = blocks(16, 20)
cases.append(("grey16x20", a, q(0.8 * a + 0.1)))
a = blocks(32, 32)
cases.append(("grey32_identical", a, a.copy()))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ssim_cases.h5")
os.makedirs(os.path.dirname(path), exist_ok=True)
with h5py.File(path, "w") as f:
    f.attrs["n_cases"] = len(cases)
    for i, (name, a, b) in enumerate(cases):
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
        if a.shape[0] == 1:
            ssim = structural_similarity(a64[0], b64[0], **kw)
        else:
            ssim = structural_similarity(a64, b64, channel_axis=0, **kw)
        mse = float(np.mean((a64 - b64) ** 2))
        psnr = 100.0 if mse < 1e-10 else min(100.0, 10 * np.log10(1.0 / mse))
        g = f.create_group(f"case_{i}")
        for k, v in (("a", a), ("b", b)):
            g.create_dataset(k, data=v, compression="gzip", compression_opts=9, shuffle=True)
        g.attrs["ssim"] = float(ssim)
        g.attrs["psnr"] = float(psnr)
        g.attrs["l1"] = float(np.mean(np.abs(a64 - b64)))
        g.attrs["mse"] = mse
        g.attrs["name"] = name
        print(f"{name:28s} {str(a.shape):14s} ssim {ssim:.6f} psnr {psnr:.3f}")
print(path, os.path.getsize(path), "bytes")
