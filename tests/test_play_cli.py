#!/usr/bin/env python3
"""test_play_cli.py - `./play` end to end: headless, the terminal in tmux, the window under Xvfb.

In a temp dir (the cwd of every command): records a tiny Tetris dataset with $NEMU_BIN/gen and
trains a tiny stage=both run with a VAE dynamics head (configs/tetris_quick.ini at 32x32 grey,
latent 8, 1 epoch each),
then checks:
  - --policy random --steps N --fps 0 with --gif, --csv and --png-dir: N+1 frames in each,
    the CSV's header, buttons and statistics, the achieved rate on stderr; the default start
    is frame 0 of the run's first test episode (split.txt)
  - --script (the `gen import` CSV, columns in any order): the CSV's buttons are the script's;
    T = 0 twice gives the same GIF byte for byte; T = 1 differs from T = 0 and repeats with the
    same --seed; another seed differs
  - --start FRAME.png and FILE.h5:EPISODE:STEP; --fps 30 keeps 30 frames/s (25..31)
  - bad input: one line on stderr, non-zero exit, no file written: unknown option, bad values,
    --policy without --steps, a missing or bad script, a bad start, an output folder that does
    not exist, a model with a NaN weight (names the file and the tensor; needs h5py), --term
    without a terminal, the window without a display or on one that is not there
  - --check on the run: check.md = stdout with the frame rate, direction, 60 s (its verdict: the
    trend, "frozen" below a quarter of the engine's motion) and replay
    sections (T = 0 identical; the VAE at T = 1 varies, its samples differ); curve.png,
    nearest.csv (1,801 steps, the model's and the game engine's columns), random.gif and
    engine.gif (the engine fed the same buttons from the start frame's state); --check with a
    headless option is refused
  - --term in a tmux pane (skipped without tmux): the frame in truecolor half blocks and the
    HUD line; space pauses, Backspace resets to step 0, P writes a screenshot, G says a run of one
    game has no game menu (test_play_menu.py: a run of several); Esc, Ctrl-C and
    SIGTERM each end it with the terminal restored (stty: icanon and echo back on)
  - the window under Xvfb (skipped without Xvfb, libXtst or an SDL2 build): keys through
    XTEST; P writes the screenshot PNG, space pauses (HUD), Esc quits; a screenshot of the
    screen shows the frame and the HUD strip
"""
import os
import shutil
import subprocess
import sys
import time

from nemutest import BIN, ROOT, check, have, run_in_tempdir, wait_for


