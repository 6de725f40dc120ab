#!/usr/bin/env python3
"""test_play_menu.py - the game menu of `./play` on a run of several games (roadmap 5.3), as a
person uses it: the terminal in a tmux pane (send-keys, capture-pane) and the window under Xvfb
(keys through XTEST, screenshots of the screen).

A tiny run of the three built-in games (test_multi_cli.py's config: `gen tetris/scroller/maze
--episodes 3 --steps 20`, 32x32 RGB, one epoch of both stages), then:
  - --term without --game opens the menu: the run's three games, the first under the cursor;
    Down moves it, Enter plays that game (the frame in half blocks, its name on the HUD); G
    opens the menu again (on the game played, "G: back" offered), Down wraps round, Z plays;
    Tab and Tab go to the menu and back to the same game without a reset; Esc ends it with
    exit 0 and the exit line names the last game's file; Esc in the menu quits at once
  - the window without --game opens the menu (the blue bar on the first game, then on the
    second after Down); Return plays it: paused and reset (space, Backspace), the picture is
    that game's start frame pixel for pixel, as `--policy idle --png-dir` draws it, and not the
    other game's;
    G, Down, Z switch to the maze, whose start frame it then shows; Esc quits with exit 0
  - headless without --game is refused (one line; test_multi_cli.py); --game on a run of one
    game, in the terminal, G says there is no menu (test_play_cli.py)
"""
import os
import shutil
import subprocess
import sys
import time

from nemutest import BIN, check, have, run, run_in_tempdir, wait_for
from test_multi_cli import GAMES, record_games, write


def tmux(*args):
    return subprocess.run(["tmux", "-L", f"nemumenu{os.getpid()}", *args], capture_output=True, text=True, timeout=20)


def pane():
    return tmux("capture-pane", "-t", "menu", "-p").stdout


def hud():
    lines = [l for l in pane().splitlines() if "fps" in l or "menu:" in l]
    return lines[-1] if lines else ""


def step_of(line):
    words = line.split()
    return int(words[words.index("step") + 1]) if "step" in words else -1


def terminal(tmp):
    if not shutil.which("tmux"):
        print("skipped: the menu in tmux: needs tmux")
        return
    play = os.path.join(BIN, "play")
    tmux("new-session", "-d", "-s", "menu", "-x", "100", "-y", "40", "-c", tmp, "bash --norc --noprofile")
    try:
        tmux("send-keys", "-t", "menu", f"clear; {play} --term --run runs/multi; echo EXIT=$?", "Enter")
        up = wait_for(lambda: "choose a game" in pane() and "menu: 3 games" in pane())
        if not check(up, f"--term of a run of 3 games opens the menu: {pane()[-400:]!r}"):
            return
        text = pane()
        check(all(g in text for g in GAMES) and "> tetris" in text, f"the menu lists the games: {text!r}")
        check("\u2580" not in text, "no frame is drawn under the menu")
        tmux("send-keys", "-t", "menu", "Down")
        check(wait_for(lambda: "> scroller" in pane()), "Down moves the cursor to scroller")
        tmux("send-keys", "-t", "menu", "Enter")
        check(wait_for(lambda: hud().startswith("scroller") and step_of(hud()) > 0 and "\u2580" in pane()),
              f"Enter plays scroller: {hud()!r}")
        tmux("send-keys", "-t", "menu", "g")
        check(wait_for(lambda: "choose a game" in pane() and "> scroller" in pane() and "G: back" in pane()),
              f"G opens the menu on the game played: {pane()[-300:]!r}")
        tmux("send-keys", "-t", "menu", "Down", "Down")
        check(wait_for(lambda: "> tetris" in pane()), "Down wraps round to the first game")
        tmux("send-keys", "-t", "menu", "z")
        check(wait_for(lambda: hud().startswith("tetris") and step_of(hud()) > 5), f"Z plays tetris: {hud()!r}")
        before = step_of(hud())
        tmux("send-keys", "-t", "menu", "Tab")
        check(wait_for(lambda: "choose a game" in pane()), "Tab opens the menu")
        tmux("send-keys", "-t", "menu", "Tab")
        check(wait_for(lambda: hud().startswith("tetris")), "Tab goes back to the game")
        check(step_of(hud()) >= before, f"back to the game without a reset: step {before} -> {step_of(hud())}")
        tmux("send-keys", "-t", "menu", "Escape")
        done = wait_for(lambda: "EXIT=" in pane())
        check(done and "EXIT=0" in pane() and "tetris.h5:" in pane(), f"Esc quits; the exit line: {pane()[-300:]!r}")
        tmux("send-keys", "-t", "menu", f"clear; {play} --term --run runs/multi; echo EXIT=$?", "Enter")
        check(wait_for(lambda: "choose a game" in pane()), "the menu again")
        tmux("send-keys", "-t", "menu", "Escape")
        check(wait_for(lambda: "EXIT=0" in pane() and " 0 steps" in pane()), f"Esc in the menu quits: {pane()[-300:]!r}")
    finally:
        tmux("kill-server")


