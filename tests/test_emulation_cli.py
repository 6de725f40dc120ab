#!/usr/bin/env python3
"""test_emulation_cli.py - ./eval's emulation measures end to end.

In a temp dir: records a small Tetris file with $NEMU_BIN/gen (which stores each episode's
replay seeds), trains a tiny stage=both run (40x40 grey, 1 epoch each), then checks:
  - gen tetris writes tetris_game_seed, tetris_player_seed, tetris_warmup_steps on every
    episode (h5py)
  - ./eval prints and saves the Emulation table (changed-pixel L1, dPSNR against other
    actions and no buttons, liveliness, piece L1 and drawn share) and the direction test
    with the engine as reference; eval.csv has the extra columns on every row; eval.json an
    "emulation" object with game_aware true, 9 rows and the direction test
  - the copy row's dPSNR is 0 and its liveliness 0; the engine passes the direction test
  - a file without the seeds (h5py deletes them; same frames): the game-aware measures are
    reported unavailable with the reason, the other measures still computed; with
    --replay-seeds of the original file they are available again
  - --direction-steps / --direction-starts are used, and a bad value is one error line
Skips the h5py parts when h5py is missing.
"""
import json
import os

from nemutest import check, have, record, run, run_in_tempdir, tiny_config, train, without_attrs, write_config

if have("the h5py parts", "h5py"):
    import h5py
else:
    h5py = None

CONFIG = tiny_config({"run": {"name": "emu", "seed": 5, "threads": 1},
                      "data": {"height": 40, "width": 40, "channels": 1, "test_episodes": 2, "val_split": None},
                      "train": {"lr": None, "epochs": 1}, "eval": {"steps": "1,5,12", "starts": 4}})


def body(tmp):
    data = record(tmp, 5, 120, 9)
    if h5py:
        with h5py.File(data, "r") as f:
            keys = ["tetris_game_seed", "tetris_player_seed", "tetris_warmup_steps"]
            check(all(k in f[f"episode_{e}"].attrs for e in range(5) for k in keys), "replay seeds on every episode")
    write_config(tmp, CONFIG, "emu.ini", data=data)
    if not train(tmp, "emu.ini"):
        return
    r = run("eval", "--run", "runs/emu", cwd=tmp)
    check(r.returncode == 0, f"eval: {r.stderr}")
    out = r.stdout
    check("## Emulation" in out and "### Direction test" in out, "emulation tables on stdout")
    check("unavailable" not in out, f"game-aware measures available: {r.stderr}")
    res = os.path.join(tmp, "results", "emu")
    with open(os.path.join(res, "eval.md")) as f:
        check(f.read() == out, "eval.md = stdout")
    rows = [l for l in out.splitlines() if l.startswith("| ") and l.count("|") == 11 and "step" not in l]
    check(len(rows) == 9, f"9 emulation rows, got {len(rows)}")
    copy5 = [l for l in rows if l.startswith("| 5 | copy |")]
    check(len(copy5) == 1 and "| 0.00 ± 0.00 | 0.00 ± 0.00 | 0.0000 ± 0.0000 |" in copy5[0], f"copy row: {copy5}")
    engine = [l for l in out.splitlines() if l.startswith("| LEFT |") or l.startswith("| RIGHT |") or l.startswith("| none |")]
    check(len(engine) == 3, "direction rows LEFT, RIGHT, none")
    with open(os.path.join(res, "eval.csv")) as f:
        csv = f.read().splitlines()
    head = csv[0].split(",")
    check(len(csv) == 10 and all(len(l.split(",")) == len(head) for l in csv), "csv: 9 rows of equal width")
    for col in ["changed_l1_mean", "dpsnr_other_ci95", "dpsnr_none_lo", "liveliness_mean", "liveliness_true_mean",
                "piece_l1_mean", "piece_drawn_share"]:
        check(col in head, f"csv column {col}")
    with open(os.path.join(res, "eval.json")) as f:
        js = json.load(f)
    em = js.get("emulation", {})
    check(em.get("game_aware") is True and len(em.get("rows", [])) == 9, "json emulation rows")
    dt = em.get("direction_test", {})
    check(dt.get("available") is True and dt.get("steps") == 12 and 0 < dt.get("starts", 0) <= 20,
          f"json direction test {dt}")
    if dt.get("available"):
        for d in ["left", "right", "down"]:
            check(dt[d]["engine"] >= dt["starts"] * 3 // 4, f"engine passes {d}: {dt[d]}")
    recon = [x for x in em.get("rows", []) if x["row"] == "recon" and x["step"] == 1]
    check(recon and recon[0]["piece_drawn_n"] > 0 and recon[0]["piece_drawn_share"] is not None,
          f"recon piece measure: {recon}")
    check(os.path.getsize(os.path.join(res, "rollouts.png")) > 1000, "rollouts.png")

    r = run("eval", "--run", "runs/emu", "--direction-steps", 6, "--direction-starts", 3, "--out", "o2", cwd=tmp)
    check(r.returncode == 0 and "hold LEFT, RIGHT or no button for 6 steps" in r.stdout, f"--direction-steps: {r.stderr}")
    with open(os.path.join(tmp, "o2", "eval.json")) as f:
        dt2 = json.load(f)["emulation"]["direction_test"]
    check(dt2.get("steps") == 6 and dt2.get("starts", 0) <= 3, f"--direction-starts 3: {dt2}")
    r = run("eval", "--run", "runs/emu", "--direction-steps", 0, cwd=tmp)
    check(r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1 and "--direction-steps" in r.stderr,
          f"bad --direction-steps: {r.stderr}")

    if not h5py:
        return
    # a file without the seeds: same frames, game-aware measures unavailable
    bare = without_attrs(tmp, data, 5, ["tetris_game_seed", "tetris_player_seed", "tetris_warmup_steps"])
    r = run("eval", "--run", "runs/emu", "--data", bare, "--out", "o3", cwd=tmp)
    check(r.returncode == 0, f"eval without seeds: {r.stderr}")
    check("piece and direction measures: unavailable" in r.stdout and "no replay seeds" in r.stdout,
          "unavailable with the reason")
    with open(os.path.join(tmp, "o3", "eval.json")) as f:
        em3 = json.load(f)["emulation"]
    check(em3["game_aware"] is False and em3["direction_test"]["available"] is False, "json: not game aware")
    check(all(x["piece_drawn_share"] is None for x in em3["rows"]), "no piece numbers")
    check(all(x["changed_l1"]["n"] > 0 for x in em3["rows"] if x["step"] == 12), "changed-pixel L1 still measured")
    # the seeds from another file with the same episodes: available again (frames checked)
    r = run("eval", "--run", "runs/emu", "--data", bare, "--replay-seeds", data, "--out", "o4", cwd=tmp)
    check(r.returncode == 0 and "unavailable" not in r.stdout, f"--replay-seeds: {r.stderr}")
    r = run("eval", "--run", "runs/emu", "--data", bare, "--replay-seeds", "nope.h5", "--out", "o5", cwd=tmp)
    check(r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1 and "--replay-seeds nope.h5" in r.stderr,
          f"missing --replay-seeds file: {r.stderr}")


if __name__ == "__main__":
    raise SystemExit(run_in_tempdir(body, "nemu_emu_"))
