"""cases_leftover.py - issue #16 class 10: the temp files a killed run leaves (SIGKILL during
./gen leaves <out>.part.tmp, during ./train loss.png.tmp, <stage>_last.h5.tmp) are removed,
with a warning naming each, by the next run of the same command."""
import os
import signal
import subprocess
import time

from hostile import BIN, Case, write


def killed_gen(out):
    """Starts a long ./gen tetris --out out and SIGKILLs it once its temp file exists."""
    def setup(d):
        p = subprocess.Popen([os.path.join(BIN, "gen"), "tetris", "--episodes", "200", "--out", out], cwd=d,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while not os.path.exists(os.path.join(d, out + ".part.tmp")) and time.time() - t0 < 20:
            time.sleep(0.05)
        time.sleep(0.3)
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert os.path.exists(os.path.join(d, out + ".part.tmp")), "the killed gen left no temp file"
    return setup


def gone(*rels):
    def after(d, r):
        left = [x for x in rels if os.path.exists(os.path.join(d, x))]
        return not left, "still there: %s" % left
    return after


def cases():
    return [
        Case(10, "gen tetris after a SIGKILLed gen tetris of the same --out",
             ["gen", "tetris", "--episodes", "1", "--steps", "20", "--out", "t.h5"], outcome="handled",
             expect=r"removed t\.h5\.part\.tmp \([0-9.]+ MB\), a temp file left by an interrupted run",
             setup=killed_gen("t.h5"), changes=("t.h5", "t.h5.part.tmp"), after=gone("t.h5.part.tmp")),
        Case(10, "train --resume after a run killed while writing loss.png and a checkpoint",
             ["train", "flat.ini", "--resume"], outcome="handled",
             expect=r"removed runs/flat/loss\.png\.tmp.*\n.*removed runs/flat/ae_last\.h5\.tmp|"
                    r"removed runs/flat/ae_last\.h5\.tmp.*\n.*removed runs/flat/loss\.png\.tmp",
             setup=lambda d: (write(os.path.join(d, "runs/flat/loss.png.tmp"), "half a png"),
                              write(os.path.join(d, "runs/flat/ae_last.h5.tmp"), "half a checkpoint")),
             changes=("runs/flat/*.tmp",), after=gone("runs/flat/loss.png.tmp", "runs/flat/ae_last.h5.tmp")),
        Case(10, "gen tetris --edge-cases after a killed one left out.part",
             ["gen", "tetris", "--edge-cases", "e.h5"], outcome="handled", expect=r"removed e\.h5\.part ",
             setup=lambda d: write(os.path.join(d, "e.h5.part"), "x" * 1000), changes=("e.h5", "e.h5.part"),
             after=gone("e.h5.part")),
    ]