BAR = (40, 80, 200)   # the menu's cursor bar
MENU_BG = (16, 16, 32)


def start_frame(tmp, game):
    """The game's start frame as the headless mode draws it at scale 8 (PIL RGB)."""
    from PIL import Image
    out = os.path.join(tmp, "f_" + game)
    r = run("play", "--run", "runs/multi", "--game", game, "--policy", "idle", "--steps", 1, "--fps", 0, "--scale",
            8, "--png-dir", out, cwd=tmp)
    check(r.returncode == 0, f"play --game {game} --png-dir: {r.stderr}")
    return Image.open(os.path.join(out, "frame_000000.png")).convert("RGB")


def diff(a, b):
    """Mean absolute difference of two RGB pictures of the same size."""
    pa, pb = a.tobytes(), b.tobytes()
    return sum(abs(x - y) for x, y in zip(pa, pb)) / len(pa)


def window(tmp):
    import ctypes.util
    if not (shutil.which("Xvfb") and ctypes.util.find_library("Xtst") and ctypes.util.find_library("X11")):
        print("skipped: the menu in the window: needs xvfb, libxtst6")
        return
    if not have("the window's menu", "PIL"):
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from PIL import Image
    from xkeys import Keys, open_window, screenshot, xvfb
    frames = {g: start_frame(tmp, g) for g in ("scroller", "maze")}
    with xvfb() as disp:
        p = open_window(["--run", "runs/multi", "--scale", "8"], tmp, disp, "the menu in the window")
        if not p:
            return
        k = Keys(disp)
        k.move(320, 240)
        # the window: 256 x 256 picture + a 14-pixel HUD, centred on the 640x480 screen; the menu's font
        # at scale 2 (the title fits 256 pixels): the games' rows from y 48, 24 pixels apart
        x0, y0 = (640 - 256) // 2, (480 - 270) // 2
        shot = os.path.join(tmp, "screen.png")

        def look(name):
            screenshot(k, 640, 480, shot)
            im = Image.open(shot).convert("RGB")
            im.save(os.path.join(tmp, name + ".png"))
            return im

        def bar_row(im):
            rows = [g for g in range(3) if im.getpixel((x0 + 250, y0 + 48 + 24 * g + 5)) == BAR]
            return rows[0] if len(rows) == 1 else rows

        im = look("menu0")
        check(im.getpixel((x0 + 250, y0 + 150)) == MENU_BG, f"the menu's background: {im.getpixel((x0 + 250, y0 + 150))}")
        check(bar_row(im) == 0, f"the cursor on the first game: {bar_row(im)}")
        k.key("Down")
        time.sleep(0.3)
        check(bar_row(look("menu1")) == 1, "Down: the cursor on the second game")
        for game, keys in (("scroller", ["Return"]), ("maze", ["g", "Down", "z"])):
            for key in keys:
                k.key(key)
                time.sleep(0.3)
            time.sleep(0.5)
            k.key("space")   # pause, then back to the start frame
            time.sleep(0.3)
            k.key("BackSpace")
            time.sleep(0.5)
            pic = look("play_" + game).crop((x0, y0, x0 + 256, y0 + 256))
            d = {g: diff(pic, f) for g, f in frames.items()}
            other = [g for g in d if g != game][0]
            # the tiny model draws every game much alike: the game's own frame is matched exactly
            check(d[game] == 0 and d[other] > 0,
                  f"{game}: the window shows its start frame (mean difference {d[game]:.4f}; {other}'s {d[other]:.4f})")
        k.key("Escape")
        try:
            _, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        check(p.returncode == 0 and "maze.h5:" in err, f"Esc quits; the exit line names the maze: {p.returncode} {err!r}")


def body(tmp):
    files = record_games(tmp)
    r = run("train", write(tmp, "multi", ", ".join(files)), cwd=tmp)
    if not check(r.returncode == 0, f"train on three games: {r.stderr[-600:]}"):
        return
    terminal(tmp)
    window(tmp)


if __name__ == "__main__":
    raise SystemExit(run_in_tempdir(body, "nemu_menu_", programs=("gen", "train", "play")))
