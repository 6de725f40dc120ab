#!/usr/bin/env python3
"""test_edge_cases.py - `gen tetris --edge-cases` and `eval --recon` end to end.

In a temp dir (the cwd of every command, so runs/ and results/ land there):
  - `gen tetris --edge-cases e.h5` writes one episode of named edge-case frames (empty and
    full board, a piece at several positions, game over, title, ...); the names it reports are
    the ones `eval --recon` reads back from the file's frame_names attribute, in order; a
    second run writes the same frames
  - a tiny autoencoder run (32x32 grey, base 4 channels, latent 8, 1 epoch) is trained with
    $NEMU_BIN/train on a tiny recorded dataset
  - `eval --recon e.h5` (default run: the newest runs/*/ with ae_best.h5) prints one table row
    per frame with finite L1/SSIM/PSNR, every frame differs from every other one (its closest
    other frame is at L1 > 0, even at 32x32 grey), and writes a PNG (default
    results/<run>/recon_e.png, or --out); the same command twice prints the same table
  - bad input: one line on stderr, non-zero exit, nothing on stdout, no PNG: a missing file, a
    run folder without ae_best.h5, no runs at all, unknown options, missing values, and
    `gen tetris --edge-cases` into a folder that does not exist (no file left behind)
Only the standard library is needed.
"""
import os
import shutil
import struct
import sys

from nemutest import check, refused, record, run, run_in_tempdir, tiny_config, train, write_config

MUST = ["title", "empty_board", "full_board", "piece_left", "piece_centre", "piece_right", "piece_top",
        "piece_bottom", "line_clear", "paused", "curtain", "game_over", "level_5"]

CONFIG = tiny_config({"run": {"name": "{name}", "seed": 3, "threads": 1}, "data": {"val_split": None},
                      "train": {"stage": None, "lr": None, "epochs": 1}})