def run(prog, *args, cwd, timeout=120, env=None):
    return subprocess.run([os.path.join(BIN, prog), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


def bad(r, what, words=(), tmp=None, before=None):
    lines = r.stderr.strip().splitlines()
    ok = r.returncode != 0 and len(lines) == 1 and all(w in r.stderr for w in words)
    check(ok, f"{what}: expected one error line containing {list(words)}, got rc {r.returncode}, "
              f"stderr {r.stderr!r}")
    if tmp is not None:
        check(sorted(os.listdir(tmp)) == before, f"{what}: no file written ({sorted(set(os.listdir(tmp)) - set(before))})")


# the tiny run: configs/tetris_quick.ini at 32x32 grey, latent 8, 1 epoch each, a VAE dynamics head
TINY = {"run.name": "playtest", "run.seed": 7, "run.threads": 1, "data.height": 32,
        "data.width": 32, "data.channels": 1, "data.test_episodes": 2, "model.latent_dim": 8,
        "model.base_channels": 4, "train.epochs": 1, "train.batch_size": 16, "dynamics.epochs": 1,
        "dynamics.type": "vae", "dynamics.beta": 0.001}


def gif_frames(path):
    from PIL import Image
    im = Image.open(path)
    return im.n_frames, im.size


def read_csv(path):
    with open(path) as f:
        return [l.rstrip("\n").split(",") for l in f]


def main():
    return run_in_tempdir(body, "nemu_play_", programs=("gen", "train", "play"))


def body(tmp):
    data = os.path.join(tmp, "d.h5")
    r = run("gen", "tetris", "--episodes", 6, "--steps", 40, "--seed", 3, "--out", data, cwd=tmp)
    check(r.returncode == 0, f"gen: {r.stderr}")
    name = TINY["run.name"]
    bad(run("play", "--policy", "idle", "--steps", 3, cwd=tmp), "no runs/ folder", ["runs/"])
    sets = [x for k, v in {**TINY, "data.path": data}.items() for x in ("--set", f"{k}={v}")]
    r = run("train", os.path.join(ROOT, "configs", "tetris_quick.ini"), *sets, cwd=tmp)
    check(r.returncode == 0, f"train: {r.stdout[-500:]} {r.stderr}")
    if r.returncode != 0:
        return
    headless(tmp, data)
    check_mode(tmp)
    bad_input(tmp, name)
    terminal(tmp)
    window(tmp)


def headless(tmp, data):
    N = 12
    r = run("play", "--policy", "random", "--steps", N, "--fps", 0, "--seed", 5, "--gif", "a.gif", "--csv", "a.csv",
            "--png-dir", "frames", "--scale", 2, cwd=tmp)
    check(r.returncode == 0, f"play --policy random: {r.stderr}")
    check("frames/s" in r.stderr and f"{N} steps" in r.stderr, f"achieved rate reported: {r.stderr!r}")
    with open(os.path.join(tmp, "runs", "playtest", "split.txt")) as f:
        first_test = [l.split()[1] for l in f if l.startswith("test:")][0]
    check(f"d.h5:{first_test}:0" in r.stderr, f"default start = first test episode {first_test}: {r.stderr!r}")
    rows = read_csv(os.path.join(tmp, "a.csv"))
    hdr = rows[0]
    check(hdr[:4] == ["step", "time_s", "fps", "buttons"] and hdr[-5:] == ["mean", "sd", "l1_prev", "hypothesis", "hyp_p"]
          and hdr[4:12] == ["A", "B", "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT"], f"csv header {hdr}")
    check(len(rows) == N + 2 and [int(x[0]) for x in rows[1:]] == list(range(N + 1)), f"csv rows {len(rows)}")
    ok = all(0 <= float(x[12]) <= 1 and float(x[13]) >= 0 and float(x[14]) >= 0 for x in rows[1:])
    check(ok, "csv statistics in range")
    check(all(x[15:] == ["", ""] for x in rows[1:]), "csv: no hypothesis column values for one delta a step")
    held = [x[3] for x in rows[1:]]
    check(held[0] == "-" and all(h in ("-", "LEFT", "RIGHT", "DOWN", "A", "B") for h in held),
          f"random policy buttons {held}")
    check(all(x[3] == ("+".join(hdr[4 + i] for i in range(8) if x[4 + i] == "1") or "-") for x in rows[1:]),
          "buttons column = 0/1 columns")
    pngs = sorted(os.listdir(os.path.join(tmp, "frames")))
    check(pngs == [f"frame_{i:06d}.png" for i in range(N + 1)], f"png frames {pngs[:3]}...")
    if have("GIF frames", "PIL"):
        n, size = gif_frames(os.path.join(tmp, "a.gif"))
        check(n == N + 1 and size == (64, 64), f"gif has {N + 1} frames of 64x64: {n} {size}")
        from PIL import Image
        im = Image.open(os.path.join(tmp, "frames", "frame_000003.png"))
        check(im.size == (64, 64) and im.mode == "L", f"png frame {im.size} {im.mode}")

    # a script, columns in another order than the model's
    script = os.path.join(tmp, "s.csv")
    moves = ["LEFT", "LEFT", "", "RIGHT", "DOWN", "A", "", "RIGHT"]
    with open(script, "w") as f:
        f.write("RIGHT,LEFT,DOWN,A\n")
        for m in moves:
            f.write(",".join("1" if m == b else "0" for b in ("RIGHT", "LEFT", "DOWN", "A")) + "\n")
    args = ["--script", script, "--fps", 0]
    r0 = run("play", *args, "--gif", "t0.gif", "--csv", "t0.csv", cwd=tmp)
    check(r0.returncode == 0, f"play --script: {r0.stderr}")
    rows = read_csv(os.path.join(tmp, "t0.csv"))
    check([x[3] for x in rows[2:]] == [m or "-" for m in moves], f"script buttons {[x[3] for x in rows[2:]]}")
    run("play", *args, "--gif", "t0b.gif", cwd=tmp)
    run("play", *args, "--temperature", 1, "--seed", 2, "--gif", "t1.gif", cwd=tmp)
    run("play", *args, "--temperature", 1, "--seed", 2, "--gif", "t1b.gif", cwd=tmp)
    run("play", *args, "--temperature", 1, "--seed", 3, "--gif", "t1c.gif", cwd=tmp)
    g = {k: open(os.path.join(tmp, k + ".gif"), "rb").read() for k in ("t0", "t0b", "t1", "t1b", "t1c")}
    check(g["t0"] == g["t0b"], "T = 0 replays the script identically")
    check(g["t1"] == g["t1b"], "T = 1 with the same seed repeats")
    check(g["t1"] != g["t0"] and g["t1"] != g["t1c"], "T = 1 differs from T = 0 and between seeds")

    # other starts
    r = run("play", "--start", "frames/frame_000003.png", "--policy", "idle", "--steps", 2, "--fps", 0, cwd=tmp)
    check(r.returncode == 0 and "frame_000003.png" in r.stderr, f"--start PNG: {r.stderr}")
    r = run("play", "--start", f"{data}:4:7", "--policy", "idle", "--steps", 2, "--fps", 0, cwd=tmp)
    check(r.returncode == 0 and "d.h5:4:7" in r.stderr, f"--start FILE:EP:STEP: {r.stderr}")
    t0 = time.monotonic()
    r = run("play", "--policy", "idle", "--steps", 15, "--fps", 30, cwd=tmp)
    dt = time.monotonic() - t0
    rate = float(r.stderr.split("frames/s")[0].split()[-1]) if "frames/s" in r.stderr else 0
    check(r.returncode == 0 and 25 <= rate <= 31 and dt >= 0.45, f"--fps 30: {rate} frames/s, {dt:.2f} s: {r.stderr}")


def check_mode(tmp):
    r = run("play", "--check", "--run", "runs/playtest", "--check-frames", 200, "--out", "chk", cwd=tmp, timeout=300)
    check(r.returncode == 0, f"play --check: {r.stderr[-500:]}")
    if r.returncode != 0:
        return
    out = os.path.join(tmp, "chk")
    with open(os.path.join(out, "check.md")) as f:
        md = f.read()
    check(md == r.stdout, "check.md = stdout")
    for part in ("## Frame rate", "--fps 30, 90 steps", "## LEFT / RIGHT / gravity", "## 60 s of --policy random",
                 "among 200 frames", "## Replay", "identical, bit for bit", "varies", "samples differ"):
        check(part in md, f"check.md has {part!r}")
    with open(os.path.join(out, "nearest.csv")) as f:
        rows = f.read().splitlines()
    check(rows[0] == "step,time_s,ssim_nearest,l1_nearest,engine_ssim_nearest,engine_l1_nearest" and len(rows) == 1802,
          f"nearest.csv {len(rows)} lines, the engine's columns: {rows[0]}")
    check(all(-1 <= float(x.split(",")[k]) <= 1 for x in rows[1:] for k in (2, 4)), "nearest.csv SSIM in range")
    # the engine fed the same buttons from the start frame's state: frame 0 is the start frame itself
    check("| the game's engine, same buttons (reference) |" in md and float(rows[1].split(",")[4]) > 0.999,
          f"check.md has the engine's row, its step 0 a real frame: {rows[1]}")
    # the minute's verdict: the trend (last 10 s >= first 10 s - 0.02), and "frozen" when the model
    # holds it with less than a quarter of the engine's motion
    def row(name):
        cells = next(x for x in md.splitlines() if x.startswith(f"| {name} |")).split("|")[2:-1]
        return float(cells[0]), float(cells[1]), float(cells[5]), cells[6].strip()
    (f0, l0, m0, v0), (_, _, me, ve) = row("the model"), row("the game's engine, same buttons (reference)")
    want = ("**no**" if l0 < f0 - 0.02 else
            f"yes, but **frozen** (motion {100 * m0 / me:.0f}% of the engine's)" if m0 < 0.25 * me else "yes")
    check(v0 == want and ve in ("yes", "**no**"), f"the minute's verdict {v0!r} (want {want!r}; motion {m0} against "
          f"the engine's {me}), the engine's {ve!r}")
    with open(os.path.join(out, "curve.png"), "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "curve.png is a PNG")
    if have("random.gif frames", "PIL"):
        n, size = gif_frames(os.path.join(out, "random.gif"))
        check(n == 1801 and size == (64, 64), f"random.gif: 1801 frames of 64x64: {n} {size}")
        n, size = gif_frames(os.path.join(out, "engine.gif"))
        check(n == 1801 and size == (64, 64), f"engine.gif: 1801 frames of 64x64: {n} {size}")
    bad(run("play", "--check", "--policy", "idle", "--steps", 2, cwd=tmp), "--check with --policy", ["--check"])
    bad(run("play", "--out", "x", "--policy", "idle", "--steps", 2, cwd=tmp), "--out without --check", ["--check"])


def bad_input(tmp, name):
    with open(os.path.join(tmp, "bad.csv"), "w") as f:
        f.write("LEFT,TURBO\n0,1\n")
    with open(os.path.join(tmp, "empty.csv"), "w") as f:
        f.write("LEFT,RIGHT\n")
    before = sorted(os.listdir(tmp))
    cases = [
        (["--bogus"], ["unknown option"]),
        (["--policy", "random"], ["--steps"]),
        (["--policy", "walk", "--steps", 3], ["random or idle"]),
        (["--policy", "idle", "--steps", 0], ["--steps"]),
        (["--policy", "idle", "--steps", 3, "--fps", -1], ["--fps"]),
        (["--policy", "idle", "--steps", 3, "--scale", "x"], ["--scale"]),
        (["--script", "nope.csv", "--gif", "o.gif"], ["nope.csv"]),
        (["--script", "bad.csv", "--gif", "o.gif"], ["TURBO"]),
        (["--script", "empty.csv", "--gif", "o.gif"], ["no rows"]),
        (["--script", "bad.csv", "--policy", "idle", "--steps", 2], ["one"]),
        (["--gif", "o.gif"], ["headless"]),
        (["--policy", "idle", "--steps", 2, "--start", "missing.png", "--gif", "o.gif"], ["missing.png"]),
        (["--policy", "idle", "--steps", 2, "--start", "d.h5:99", "--gif", "o.gif"], ["episode_99"]),
        (["--policy", "idle", "--steps", 2, "--start", "d.h5:1:999", "--gif", "o.gif"], ["STEP"]),
        (["--policy", "idle", "--steps", 2, "--gif", "nodir/o.gif", "--csv", "o.csv"], ["nodir/o.gif"]),
        (["--policy", "idle", "--steps", 2, "--run", "runs/none"], ["runs/none"]),
    ]
    for args, words in cases:
        bad(run("play", *args, cwd=tmp), " ".join(map(str, args)), words, tmp, before)
    # the interactive modes without their screen, before the model is loaded
    bad(run("play", "--term", cwd=tmp), "--term without a terminal", ["--term needs a terminal"], tmp, before)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    bad(run("play", cwd=tmp, env=env), "the window without a display", ["window"], tmp, before)
    bad(run("play", cwd=tmp, env={**env, "DISPLAY": ":9999"}), "the window on a display that is not there",
        ["window"], tmp, before)
    if have("non-finite model", "h5py", "numpy"):
        import h5py
        import numpy as np
        src = os.path.join(tmp, "runs", name)
        dst = os.path.join(tmp, "runs", "nan")
        shutil.copytree(src, dst)
        with h5py.File(os.path.join(dst, "dyn_best.h5"), "r+") as f:
            names = []
            f["state_dict"].visit(lambda n: names.append(n) if isinstance(f["state_dict"][n], h5py.Dataset) else None)
            w = f["state_dict"][names[0]]
            a = w[...]
            a.flat[1] = np.nan
            w[...] = a
        before = sorted(os.listdir(tmp))
        bad(run("play", "--run", dst, "--policy", "idle", "--steps", 2, "--gif", "o.gif", cwd=tmp), "NaN weight",
            ["dyn_best.h5", names[0], "non-finite"], tmp, before)
        shutil.rmtree(dst)


def tmux(*args):
    return subprocess.run(["tmux", "-L", f"nemu{os.getpid()}", *args], capture_output=True, text=True, timeout=20)


def pane(esc=False):
    return tmux("capture-pane", "-t", "play", "-p", *(["-e"] if esc else [])).stdout


def terminal(tmp):
    if not shutil.which("tmux"):
        print("skipped: --term in tmux: needs tmux")
        return
    play = os.path.join(BIN, "play")
    tmux("new-session", "-d", "-s", "play", "-x", "100", "-y", "40", "-c", tmp, "bash --norc --noprofile")
    try:
        for how in ("Escape", "C-c", "TERM"):
            stty = os.path.join(tmp, f"stty_{how}.txt")
            pidf = os.path.join(tmp, "play.pid")
            tmux("send-keys", "-t", "play", f"clear; {play} --term --run runs/playtest --shot-dir {tmp} & echo $! > {pidf}; fg; "
                 f"echo EXIT=$?; stty -a > {stty}", "Enter")
            up = wait_for(lambda: "step" in pane() and "\u2580" in pane())
            check(up, f"--term draws half blocks and the HUD ({how}): {pane()[-300:]!r}")
            if how == "Escape":
                esc = pane(esc=True)
                check("38;2;" in esc and "48;2;" in esc, "--term: 24-bit colours")
                hud = [l for l in pane().splitlines() if "fps" in l]
                check(len(hud) == 1 and "step" in hud[0] and "T " in hud[0], f"HUD line {hud}")
                tmux("send-keys", "-t", "play", "Space")
                check(wait_for(lambda: "PAUSED" in pane()), "space pauses")
                tmux("send-keys", "-t", "play", "BSpace")
                check(wait_for(lambda: "step 0 " in pane() and "reset" in pane()), f"Backspace resets: {pane()[-200:]!r}")
                tmux("send-keys", "-t", "play", "p")
                check(wait_for(lambda: "saved" in pane()), "P saves a screenshot")
                shots = [f for f in os.listdir(tmp) if f.startswith("play_playtest_") and f.endswith(".png")]
                check(len(shots) == 1, f"screenshot file {shots}")
                tmux("send-keys", "-t", "play", "g")
                check(wait_for(lambda: "no game menu" in pane()), "G on a run of one game: no menu")
                tmux("send-keys", "-t", "play", "Escape")
            elif how == "C-c":
                tmux("send-keys", "-t", "play", "C-c")
            else:
                with open(pidf) as f:
                    os.kill(int(f.read()), 15)
            done = wait_for(lambda: os.path.exists(stty) and os.path.getsize(stty) > 0)
            time.sleep(0.2)
            check(done, f"--term ended on {how}")
            if done:
                time.sleep(0.2)
                with open(stty) as f:
                    words = f.read().split()
                check("icanon" in words and "echo" in words, f"terminal restored after {how}")
                code = {"Escape": "EXIT=0", "C-c": "EXIT=130", "TERM": "EXIT=143"}[how]
                check(code in pane(), f"{how}: {code}: {pane()[-300:]!r}")
    finally:
        tmux("kill-server")


def window(tmp):
    import ctypes.util
    have_x = shutil.which("Xvfb") and ctypes.util.find_library("Xtst") and ctypes.util.find_library("X11")
    if not have_x:
        print("skipped: the window under Xvfb: needs xvfb, libxtst6")
        return
    if not have("the window's screenshot", "PIL"):
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from xkeys import Keys, open_window, screenshot, xvfb
    with xvfb() as disp:
        shots = os.path.join(tmp, "wshots")
        os.mkdir(shots)
        p = open_window(["--run", "runs/playtest", "--scale", "8", "--shot-dir", shots], tmp, disp, "the window")
        if not p:
            return
        k = Keys(disp)
        k.move(320, 240)
        k.key("Left", 0.3)
        k.key("space")
        time.sleep(0.3)
        k.key("p")
        time.sleep(0.5)
        png = os.path.join(tmp, "screen.png")
        screenshot(k, 640, 480, png)
        k.key("Escape")
        try:
            _, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        check(p.returncode == 0 and "frames/s" in err, f"window: Esc quits, rate reported: {p.returncode} {err!r}")
        files = os.listdir(shots)
        check(len(files) == 1 and files[0].endswith(".png"), f"P wrote a screenshot: {files}")
        from PIL import Image
        if files:
            im = Image.open(os.path.join(shots, files[0]))
            check(im.size == (256, 256), f"screenshot 32x32 at scale 8: {im.size}")
        im = Image.open(png).convert("L")
        # the window (256 x 256 + HUD) centred on the 640x480 screen: the frame is not flat, the
        # HUD strip under it holds white text on black
        x0, y0 = (640 - 256) // 2, (480 - 256 - 24) // 2
        frame = im.crop((x0, y0, x0 + 256, y0 + 256))
        lo, hi = frame.getextrema()
        check(hi - lo > 40, f"the frame is drawn on the screen (range {lo}..{hi})")
        hud = im.crop((x0, y0 + 256, x0 + 256, y0 + 256 + 12))
        white = sum(1 for v in hud.getdata() if v > 200)
        check(white > 50, f"the HUD text is drawn under the frame ({white} white pixels)")


if __name__ == "__main__":
    sys.exit(main())
