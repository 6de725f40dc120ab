"""test_gen_cli.py - ./gen tetris, the other built-in games and ./gen import end to end, checked with h5py and PIL.

Skips (0 passed, 0 failed) when numpy, h5py or PIL is missing. Uses $NEMU_BIN/gen
(set by tests/run.sh), else build/release/bin/gen.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nemutest import need  # noqa: E402

need("h5py", "numpy", "PIL.Image")
import h5py  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = os.environ.get("NEMU_ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GEN = os.path.join(os.environ.get("NEMU_BIN", os.path.join(ROOT, "build/release/bin")), "gen")
passed = failed = 0


def expect(cond, msg):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {msg}")


def gen(*args):
    return subprocess.run([GEN, *args], capture_output=True, text=True, timeout=120)


def expect_error(res, out, what):
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    expect(res.returncode != 0, f"{what}: non-zero exit (got {res.returncode})")
    expect(len(lines) == 1, f"{what}: one line on stderr, got {res.stderr!r}")
    expect(not os.path.exists(out) and not os.path.exists(out + ".tmp"), f"{what}: no output file left")
    return lines[0] if lines else ""


def test_tetris(tmp):
    a, b, c = (os.path.join(tmp, n) for n in ("a.h5", "b.h5", "c.h5"))
    for path, seed in ((a, "5"), (b, "5"), (c, "6")):
        r = gen("tetris", "--episodes", "3", "--steps", "20", "--seed", seed, "--frame-skip", "2", "--out", path)
        expect(r.returncode == 0, f"gen tetris seed {seed}: {r.stderr}")
    if not os.path.exists(a):
        return
    with h5py.File(a, "r") as f, h5py.File(b, "r") as g, h5py.File(c, "r") as h:
        expect(int(f.attrs["total_episodes"]) == 3, "total_episodes 3")
        expect(int(f.attrs["total_steps"]) == 60, "total_steps 60")
        names = f.attrs["action_names"]
        names = names.decode() if isinstance(names, bytes) else str(names)
        expect(names == "A,B,SELECT,START,UP,DOWN,LEFT,RIGHT", f"action_names {names!r}")
        game = f.attrs["game"]
        expect((game.decode() if isinstance(game, bytes) else str(game)) == "tetris", "game attr")
        expect(int(f.attrs["frame_skip"]) == 2, "frame_skip attr")
        same = differ = True
        for i in range(3):
            e = f[f"episode_{i}"]
            obs, act = e["observations"], e["actions"]
            expect(obs.shape == (21, 240, 256, 3) and obs.dtype == np.uint8, f"ep {i} observations {obs.shape} {obs.dtype}")
            expect(act.shape == (20, 8) and act.dtype == np.uint8, f"ep {i} actions {act.shape} {act.dtype}")
            expect(set(np.unique(act[:]).tolist()) <= {0, 1}, f"ep {i} actions are 0/1")
            for k in ("rewards", "terminations", "truncations"):
                expect(e[k].shape == (20,), f"ep {i} {k} shape {e[k].shape}")
            o = obs[:]
            expect(any((o[t] != o[t + 1]).any() for t in range(20)), f"ep {i} frames change over time")
            same &= np.array_equal(o, g[f"episode_{i}/observations"][:]) and np.array_equal(
                act[:], g[f"episode_{i}/actions"][:])
            differ &= not np.array_equal(o, h[f"episode_{i}/observations"][:])
        expect(same, "same seed: identical observations and actions")
        expect(differ, "different seed: different observations")

    bad = os.path.join(tmp, "bad.h5")
    expect_error(gen("tetris", "--episodes", "0", "--out", bad), bad, "--episodes 0")
    expect_error(gen("tetris", "--steps", "x", "--out", bad), bad, "--steps x")
    expect_error(gen("tetris", "--bogus", "--out", bad), bad, "unknown option")

    sheet = os.path.join(tmp, "sheet.png")
    r = gen("tetris", "--sheet", sheet, "--seed", "1")
    expect(r.returncode == 0 and os.path.exists(sheet), f"--sheet: {r.stderr}")
    if os.path.exists(sheet):
        im = Image.open(sheet)
        expect(im.size == (1024, 960), f"sheet is 4x4 frames: {im.size}")


GAMES = {"scroller": ("scroller_game_seed", "scroller_bot_seed", "scroller_warmup_steps"),
         "maze": ("maze_game_seed", "maze_bot_seed", "maze_warmup_steps")}


def test_game(tmp, name):
    """./gen NAME for a built-in game besides tetris: the file, its replay attributes, same seed same
    file, --sheet, --edge-cases and bad options."""
    a, b = (os.path.join(tmp, f"{name}_{n}.h5") for n in ("a", "b"))
    for path in (a, b):
        r = gen(name, "--episodes", "3", "--steps", "20", "--seed", "5", "--frame-skip", "2", "--out", path)
        expect(r.returncode == 0, f"gen {name}: {r.stderr}")
    if not os.path.exists(a):
        return
    with h5py.File(a, "r") as f, h5py.File(b, "r") as g:
        game = f.attrs["game"]
        expect((game.decode() if isinstance(game, bytes) else str(game)) == name, f"{name}: game attr")
        expect(int(f.attrs["total_episodes"]) == 3 and int(f.attrs["frame_skip"]) == 2, f"{name}: totals")
        for i in range(3):
            e = f[f"episode_{i}"]
            expect(e["observations"].shape == (21, 240, 256, 3) and e["actions"].shape == (20, 8), f"{name} ep {i} shapes")
            expect(all(k in e.attrs for k in GAMES[name]), f"{name} ep {i} replay attributes {list(e.attrs)}")
            expect(np.array_equal(e["observations"][:], g[f"episode_{i}/observations"][:]), f"{name} ep {i}: same seed, same frames")
    edge = os.path.join(tmp, f"{name}_edge.h5")
    r = gen(name, "--edge-cases", edge)
    expect(r.returncode == 0, f"{name} --edge-cases: {r.stderr}")
    if r.returncode == 0:
        with h5py.File(edge, "r") as f:
            names = f.attrs["frame_names"]
            names = (names.decode() if isinstance(names, bytes) else str(names)).split(",")
            obs = f["episode_0/observations"]
            expect(len(names) >= 8 and obs.shape[0] == len(names), f"{name}: {obs.shape[0]} edge-case frames, {len(names)} names")
            expect("game_over" in names and "title" in names, f"{name}: edge cases {names}")
    sheet = os.path.join(tmp, f"{name}_sheet.png")
    r = gen(name, "--sheet", sheet, "--seed", "1")
    expect(r.returncode == 0 and os.path.exists(sheet), f"{name} --sheet: {r.stderr}")
    if os.path.exists(sheet):
        expect(Image.open(sheet).size == (1024, 960), f"{name} sheet is 4x4 frames")
    bad = os.path.join(tmp, "bad.h5")
    expect_error(gen(name, "--episodes", "0", "--out", bad), bad, f"{name} --episodes 0")
    expect_error(gen(name, "--bogus", "--out", bad), bad, f"{name} unknown option")
    expect_error(gen(name, "--sheet", sheet, "--edge-cases", bad), bad, f"{name} --sheet and --edge-cases")


def write_frames(d, frames, mode):
    os.makedirs(d, exist_ok=True)
    for i, fr in enumerate(frames):
        Image.fromarray(fr, mode).save(os.path.join(d, f"frame_{i:04d}.png"))


def test_import(tmp):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (6, 24, 32, 3), dtype=np.uint8)
    d = os.path.join(tmp, "rgb")
    write_frames(d, frames, "RGB")
    acts = rng.integers(0, 2, (6, 8), dtype=np.uint8)
    csv = os.path.join(tmp, "act.csv")
    with open(csv, "w") as f:
        f.write("A,B,SELECT,START,UP,DOWN,LEFT,RIGHT\n")
        for row in acts:
            f.write(",".join(str(v) for v in row) + "\n")
    out = os.path.join(tmp, "imp.h5")
    r = gen("import", "--frames", d, "--actions", csv, "--out", out)
    expect(r.returncode == 0, f"import: {r.stderr}")
    if r.returncode == 0:
        with h5py.File(out, "r") as f:
            expect(int(f.attrs["total_episodes"]) == 1 and int(f.attrs["total_steps"]) == 5, "import totals")
            o, a = f["episode_0/observations"][:], f["episode_0/actions"][:]
            expect(o.shape == (6, 24, 32, 3) and np.array_equal(o, frames), "import: frames byte-identical, in order")
            expect(a.shape == (5, 8) and np.array_equal(a, acts[:5]), "import: actions = CSV rows 0..4")
            names = f.attrs["action_names"]
            expect((names.decode() if isinstance(names, bytes) else str(names)) == "A,B,SELECT,START,UP,DOWN,LEFT,RIGHT",
                   "import: action names from the header")

    # grey frames, 3 buttons, CSV without the last row, CRLF line ends
    grey = rng.integers(0, 256, (4, 16, 20), dtype=np.uint8)
    dg = os.path.join(tmp, "grey")
    write_frames(dg, grey, "L")
    csv3 = os.path.join(tmp, "three.csv")
    with open(csv3, "w", newline="") as f:
        f.write("LEFT,RIGHT,FIRE\r\n1,0,0\r\n0,1,1\r\n0,0,1\r\n")
    out2 = os.path.join(tmp, "grey.h5")
    r = gen("import", "--frames", dg, "--actions", csv3, "--out", out2)
    expect(r.returncode == 0, f"grey import: {r.stderr}")
    if r.returncode == 0:
        with h5py.File(out2, "r") as f:
            o, a = f["episode_0/observations"][:], f["episode_0/actions"][:]
            expect(o.shape == (4, 16, 20, 1) and np.array_equal(o[..., 0], grey), "grey frames kept as C=1")
            expect(np.array_equal(a, [[1, 0, 0], [0, 1, 1], [0, 0, 1]]), "3-button actions")

    # errors: one line each, no output
    bad = os.path.join(tmp, "bad.h5")
    msg = expect_error(gen("import", "--frames", os.path.join(tmp, "nope"), "--actions", csv, "--out", bad), bad, "missing dir")
    expect("nope" in msg, f"missing dir named: {msg}")
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty)
    msg = expect_error(gen("import", "--frames", empty, "--actions", csv, "--out", bad), bad, "no PNGs")
    expect("PNG" in msg, f"no PNGs: {msg}")
    mixed = os.path.join(tmp, "mixed")
    write_frames(mixed, frames, "RGB")
    Image.fromarray(frames[0, :20]).save(os.path.join(mixed, "frame_0003.png"))
    msg = expect_error(gen("import", "--frames", mixed, "--actions", csv, "--out", bad), bad, "size mismatch")
    expect("mismatch" in msg and "frame_0003.png" in msg, f"size mismatch named: {msg}")
    short = os.path.join(tmp, "short.csv")
    with open(short, "w") as f:
        f.write("A,B\n1,0\n0,1\n")
    msg = expect_error(gen("import", "--frames", d, "--actions", short, "--out", bad), bad, "row count")
    expect("rows" in msg, f"row count: {msg}")
    badval = os.path.join(tmp, "badval.csv")
    with open(badval, "w") as f:
        f.write("A,B\n1,0\n0,2\n1,1\n0,0\n1,0\n0,0\n")
    msg = expect_error(gen("import", "--frames", d, "--actions", badval, "--out", bad), bad, "bad value")
    expect(":3:" in msg and "'2'" in msg, f"bad value located: {msg}")
    ragged = os.path.join(tmp, "ragged.csv")
    with open(ragged, "w") as f:
        f.write("A,B\n1,0\n0\n")
    expect_error(gen("import", "--frames", d, "--actions", ragged, "--out", bad), bad, "ragged row")
    expect_error(gen("import", "--frames", d, "--out", bad), bad, "missing --actions")


def test_interrupt(tmp):
    """Ctrl-C while recording: one line, non-zero exit, no output file and no temp file."""
    import signal
    import subprocess
    import time
    out = os.path.join(tmp, "interrupted.h5")
    p = subprocess.Popen([GEN, "tetris", "--episodes", "400", "--steps", "200", "--out", out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    err = p.communicate(timeout=60)[1]
    expect(p.returncode != 0 and "stopped after" in err, f"interrupted recording says so: rc {p.returncode} {err[-200:]!r}")
    left = [n for n in os.listdir(tmp) if n.startswith("interrupted")]
    expect(not left, f"an interrupted recording leaves no file behind: {left}")


def main():
    if not os.path.exists(GEN):
        print(f"FAIL {GEN} not built")
        print("0 passed, 1 failed")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        test_tetris(tmp)
        for name in GAMES:
            test_game(tmp, name)
        test_import(tmp)
        test_interrupt(tmp)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
