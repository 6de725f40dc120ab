#!/usr/bin/env python3
"""test_multi_cli.py - several games in one config (roadmap 5.3), end to end on tiny recordings
of the three built-in games (`./gen tetris/scroller/maze --episodes 3 --steps 20`, seconds):

  1. a config whose data.path lists the three files trains one epoch of both stages: the data
     line per game, a split.txt section per file (each file's own test episode), and both
     checkpoints record the games in order (root attribute games); the dynamics takes the
     8 buttons and 3 game columns (n_actions 11);
  2. ./eval reports each game: a folder per game with its own tables, where the game-aware
     measures of that game are available, and a summary table with every game at every step;
     ./eval --game NAME evaluates one game; a name not in the run, --data without --game and
     --game on a run of one game are refused in one line;
  3. ./play --run DIR --game NAME plays one game of the run (headless, its own start frame);
     headless without --game or with a name not in the run: one line;
  3b. ./play --check --game NAME measures that game: its file, its test episodes, its column (the 60 s
     of random buttons are the frames `./play --game NAME --policy random` draws, not another game's),
     into results/<run>/<game>/play_check/; without --game: one line;
  3c. ./export --game NAME compiles the game's column in as a constant: the header names the game and
     its ./eval results, the step takes the 8 buttons; compiled, `./export --game NAME --check` matches
     nemu's model of that game to float rounding, and differs from nemu's model of another game;
     without --game, with a name not in the run, and --game on a run of one game: one line;
  4. bad configs are refused in one line before any work or file: a generate list of the
     wrong length, one game for several files, a file listed twice, files whose buttons differ.
"""
import os
import subprocess

from nemutest import check, have, refused, run, run_in_tempdir

CONFIG = """[run]
name = {name}
seed = 3
threads = 1
[data]
path = {path}
generate = {generate}
height = 32
width = 32
channels = 3
test_episodes = 1
val_split = 0.34
[model]
latent = spatial
latent_channels = 4
stages = 2
base_channels = 4
[train]
stage = both
epochs = 1
batch_size = 8
[dynamics]
hidden = 8
blocks = 1
rollout_steps = 2
[eval]
steps = 1,5
"""
GAMES = ["tetris", "scroller", "maze"]


def write(tmp, name, path, generate="none"):
    p = os.path.join(tmp, name + ".ini")
    with open(p, "w") as f:
        f.write(CONFIG.format(name=name, path=path, generate=generate))
    return p


def check_checkpoints(tmp):
    try:
        import h5py
    except ImportError:
        print("skipped: the checkpoints' attributes (python3-h5py not installed)")
        return
    for ck in ("ae_best.h5", "dyn_best.h5"):
        with h5py.File(os.path.join(tmp, "runs", "multi", ck), "r") as f:
            g = f.attrs.get("games")
            g = g.decode() if isinstance(g, bytes) else g
            check(g == "tetris,scroller,maze", f"{ck} records the games in order: {g!r}")
            if ck == "dyn_best.h5":
                check(int(f.attrs["n_actions"]) == 11, f"the dynamics takes 8 buttons + 3 games: {f.attrs['n_actions']}")


def summary_matches_games(res, rows):
    """Each row of the summary eval.csv holds the numbers of its game's own eval.csv (model, copy and recon
    rows: ssim_mean, ssim_ci95, l1_mean), character for character."""
    ok = True
    for line in rows[1:]:
        c = line.split(",")
        with open(os.path.join(res, c[0], "eval.csv")) as f:
            own = [l.split(",") for l in f.read().splitlines()]
        h = own[0]
        for k, kind in enumerate(("model", "copy", "recon")):
            row = [x for x in own[1:] if x[0] == c[1] and x[1] == kind][0]
            want = [row[h.index("ssim_mean")], row[h.index("ssim_ci95")], row[h.index("l1_mean")]]
            ok &= [c[2 + 2 * k], c[3 + 2 * k], c[8 + k]] == want
    check(ok and len(rows) == 7, f"the summary's numbers are each game's own ({res})")


