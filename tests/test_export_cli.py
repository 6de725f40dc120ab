#!/usr/bin/env python3
"""test_export_cli.py - ./export end to end on tiny runs trained here (seconds):

  1. a spatial run (conv dynamics) exported in float, q16 and int8 (float with --encoder):
     every file compiles with gcc and clang, -std=c99 -Wall -Wextra -pedantic -Werror; compiled
     as a shared object, `./export --check` runs it beside nemu's float model: float frames equal
     nemu's to 1e-5 over 30 steps of the test episode (the round trip) and on every rollout;
     q16 and int8 stay within the bounds the README reports;
  2. examples/standalone/play.c builds against the export with nothing of nemu and runs 30
     steps under AddressSanitizer + UndefinedBehaviorSanitizer, writing PGM frames;
  3. a flat run (MLP dynamics) and a VAE conv run export in float and round-trip to 1e-5
     (the VAE at temperature 0);
  4. ./export --web (when emcc and chromium are installed): the page, served over HTTP and opened
     in headless Chromium (tests/cdp.py), runs the emulator; a held arrow key (a real key event)
     changes the frames against the same steps with no key, and the page is deterministic;
  5. bad input: a run without dyn_best.h5, a non-finite weight, an existing --out without
     --force, q16 of VAE / MLP dynamics: one line, non-zero exit, nothing written.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import cdp

from nemutest import BIN, ROOT, check, have, run_in_tempdir
from test_spatial_cli import CONFIG   # the tiny spatial config (flat: its spatial lines removed)

STEPS = 30
# the bounds of the fixed-point formats on this tiny run (README, Export: measured on the
# default run); a format that gets worse than these fails
BOUNDS = {"float": 1e-5, "q16": 1.5e-3, "int8": 0.25}
STRICT = ["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-O2"]


def run(prog, args, cwd, timeout=600):
    return subprocess.run([os.path.join(BIN, prog)] + args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def sh(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)


def result(stdout):
    line = [x for x in stdout.splitlines() if x.startswith("result ")]
    return dict(kv.split("=") for kv in line[-1].split()[1:]) if line else {}


def train(tmp, cfg, name, extra=()):
    r = run("train", [cfg, "--set", "run.name=" + name, "--set", "train.epochs=2"] + list(extra), tmp)
    check(r.returncode == 0, name + " trains: " + r.stderr[-300:])
    return os.path.join(tmp, "runs", name)


def export_and_check(tmp, rundir, fmt, tag, extra=()):
    """Exports, compiles with both compilers, checks; returns the result dict ({} on failure)."""
    out = os.path.join(tmp, "x_" + tag)
    r = run("export", ["--run", rundir, "--out", out, "--name", "emu", "--format", fmt] + list(extra), tmp)
    if not check(r.returncode == 0 and os.path.exists(os.path.join(out, "emu.c")), tag + " exports: " + r.stderr):
        return {}
    for cc in ("gcc", "clang"):
        if shutil.which(cc):
            c = sh([cc] + STRICT + ["-c", "emu.c", "-o", "emu_%s.o" % cc], out)
            check(c.returncode == 0, "%s: %s compiles it -Werror -pedantic: %s" % (tag, cc, c.stderr[-500:]))
    c = sh(["cc", "-std=c99", "-O2", "-shared", "-fPIC", "emu.c", "-o", "emu.so", "-lm"], out)
    if not check(c.returncode == 0, tag + ": shared object: " + c.stderr[-300:]):
        return {}
    r = run("export", ["--run", rundir, "--check", os.path.join(out, "emu.so"), "--name", "emu", "--steps", str(STEPS)],
            tmp)
    res = result(r.stdout)
    if not check(r.returncode == 0 and res, tag + ": --check runs: " + r.stderr[-300:]):
        return {}
    print("%s: %s" % (tag, " ".join("%s=%s" % kv for kv in res.items())))
    return res


def spatial(tmp, cfg):
    rundir = train(tmp, cfg, "sp")
    if not os.path.exists(os.path.join(rundir, "dyn_best.h5")):
        return None
    for fmt in ("float", "q16", "int8"):
        res = export_and_check(tmp, rundir, fmt, "sp_" + fmt, ["--encoder"] if fmt == "float" else [])
        if not res:
            continue
        bound = BOUNDS[fmt]
        check(int(res["round_trip_steps"]) == STEPS, fmt + ": the round trip runs %d steps" % STEPS)
        check(float(res["round_trip_max"]) < bound, "%s: round trip max |diff| %s < %g" % (fmt, res["round_trip_max"], bound))
        check(float(res["decoder_max"]) < bound and float(res["rollout_max"]) < bound,
              "%s: decoder %s and rollouts %s within %g" % (fmt, res["decoder_max"], res["rollout_max"], bound))
        if fmt == "float":
            check(0 <= float(res["encoder_max"]) < 1e-5, "float: NAME_encode's latent within 1e-5: " + res["encoder_max"])
    # the example, with nothing of nemu, under the sanitizers
    ex = os.path.join(tmp, "x_sp_float")
    binp = os.path.join(tmp, "play")
    c = sh(["cc"] + STRICT[:-1] + ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-I", ex,
            os.path.join(ROOT, "examples", "standalone", "play.c"), os.path.join(ex, "emu.c"), "-lm", "-o", binp], tmp)
    if check(c.returncode == 0, "examples/standalone builds: " + c.stderr[-500:]):
        p = sh([binp, "--pgm", os.path.join(tmp, "f"), str(STEPS), "00000010"], tmp)
        check(p.returncode == 0 and "runtime error" not in p.stderr and "Sanitizer" not in p.stderr,
              "the example runs clean under ASan/UBSan: " + p.stderr[-500:])
        pgm = open(os.path.join(tmp, "f_%03d.pgm" % STEPS), "rb").read()
        check(pgm.startswith(b"P5\n32 32\n255\n") and len(pgm) == 13 + 32 * 32, "a 32x32 PGM frame per step")
    return rundir


VAE_DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "emu.h"
static emu_state s;
static float z[EMU_LATENT];
int main(int argc, char **argv) {   /* seed temperature: prints the latent after 5 steps */
    unsigned char b[EMU_BUTTONS] = {0};
    int k;
    emu_init(&s, (unsigned long long)atoi(argv[1]));
    emu_set_temperature(&s, (float)atof(argv[2]));
    for (k = 0; k < 5; k++) emu_step(&s, b);
    emu_get_latent(&s, z);
    for (k = 0; k < EMU_LATENT; k++) printf("%.9g\n", z[k]);
    return argc < 3;
}
"""