def png_size(path):
    """(width, height) from a PNG's IHDR, or None when it is not a PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def rows(out):
    """Table rows as lists of cells, header and separator dropped."""
    t = [l for l in out.splitlines() if l.startswith("|")]
    return [[c.strip() for c in l.strip("|").split("|")] for l in t[2:]]


def body(tmp):
    # ---- the edge cases
    r = run("gen", "tetris", "--edge-cases", "e.h5", cwd=tmp)
    check(r.returncode == 0 and os.path.isfile(os.path.join(tmp, "e.h5")), f"gen --edge-cases: {r.stderr}")
    if r.returncode != 0:
        return
    names = r.stderr[r.stderr.rfind("(") + 1:r.stderr.rfind(")")].split(",")
    check(len(names) >= 20 and len(set(names)) == len(names), f"20+ distinct names: {names}")
    for n in MUST:
        check(n in names, f"edge case {n} in {names}")
    check(not [f for f in os.listdir(tmp) if f.endswith(".part") or f.endswith(".tmp")], "no temp files left by gen")
    info = run("gen", "info", "e.h5", cwd=tmp)
    check(info.returncode == 0 and f"frames {len(names)}" in info.stdout and "ok" in info.stdout,
          f"gen info: one valid episode of {len(names)} frames: {info.stdout} {info.stderr}")
    r2 = run("gen", "tetris", "--edge-cases", "e2.h5", cwd=tmp)   # compared below (HDF5 stores times)
    check(r2.returncode == 0 and r2.stderr == r.stderr.replace("e.h5", "e2.h5"), f"gen --edge-cases again: {r2.stderr}")
    refused(run("gen", "tetris", "--edge-cases", cwd=tmp), "--edge-cases without a file", ["--edge-cases"])
    refused(run("gen", "tetris", "--edge-cases", "no/such/dir/e.h5", cwd=tmp), "--edge-cases into a missing folder")
    check(not os.path.exists(os.path.join(tmp, "no")), "nothing created for a failed gen")
    refused(run("gen", "tetris", "--edge-cases", "x.h5", "--sheet", "x.png", cwd=tmp), "--edge-cases with --sheet")

    # ---- no runs yet
    refused(run("eval", "--recon", "e.h5", cwd=tmp), "--recon with no runs/", ["runs/"])

    # ---- a tiny autoencoder run
    record(tmp, 4, 40, 5)
    name = f"edgetest_{os.getpid()}"
    write_config(tmp, CONFIG, name=name, data="d.h5")
    if not train(tmp, "tiny.ini"):
        return

    # ---- eval --recon with the default run and output
    r1 = run("eval", "--recon", "e.h5", cwd=tmp)
    check(r1.returncode == 0, f"eval --recon: {r1.stderr}")
    t = rows(r1.stdout)
    check(len(t) == len(names), f"one row per frame: {len(t)} rows for {len(names)} frames")
    check([row[1] for row in t] == names, f"rows named as the file's frames, in order: {[row[1] for row in t]}")
    try:
        vals = [(float(row[2]), float(row[3]), float(row[4]), float(row[6])) for row in t]
    except (ValueError, IndexError):
        vals = []
    check(len(vals) == len(names), f"numbers in every row: {t[:2]}")
    check(all(0 <= l1 <= 1 and -1 <= s <= 1 and 0 < p <= 100 for l1, s, p, _ in vals), f"metrics in range: {vals[:3]}")
    check(all(d > 0 for *_, d in vals), f"every frame differs from every other (closest L1 > 0): "
                                        f"{[(row[1], row[5], row[6]) for row in t if float(row[6] or 0) == 0]}")
    check("mean of" in r1.stdout, "mean line")
    png = os.path.join(tmp, "results", name, "recon_e.png")
    size = png_size(png) if os.path.isfile(png) else None
    check(size is not None and size[0] > 4 * 2 * 32 and size[1] > (len(names) // 4) * 32,
          f"default PNG results/<run>/recon_e.png with room for every pair: {size}")
    r2 = run("eval", "--recon", "e.h5", cwd=tmp)
    check(r2.returncode == 0 and r2.stdout == r1.stdout, "the same table twice")
    r2 = run("eval", "--recon", "e2.h5", "--out", "e2.png", cwd=tmp)
    check(r2.returncode == 0 and rows(r2.stdout) == t, "a second edge-case file gives the same frames (same table)")
    r3 = run("eval", "--recon=e.h5", "--run", os.path.join("runs", name), "--out", "mine.png", cwd=tmp)
    check(r3.returncode == 0 and r3.stdout == r1.stdout and png_size(os.path.join(tmp, "mine.png")) == size,
          f"--run DIR --out PNG: {r3.stderr}")

    # ---- bad input
    refused(run("eval", "--recon", "missing.h5", cwd=tmp), "missing file", ["missing.h5"])
    refused(run("eval", "--recon", cwd=tmp), "--recon without a file", ["--recon"])
    refused(run("eval", "--recon", "e.h5", "--steps", "1", cwd=tmp), "option --recon does not take", ["--steps"])
    refused(run("eval", "--recon", "e.h5", "--run", "nowhere", cwd=tmp), "--run of a missing folder", ["nowhere"])
    noae = os.path.join(tmp, "runs", "noae")
    os.makedirs(noae)
    shutil.copy(os.path.join(tmp, "runs", name, "config.ini"), noae)
    refused(run("eval", "--recon", "e.h5", "--run", noae, "--out", "x.png", cwd=tmp), "run without ae_best.h5",
        ["ae_best.h5"])
    refused(run("eval", "--recon", "tiny.ini", "--run", os.path.join("runs", name), "--out", "x.png", cwd=tmp),
        "not an HDF5 file", ["tiny.ini"])
    check(not os.path.exists(os.path.join(tmp, "x.png")), "no PNG from a failed --recon")


if __name__ == "__main__":
    sys.exit(run_in_tempdir(body, "nemu_edge_"))