def gif_frames(path):
    from PIL import Image
    im = Image.open(path)
    out = []
    for i in range(im.n_frames):
        im.seek(i)
        out.append(im.convert("RGB").tobytes())
    return out


def play_check(tmp):
    r = run("play", "--check", "--run", "runs/multi", "--game", "maze", "--check-frames", 50, cwd=tmp)
    if not check(r.returncode == 0, f"play --check --game maze: {r.stderr[-400:]}"):
        return
    out = os.path.join(tmp, "results", "multi", "maze", "play_check")
    check(os.path.exists(os.path.join(out, "check.md")), "play --check --game maze writes results/multi/maze/play_check/")
    check("game maze (3 of 3" in r.stdout and "maze.h5" in r.stdout and "tetris.h5" not in r.stdout,
          f"the report is on the maze's file: {r.stdout[:400]!r}")
    check("| LEFT | 4 |" in r.stdout, "the maze's own direction test runs (its game column set)")
    refused(run("play", "--check", "--run", "runs/multi", "--game", "pong", cwd=tmp), "play --check --game pong",
            ["--game pong", "tetris, scroller, maze"])
    if not have("the 60 s frames against ./play --policy random", "PIL"):
        return
    got = gif_frames(os.path.join(out, "random.gif"))
    same = {}
    for g in ("maze", "scroller"):
        r = run("play", "--run", "runs/multi", "--game", g, "--policy", "random", "--steps", 1800, "--seed", 1, "--fps", 0,
                "--scale", 2, "--gif", g + "_1800.gif", cwd=tmp)
        if check(r.returncode == 0, f"play --game {g} --policy random --steps 1800: {r.stderr}"):
            same[g] = gif_frames(os.path.join(tmp, g + "_1800.gif")) == got
    check(len(got) == 1801 and same.get("maze") is True and same.get("scroller") is False,
          f"--check's 60 s are the maze's frames (1801: {len(got)}; same as maze: {same.get('maze')}, as scroller: "
          f"{same.get('scroller')})")


def check_result(out):
    """The `result key=value ...` line of ./export --check, as a dict of floats."""
    line = [l for l in out.splitlines() if l.startswith("result ")]
    return {k: float(v) for k, v in (w.split("=") for w in line[0].split()[1:])} if line else {}


def export(tmp):
    refused(run("export", "--run", "runs/multi", "--out", "exp", cwd=tmp), "export of a run of several games",
            ["run of 3 games", "--game NAME"])
    refused(run("export", "--run", "runs/multi", "--game", "pong", "--out", "exp", cwd=tmp), "export --game pong",
            ["--game pong", "tetris, scroller, maze"])
    check(not os.path.exists(os.path.join(tmp, "exp")), "export wrote nothing")
    r = run("export", "--run", "runs/multi", "--game", "maze", "--out", "exp", "--name", "emu", cwd=tmp)
    if not check(r.returncode == 0, f"export --game maze: {r.stderr}"):
        return
    with open(os.path.join(tmp, "exp", "emu.h")) as f:
        h = f.read()
    with open(os.path.join(tmp, "exp", "emu.c")) as f:
        c = f.read()
    check('#define EMU_GAME "maze"' in h and "#define EMU_BUTTONS 8\n" in h and "maze.h5, 32x32x3" in h,
          "the header: the game, 8 buttons, the maze's file")
    check("results/multi/maze/eval.csv, model rows" in h, "the header carries the maze's ./eval results")
    check("a[8 + g] = (unsigned char)(g == 2);" in c, "the step sets the maze's column (game 3 of 3)")
    so = os.path.join(tmp, "exp", "emu.so")
    cc = subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-O2", "-shared", "-fPIC",
                         os.path.join(tmp, "exp", "emu.c"), "-o", so, "-lm"], capture_output=True, text=True)
    if not check(cc.returncode == 0, f"the maze's file compiles -pedantic -Werror: {cc.stderr[-400:]}"):
        return
    res = {}
    for g in ("maze", "scroller"):
        r = run("export", "--run", "runs/multi", "--game", g, "--check", so, "--name", "emu", "--steps", 15, cwd=tmp)
        check(r.returncode == 0, f"export --game {g} --check: {r.stderr}")
        res[g] = check_result(r.stdout)
    m, s = res["maze"].get("rollout_max", 1), res["scroller"].get("rollout_max", 0)
    check(m < 1e-5 and res["maze"].get("round_trip_max", 1) < 1e-5,
          f"the exported maze matches nemu's maze to float rounding: {res['maze']}")
    check(s > 10 * m + 1e-5, f"... and not nemu's scroller (another game column): {s:.3g} against {m:.3g}")


