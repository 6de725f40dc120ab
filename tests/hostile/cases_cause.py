"""cases_cause.py - issue #16 class 9: errors that carry their cause (errno, HDF5's own reason)
to the one line the user sees: a full disk says "No space left on device", a file another
process holds open for writing says so, a folder is named as a folder."""
import os
import shutil
import subprocess

from hostile import BIN, Case

HAVE_UNSHARE = shutil.which("unshare") is not None and subprocess.run(
    ["unshare", "-m", "true"], capture_output=True).returncode == 0


def in_full_disk(cmd, size="48k"):
    """cmd run inside a private mount namespace, in full/ (a tmpfs of `size`) holding flat.ini and a link to d.h5."""
    script = ("mount -t tmpfs -o size=%s tmpfs full && cp flat.ini full/ && ln -s ../d.h5 full/d.h5 && cd full && %s"
              % (size, cmd))
    return ["unshare", "-m", "sh", "-c", script]


def locked(rel):
    """A child process that holds rel open for writing (HDF5's file lock) while the case runs."""
    def setup(d):
        code = ("import h5py, sys, time\nf = h5py.File(sys.argv[1], 'a')\nprint('open', flush=True)\n"
                "time.sleep(60)\n")
        p = subprocess.Popen(["/usr/bin/python3", "-c", code, os.path.join(d, rel)], stdout=subprocess.PIPE, text=True)
        p.stdout.readline()
        LOCKERS.append(p)
    return setup


LOCKERS = []


def unlock(d, r):
    while LOCKERS:
        p = LOCKERS.pop()
        p.kill()
        p.wait()
    return True, ""


def cases():
    out = [
        Case(9, "a data file another process holds open for writing", ["gen", "info", "d.h5"],
             expect=r"d\.h5: cannot open as HDF5: another process holds it open for writing", setup=locked("d.h5"),
             after=unlock),
        Case(9, "an autoencoder checkpoint another process holds open for writing", ["eval", "--run", "runs/flat"],
             expect=r"runs/flat/(ae|dyn)_best\.h5: cannot open as HDF5: another process holds it open for writing",
             setup=locked("runs/flat/ae_best.h5"), after=unlock),
        Case(9, "a PNG that is a folder is named as one", ["eval", "--compare", "runs/flat", "runs/flat/recon.png"],
             expect=r"runs/flat: is a directory; expected a regular PNG file"),
    ]
    if HAVE_UNSHARE:
        out += [
            Case(9, "a full disk while training says No space left on device",
                 in_full_disk(os.path.join(BIN, "train") + " flat.ini --set run.name=x"), outcome="handled", rc=1,
                 expect=r"No space left on device", setup=lambda d: os.mkdir(os.path.join(d, "full"))),
            Case(9, "a full disk while recording says No space left on device",
                 in_full_disk(os.path.join(BIN, "gen") + " tetris --episodes 2 --steps 30 --out t.h5"), outcome="handled",
                 rc=1, expect=r"t\.h5.*No space left on device", setup=lambda d: os.mkdir(os.path.join(d, "full"))),
        ]
    return out
