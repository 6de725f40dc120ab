#!/usr/bin/env python3
"""compare.py - roadmap 5.3's table: the shared autoencoder and the game-conditioned dynamics of
results/multi_dynamics/ against each game's own runs (results/tetris_rgb, scroller_dynamics,
maze_hyp), from their eval.csv files. Run from the repository root: python3 results/multi_dynamics/compare.py"""
import csv
import sys

SHARED = "results/multi_dynamics/eval.csv"   # shared=results/multi_dynamics_ae40/eval.csv: on the 40-minute autoencoder
OWN = {"tetris": "results/tetris_rgb/eval.csv", "scroller": "results/scroller_dynamics/eval.csv",
       "maze": "results/maze_hyp/eval.csv"}
extra = dict(a.split("=", 1) for a in sys.argv[1:])   # e.g. maze=path/to/eval.csv
SHARED = extra.pop("shared", SHARED)
OWN.update(extra)


def own_rows(path):
    out = {}
    for r in csv.DictReader(open(path)):
        out[(int(r["step"]), r["row"])] = (float(r["ssim_mean"]), float(r["ssim_ci95"]), float(r["l1_mean"]), int(r["n"]))
    return out


shared = {}
for r in csv.DictReader(open(SHARED)):
    shared[(r["game"], int(r["step"]))] = r
print("| game | step | shared recon SSIM | own recon SSIM | recon change | shared model SSIM | own model SSIM | copy SSIM (shared's starts) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for (game, step), r in shared.items():
    own = own_rows(OWN[game])
    if (step, "recon") not in own:
        continue
    sr, orr = float(r["recon_ssim"]), own[(step, "recon")][0]
    print(f"| {game} | {step} | {sr:.3f} ± {float(r['recon_ssim_ci95']):.3f} | {orr:.3f} ± {own[(step, 'recon')][1]:.3f} | "
          f"{100 * (sr - orr) / orr:+.1f}% | {float(r['model_ssim']):.3f} ± {float(r['model_ssim_ci95']):.3f} | "
          f"{own[(step, 'model')][0]:.3f} ± {own[(step, 'model')][1]:.3f} | {float(r['copy_ssim']):.3f} ± {float(r['copy_ssim_ci95']):.3f} |")