def record_games(tmp):
    """Tiny recordings of the three games (3 episodes x 20 steps) in tmp; their paths."""
    files = []
    for g in GAMES:
        p = os.path.join(tmp, g + ".h5")
        r = run("gen", g, "--episodes", 3, "--steps", 20, "--out", p, cwd=tmp)
        check(r.returncode == 0, f"gen {g}: {r.stderr}")
        files.append(p)
    return files


def body(tmp):
    files = record_games(tmp)
    cfg = write(tmp, "multi", ", ".join(files))
    r = run("train", cfg, cwd=tmp)
    if not check(r.returncode == 0, f"train on three games: {r.stderr[-600:]}"):
        return
    for i, g in enumerate(GAMES):
        check(f"game {i}: {g} ({files[i]}), 3 episodes" in r.stdout, f"train names game {i}: {g}")
    with open(os.path.join(tmp, "runs", "multi", "split.txt")) as f:
        split = f.read()
    check(split.count("\ntest: ") == 3 and all(f"(game {g})" in split for g in GAMES),
          f"split.txt has a section per file:\n{split}")
    check_checkpoints(tmp)

    r = run("eval", "--run", "runs/multi", cwd=tmp)
    if check(r.returncode == 0, f"eval of three games: {r.stderr[-600:]}"):
        res = os.path.join(tmp, "results", "multi")
        for g in GAMES:
            check(os.path.exists(os.path.join(res, g, "eval.md")) and os.path.exists(os.path.join(res, g, "rollouts.png")),
                  f"eval writes results/multi/{g}/")
            for step in (1, 5):
                check(f"| {g} | {step} |" in r.stdout, f"the summary has {g} at step {step}")
            with open(os.path.join(res, g, "eval.md")) as f:
                md = f.read()
            check(g + ".h5" in md, f"{g}'s tables are on its own file")
        check("game-aware measures unavailable" not in r.stderr, f"each game's own measures: {r.stderr[-400:]}")
        with open(os.path.join(res, "eval.csv")) as f:
            rows = f.read().splitlines()
        check(len(rows) == 1 + 3 * 2 and rows[0].startswith("game,step,model_ssim"), f"summary eval.csv: {rows[:3]}")
        summary_matches_games(res, rows)
        r2 = run("eval", "--run", "runs/multi", cwd=tmp)
        check(r2.stdout == r.stdout, "the same command prints the same tables")
    # one start point: no interval; the summary shows the means alone, as each game's eval.md
    r = run("eval", "--run", "runs/multi", "--starts", 1, "--episodes", 1, "--out", "one_start", cwd=tmp)
    if check(r.returncode == 0, f"eval with one start point per game: {r.stderr[-300:]}"):
        with open(os.path.join(tmp, "one_start", "eval.csv")) as f:
            rows = f.read().splitlines()
        check(len(rows) == 7 and rows[1].split(",")[3] == "", f"no interval in the summary's CSV: {rows[:2]}")
        table = [l for l in r.stdout.split("games, each on its own")[-1].splitlines() if l.startswith("| tetris |")]
        check(len(table) == 2 and "±" not in "".join(table), f"the summary table: means alone: {table}")
        summary_matches_games(os.path.join(tmp, "one_start"), rows)
    r = run("eval", "--run", "runs/multi", "--game", "maze", "--out", "one", cwd=tmp)
    check(r.returncode == 0 and os.path.exists(os.path.join(tmp, "one", "eval.md")) and "maze.h5" in r.stdout,
          f"eval --game maze: {r.stderr[-300:]}")
    refused(run("eval", "--run", "runs/multi", "--game", "pong", cwd=tmp), "--game not in the run",
            ["--game pong", "tetris, scroller, maze"])
    refused(run("eval", "--run", "runs/multi", "--data", files[2], cwd=tmp), "--data without --game", ["--game NAME"])
    refused(run("play", "--run", "runs/multi", "--policy", "idle", "--steps", 2, "--gif", "x.gif", cwd=tmp),
            "play of a run of several games without --game", ["run of 3 games", "--game NAME"])
    check(not os.path.exists(os.path.join(tmp, "x.gif")), "play wrote nothing")
    refused(run("play", "--run", "runs/multi", "--game", "pong", "--policy", "idle", "--steps", 2, "--gif", "x.gif",
                cwd=tmp), "play of a game not in the run", ["--game pong", "tetris, scroller, maze"])
    refused(run("play", "--run", "runs/multi", "--check", cwd=tmp), "play --check of a run of several games",
            ["run of 3 games", "--game NAME"])
    for g in GAMES:
        r = run("play", "--run", "runs/multi", "--game", g, "--policy", "random", "--steps", 5, "--fps", 0, "--csv",
                g + ".csv", "--gif", g + ".gif", cwd=tmp)
        ok = check(r.returncode == 0 and os.path.exists(os.path.join(tmp, g + ".gif")), f"play --game {g}: {r.stderr}")
        if ok:
            check(f"{g}.h5:" in r.stderr, f"play --game {g} starts from {g}'s file: {r.stderr}")
            with open(os.path.join(tmp, g + ".csv")) as f:
                head = f.readline()
            check(head.count(",") == 16 and "RIGHT,mean" in head, f"the CSV has the 8 buttons, not the games: {head}")
    play_check(tmp)
    export(tmp)

    # a run of one game: --game is refused
    one = write(tmp, "single", files[1])
    if check(run("train", one, cwd=tmp).returncode == 0, "train on one game"):
        refused(run("eval", "--run", "runs/single", "--game", "scroller", cwd=tmp), "--game on one game", ["run of one game"])
        refused(run("export", "--run", "runs/single", "--game", "scroller", "--out", "exp1", cwd=tmp),
                "export --game on one game", ["run of one game"])

    # bad configs: one line, nothing written
    six = os.path.join(tmp, "six")
    os.makedirs(six)
    from_png = os.path.join(tmp, "results", "multi", "tetris", "rollouts.png")
    for i in range(3):
        os.link(from_png, os.path.join(six, f"f{i}.png"))
    with open(os.path.join(tmp, "six.csv"), "w") as f:
        f.write("A,B,UP,DOWN,LEFT,RIGHT\n1,0,0,0,0,0\n0,1,0,0,0,0\n")
    r = run("gen", "import", "--frames", six, "--actions", os.path.join(tmp, "six.csv"), "--out", "six.h5", cwd=tmp)
    check(r.returncode == 0, f"gen import of a 6-button file: {r.stderr}")
    bad = [("badlist", ", ".join(files), "tetris, maze", ["names 2 games", "3 files"]),
           ("onegame", ", ".join(files), "tetris", ["names one game for the 3 files"]),
           ("twice", f"{files[0]}, {files[0]}", "none", ["listed twice"]),
           ("buttons", f"{files[0]}, six.h5", "none", ["six.h5 has 6 buttons", "same buttons"]),
           ("missing", f"{files[0]}, nothere.h5", "none", ["nothere.h5", "file 2 of data.path"])]
    for name, path, gen, words in bad:
        refused(run("train", write(tmp, name, path, gen), cwd=tmp), f"config {name}", words)
        check(not os.path.exists(os.path.join(tmp, "runs", name)), f"config {name}: no run folder")


if __name__ == "__main__":
    raise SystemExit(run_in_tempdir(body, "nemu_multi_", programs=("gen", "train", "eval", "play", "export")))
