#!/usr/bin/env python3
"""region_l1.py RUN_DIR [RUN_DIR ...] --data FILE.h5 --episodes 0,2,5 [--every 10]
Mean L1 between the preprocessed frames (Pillow "L" + BILINEAR, as nemu) and each run's
reconstruction (ae_best.h5 through tests/nemu_modules.py) inside regions of the Tetris HUD,
given in source-frame pixels (data/tetris.c render_play): the weighted digits of
configs/tetris_hud_mask.png, the static labels beside them, the STATISTICS counters (not
weighted), and the well. Every --every-th frame of the episodes."""
import argparse, configparser, os, sys
import h5py, numpy as np, torch
from PIL import Image
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
from nemu_modules import model_from_checkpoint

REGIONS = {   # name: list of (x0, y0, x1, y1) in the 256x240 source frame
    "digits (weighted)": [(148, 20, 172, 28), (192, 34, 240, 42), (192, 62, 240, 70), (200, 172, 216, 180)],
    "labels LINES-/TOP/SCORE/LEVEL": [(100, 20, 148, 28), (192, 24, 216, 32), (192, 52, 232, 60), (188, 160, 228, 168)],
    "STATISTICS counters (red)": [(56, 80 + 20 * p, 80, 88 + 20 * p) for p in range(7)],
    "well": [(96, 48, 176, 208)],
}

ap = argparse.ArgumentParser()
ap.add_argument("runs", nargs="+")
ap.add_argument("--data", required=True)
ap.add_argument("--episodes", required=True)
ap.add_argument("--every", type=int, default=10)
a = ap.parse_args()
cfg = configparser.ConfigParser(inline_comment_prefixes=("#",))
cfg.read(os.path.join(a.runs[0], "config.ini"))
H, W = int(cfg["data"]["height"]), int(cfg["data"]["width"])
models = [model_from_checkpoint(os.path.join(r, "ae_best.h5")).eval() for r in a.runs]
sums = {(r, k): [0.0, 0] for r in a.runs for k in REGIONS}
with h5py.File(a.data, "r") as f:
    for e in [int(v) for v in a.episodes.split(",")]:
        obs = f[f"episode_{e}/observations"][::a.every]
        sh, sw = obs.shape[1:3]
        g = np.stack([np.asarray(Image.fromarray(o).convert("L").resize((W, H), Image.BILINEAR), np.float32) / 255
                      for o in obs])
        x = torch.from_numpy(g)[:, None]
        for r, m in zip(a.runs, models):
            with torch.no_grad():
                y = m.decode(m.encode(x))[:, 0].numpy()
            for k, boxes in REGIONS.items():
                for (x0, y0, x1, y1) in boxes:
                    sl = (slice(None), slice(y0 * H // sh, y1 * H // sh), slice(x0 * W // sw, x1 * W // sw))
                    d = np.abs(y[sl] - g[sl])
                    sums[(r, k)][0] += float(d.sum())
                    sums[(r, k)][1] += d.size
print("| region (source pixels, data/tetris.c) | " + " | ".join(os.path.basename(r.rstrip("/")) for r in a.runs) + " |")
print("|---|" + "---:|" * len(a.runs))
for k in REGIONS:
    print(f"| {k} | " + " | ".join(f"{sums[(r, k)][0] / sums[(r, k)][1]:.4f}" for r in a.runs) + " |")
