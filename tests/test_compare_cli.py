#!/usr/bin/env python3
"""test_compare_cli.py - `eval --compare A.png B.png` end to end.

Writes PNG pairs with PIL (grey/grey, RGB/RGB, grey/RGB), runs $NEMU_BIN/eval --compare and
checks the printed L1 and PSNR against numpy and SSIM against scikit-image (the SSIM part
is skipped when skimage is missing). Bad inputs (missing file, size mismatch, not a PNG,
truncated PNG, wrong argument count) must exit non-zero with exactly one line on stderr and
nothing on stdout. Skips (skipped: needs ...) without numpy or PIL.
"""
import os
import re
import subprocess
import sys
import tempfile

from nemutest import BIN, check, have, need, summary

need("numpy", "PIL.Image")
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
if have("the SSIM check", "skimage.metrics"):
    from skimage.metrics import structural_similarity
else:
    structural_similarity = None

EVAL = os.path.join(BIN, "eval")


def run(*args):
    return subprocess.run([EVAL, *args], capture_output=True, text=True, timeout=60)


def parse(out):
    vals = {}
    for key in ("L1", "SSIM", "PSNR"):
        m = re.search(rf"^{key}\s+(-?[0-9.]+)", out, re.M)
        vals[key] = float(m.group(1)) if m else None
    return vals


def expected(a, b):
    """a, b uint8 arrays [H,W] or [H,W,3] of the same layout -> (l1, ssim or None, psnr)."""
    fa, fb = a.astype(np.float64) / 255, b.astype(np.float64) / 255
    l1 = np.mean(np.abs(fa - fb))
    mse = np.mean((fa - fb) ** 2)
    psnr = 100.0 if mse < 1e-10 else min(100.0, 10 * np.log10(1 / mse))
    ssim = None
    if structural_similarity is not None:
        kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
        ssim = (structural_similarity(fa, fb, **kw) if fa.ndim == 2
                else structural_similarity(fa, fb, channel_axis=2, **kw))
    return l1, ssim, psnr


def case(tmp, name, a, b, cmp_a=None, cmp_b=None):
    """Writes a, b as PNGs, runs compare, checks against the arrays cmp_a/cmp_b (default a, b)."""
    pa, pb = os.path.join(tmp, name + "_a.png"), os.path.join(tmp, name + "_b.png")
    Image.fromarray(a).save(pa)
    Image.fromarray(b).save(pb)
    r = run("--compare", pa, pb)
    check(r.returncode == 0 and r.stderr == "", f"{name}: rc {r.returncode} stderr {r.stderr!r}")
    got = parse(r.stdout)
    l1, ssim, psnr = expected(a if cmp_a is None else cmp_a, b if cmp_b is None else cmp_b)
    print(f"  {name:18s} L1 {got['L1']} (want {l1:.8f})  SSIM {got['SSIM']} (want {ssim})"
          f"  PSNR {got['PSNR']} (want {psnr:.6f})")
    check(got["L1"] is not None and abs(got["L1"] - l1) < 1e-6, f"{name}: L1 {got['L1']} want {l1}")
    check(got["PSNR"] is not None and abs(got["PSNR"] - psnr) < 1e-5, f"{name}: PSNR {got['PSNR']} want {psnr}")
    if ssim is not None:
        check(got["SSIM"] is not None and abs(got["SSIM"] - ssim) < 1e-6, f"{name}: SSIM {got['SSIM']} want {ssim}")
    kind = "grey" if (cmp_a if cmp_a is not None else a).ndim == 2 else "RGB"
    check(f": {a.shape[1]}x{a.shape[0]} {kind}" in r.stdout, f"{name}: header line {r.stdout.splitlines()[:1]}")
    return pa, pb


def bad(args, what, needle):
    r = run(*args)
    lines = r.stderr.strip().splitlines()
    check(r.returncode != 0 and len(lines) == 1 and needle in r.stderr and r.stdout == "",
          f"{what}: rc {r.returncode} stdout {r.stdout!r} stderr {r.stderr!r}")
    print(f"  {what:18s} rc {r.returncode}: {r.stderr.strip()}")


def main():
    if not os.access(EVAL, os.X_OK):
        print(f"FAIL {EVAL} is not built")
        print("0 passed, 1 failed")
        return 1
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory() as tmp:
        a = (rng.random((80, 80)) * 255).astype(np.uint8)
        b = np.clip(a.astype(int) + rng.integers(-30, 31, a.shape), 0, 255).astype(np.uint8)
        pa, pb = case(tmp, "grey80", a, b)
        case(tmp, "identical", a, a.copy())
        ra = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
        rb = np.clip(ra.astype(int) + rng.integers(-20, 21, ra.shape), 0, 255).astype(np.uint8)
        pra, _ = case(tmp, "rgb48x64", ra, rb)
        # grey vs RGB: both compared as RGB, the grey plane repeated
        g = (rng.random((48, 64)) * 255).astype(np.uint8)
        case(tmp, "grey_vs_rgb", g, rb, cmp_a=np.repeat(g[:, :, None], 3, axis=2))

        bad(["--compare", pa, os.path.join(tmp, "missing.png")], "missing file", "missing.png")
        bad(["--compare", pa, pra], "size mismatch", "same size")
        txt = os.path.join(tmp, "text.png")
        with open(txt, "w") as f:
            f.write("not a png\n")
        bad(["--compare", txt, pa], "not a PNG", "text.png")
        data = open(pb, "rb").read()
        cut = os.path.join(tmp, "cut.png")
        with open(cut, "wb") as f:
            f.write(data[: len(data) // 2])
        bad(["--compare", pa, cut], "truncated PNG", "cut.png")
        small = os.path.join(tmp, "small.png")
        Image.fromarray(a[:8, :8]).save(small)
        bad(["--compare", small, small], "8x8 image", "11x11")
        bad(["--compare", pa], "one argument", "usage")
        # plain eval in a folder without runs/: one line naming the problem
        r = subprocess.run([EVAL], cwd=tmp, capture_output=True, text=True)
        check(r.returncode != 0 and r.stderr.count("\n") == 1 and "runs" in r.stderr, f"plain eval: {r.stderr!r}")
        left = sorted(os.listdir(tmp))
        check(not any(n.endswith(".tmp") for n in left), f"no temp files: {left}")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