def vae_sampling(tmp):
    """The exported VAE's own generator: a seed repeats its samples, two seeds differ, T = 0 is the mean."""
    out = os.path.join(tmp, "x_vae_float")
    if not os.path.isdir(out):
        return
    open(os.path.join(out, "drv.c"), "w").write(VAE_DRIVER)
    c = sh(["cc"] + STRICT + ["drv.c", "emu.c", "-lm", "-o", "drv"], out)
    if not check(c.returncode == 0, "a VAE driver builds: " + c.stderr[-300:]):
        return
    z = {a: sh(["./drv"] + list(a), out).stdout for a in (("1", "1"), ("1", "1.0"), ("2", "1"), ("1", "0"), ("2", "0"))}
    check(z[("1", "1")] == z[("1", "1.0")] and z[("1", "1")] != z[("2", "1")], "T = 1: a seed repeats, two seeds differ")
    check(z[("1", "0")] == z[("2", "0")] and z[("1", "0")] != z[("1", "1")], "T = 0: the mean, whatever the seed")


def web(tmp, rundir):
    if not shutil.which("emcc") or not cdp.chromium():
        print("skipped: ./export --web: needs emscripten and chromium")
        return
    out = os.path.join(tmp, "web")
    r = run("export", ["--run", rundir, "--web", out, "--name", "emu"], tmp)
    if not check(r.returncode == 0 and all(os.path.exists(os.path.join(out, f)) for f in
                                           ("index.html", "emu.js", "emu.wasm")), "--web writes the page: " + r.stderr):
        return
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = subprocess.Popen(["/usr/bin/python3", "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=out,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    page = None
    try:
        time.sleep(0.5)
        page = cdp.Page("http://127.0.0.1:%d/index.html" % port)
        if not check(page.wait("window.nemu && window.nemu.steps > 3"), "the page runs the emulator"):
            return
        check(page.eval("document.getElementById('screen').width") == 32, "the canvas is the frame's size")
        check(page.wait("document.getElementById('fps').textContent.indexOf('frames/s') >= 0", 20), "a frames/s readout")
        page.eval("window.nemu.paused = true")
        runs = []
        for key in ("ArrowLeft", None, None):
            page.eval("window.nemu.reset()")
            if key:
                page.key(key, True)
            page.eval("window.nemu.step(10)")
            if key:
                page.key(key, False)
            runs.append(page.eval("window.nemu.pixels()"))
        check(runs[1] == runs[2], "the same steps give the same frame")
        check(runs[0] != runs[1], "a held arrow key changes the frames")
        page.screenshot(os.path.join(tmp, "web.png"))
    finally:
        if page:
            page.close()
        server.terminate()
        server.wait()


def bad_input(tmp, rundir, vae_run, flat_run, hyp_run):
    def refused(args, what, out):
        r = run("export", args, tmp)
        check(r.returncode != 0 and r.stderr.count("\n") == 1 and not os.path.exists(out),
              what + ": one line, exit non-zero, nothing written: " + r.stderr)

    out = os.path.join(tmp, "bad_out")
    aeonly = os.path.join(tmp, "runs", "aeonly")
    shutil.copytree(rundir, aeonly)
    os.remove(os.path.join(aeonly, "dyn_best.h5"))
    refused(["--run", aeonly, "--out", out], "a run without dyn_best.h5", out)
    if vae_run:
        refused(["--run", vae_run, "--out", out, "--format", "q16"], "q16 of VAE dynamics", out)
    if flat_run:
        refused(["--run", flat_run, "--out", out, "--format", "int8"], "int8 of the MLP dynamics", out)
    if hyp_run:
        refused(["--run", hyp_run, "--out", out], "dynamics with 2 hypotheses", out)
    refused(["--run", rundir, "--out", out, "--format", "q8"], "an unknown format", out)
    refused(["--run", rundir, "--out", out, "--start", "100000"], "a start frame past the first test episode", out)
    r = subprocess.run([os.path.join(BIN, "export"), "--run", rundir, "--web", out], cwd=tmp, capture_output=True,
                       text=True, env={"PATH": "/nonexistent"}, timeout=600)
    check(r.returncode != 0 and "apt-get install emscripten" in r.stderr and r.stderr.count("\n") == 1 and
          not os.path.exists(out), "--web without emcc says how to get it, in one line: " + r.stderr)
    os.makedirs(out)
    open(os.path.join(out, "keep.txt"), "w").write("mine")
    r = run("export", ["--run", rundir, "--out", out], tmp)
    check(r.returncode != 0 and r.stderr.count("\n") == 1 and os.listdir(out) == ["keep.txt"],
          "an existing --out without --force is left alone: " + r.stderr)
    r = run("export", ["--run", rundir, "--web", out], tmp)
    check(r.returncode != 0 and r.stderr.count("\n") == 1 and os.listdir(out) == ["keep.txt"],
          "an existing --web without --force is left alone: " + r.stderr)
    shutil.rmtree(out)
    if have("a non-finite weight", "h5py", "numpy"):
        import h5py
        import numpy as np
        nan_run = os.path.join(tmp, "runs", "nan")
        shutil.copytree(rundir, nan_run)
        with h5py.File(os.path.join(nan_run, "dyn_best.h5"), "r+") as f:
            w = f["state_dict/conv_out.weight"]
            a = w[...]
            a.flat[3] = np.nan
            w[...] = a
        r = run("export", ["--run", nan_run, "--out", out], tmp)
        check(r.returncode != 0 and "non-finite" in r.stderr and r.stderr.count("\n") == 1 and not os.path.exists(out),
              "a NaN weight is refused in one line, nothing written: " + r.stderr)


def body(tmp):
    data = os.path.join(tmp, "d.h5")
    g = run("gen", ["tetris", "--episodes", "5", "--steps", "40", "--seed", "4", "--out", data], tmp)
    if not check(g.returncode == 0, "gen tetris: " + g.stderr):
        return
    cfg = os.path.join(tmp, "sp.ini")
    open(cfg, "w").write(CONFIG.format(data=data).replace("threads = 2", "threads = 1").replace("epochs = 3", ""))
    rundir = spatial(tmp, cfg)
    if not rundir:
        return
    vae = train(tmp, cfg, "vae", ["--set", "train.stage=dynamics", "--set", "model.autoencoder=" +
                                  os.path.join(rundir, "ae_best.h5"), "--set", "dynamics.type=vae",
                                  "--set", "dynamics.beta=0.001"])
    cfg_flat = os.path.join(tmp, "flat.ini")
    open(cfg_flat, "w").write(CONFIG.format(data=data).replace("threads = 2", "threads = 1").replace("epochs = 3", "")
                              .replace("latent = spatial\nlatent_channels = 4\n", "latent_dim = 16\n")
                              .replace("blocks = 1\n", ""))
    flat = train(tmp, cfg_flat, "flat")
    for d, tag in ((vae, "vae"), (flat, "flat")):
        res = export_and_check(tmp, d, "float", tag + "_float")
        if res:
            check(float(res["round_trip_max"]) < 1e-5 and float(res["rollout_max"]) < 1e-5,
                  "%s float round trip %s, rollouts %s < 1e-5" % (tag, res["round_trip_max"], res["rollout_max"]))
    hyp = train(tmp, cfg, "hyp", ["--set", "train.stage=dynamics", "--set", "model.autoencoder=" +
                                  os.path.join(rundir, "ae_best.h5"), "--set", "dynamics.hypotheses=2"])
    vae_sampling(tmp)
    web(tmp, rundir)
    bad_input(tmp, rundir, vae, flat, hyp)


if __name__ == "__main__":
    sys.exit(run_in_tempdir(body, "nemu_export_", ("gen", "train", "export")))
