#!/usr/bin/env python3
"""hud_crops.py RUN_DIR [RUN_DIR ...] --data FILE.h5 --frames e:t,e:t,... --out PNG
The HUD of some frames (LINES-, TOP, SCORE, LEVEL boxes) of the data, preprocessed as the run's
config says (Pillow "L" + BILINEAR, as nemu), above each run's reconstruction (ae_best.h5 through
tests/nemu_modules.py), nearest-neighbour x5: per frame a row for the source, then one per run."""
import argparse, configparser, os, sys
import h5py, numpy as np, torch
from PIL import Image, ImageDraw
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
from nemu_modules import model_from_checkpoint

# source-frame boxes (x0, y0, x1, y1) around the digits, from data/tetris.c render_play
BOXES = [(96, 16, 180, 32), (188, 20, 244, 74), (192, 166, 224, 184)]

ap = argparse.ArgumentParser()
ap.add_argument("runs", nargs="+")
ap.add_argument("--data", required=True)
ap.add_argument("--frames", required=True)
ap.add_argument("--out", required=True)
a = ap.parse_args()
cfg = configparser.ConfigParser(inline_comment_prefixes=("#",))
cfg.read(os.path.join(a.runs[0], "config.ini"))
H, W = int(cfg["data"]["height"]), int(cfg["data"]["width"])
models = [model_from_checkpoint(os.path.join(r, "ae_best.h5")).eval() for r in a.runs]
frames = [tuple(int(v) for v in f.split(":")) for f in a.frames.split(",")]
Z = 5
rows = []
with h5py.File(a.data, "r") as f:
    for e, t in frames:
        obs = f[f"episode_{e}/observations"][t]
        sh, sw = obs.shape[:2]
        g = np.asarray(Image.fromarray(obs).convert("L").resize((W, H), Image.BILINEAR), np.float32) / 255
        x = torch.from_numpy(g)[None, None]
        with torch.no_grad():
            recs = [m.decode(m.encode(x))[0, 0].numpy() for m in models]
        row = []
        for img in [g] + recs:
            parts = []
            for (x0, y0, x1, y1) in BOXES:
                c = img[y0 * H // sh:y1 * H // sh, x0 * W // sw:x1 * W // sw]
                parts.append(np.kron(c, np.ones((Z, Z))))
            hmax = max(p.shape[0] for p in parts)
            parts = [np.pad(p, ((0, hmax - p.shape[0]), (0, 6)), constant_values=0.5) for p in parts]
            row.append(np.concatenate(parts, 1))
        rows.append(np.concatenate([np.pad(r, ((0, 3), (0, 0)), constant_values=1.0) for r in row], 0))
img = np.concatenate([np.pad(r, ((0, 14), (0, 0)), constant_values=1.0) for r in rows], 0)
im = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8))
head = Image.new("L", (im.width, 14), 255)
ImageDraw.Draw(head).text((2, 1), "rows: source, " + ", ".join(os.path.basename(r.rstrip("/")) for r in a.runs), fill=0)
out = Image.new("L", (im.width, im.height + 14))
out.paste(head, (0, 0)); out.paste(im, (0, 14))
out.save(a.out)
print("wrote", a.out, out.size)
