#!/usr/bin/env python3
"""test_play_ssh.py - `./play --term` over a real SSH connection, inside tmux (issue #17).

Skips (one line) without sshd, ssh, ssh-keygen or tmux. Otherwise, in a temp dir: a throwaway
host key, a user key and an authorized_keys file, and an sshd of its own on 127.0.0.1 at a free
port (its own config, pid and log in the temp dir; /run/sshd, which Debian's sshd requires, is
made in a private mount namespace when it does not exist, so nothing outlives the test). A tiny
run is trained as in tests/test_play_cli.py. In a tmux pane, `ssh -tt` runs
`./play --term --run runs/playtest` on the far side, and the test checks through capture-pane
and send-keys that:
  - half-block frames in 24-bit colour and the HUD arrive through SSH;
  - keys act: Left and Right show as held buttons in the HUD, space pauses;
  - Esc ends play with exit 0, and the pane's terminal is restored: the main screen, the cursor
    shown, icanon and echo on (stty -a in the pane after ssh returns);
  - the connection killed (the server's session process, SIGKILL): ssh returns, the pane's tty
    is back in canonical mode with echo (ssh's own restore), and play on the far side ended on
    the hang-up (SIGHUP) instead of running on.
The main screen and the visible cursor after a killed connection cannot come from play (its
restore sequence has no connection to travel on): the pane stays on the alternate screen with
the cursor hidden, and `tput rmcup; tput cnorm` (README) brings both back; checked as such.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

from nemutest import BIN, ROOT, check, run_in_tempdir
from test_play_cli import TINY, run, wait_for

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.access("/usr/sbin/sshd", os.X_OK) else None)
SOCK = f"nemussh{os.getpid()}"


def tmux(*args):
    return subprocess.run(["tmux", "-L", SOCK, *args], capture_output=True, text=True, timeout=20)


def pane(esc=False):
    return tmux("capture-pane", "-t", "ssh", "-p", *(["-e"] if esc else [])).stdout


def pane_flag(name):
    return tmux("display-message", "-p", "-t", "ssh", "#{" + name + "}").stdout.strip()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:   # a zombie is not running
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start_sshd(tmp):
    """The throwaway sshd: (Popen, port, ssh argv prefix) or None when it does not come up."""
    d = os.path.join(tmp, "ssh")
    os.mkdir(d, 0o700)
    for key in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, key)], check=True)
    shutil.copy(os.path.join(d, "user_key.pub"), os.path.join(d, "authorized_keys"))
    port = free_port()
    with open(os.path.join(d, "sshd_config"), "w") as f:
        f.write(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n"
                f"AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n"
                "PrintMotd no\nPrintLastLog no\nAcceptEnv NEMU_*\n")
    cmd = [SSHD, "-D", "-e", "-f", os.path.join(d, "sshd_config")]
    if not os.path.isdir("/run/sshd"):   # Debian's privilege separation dir, in a namespace of its own
        cmd = ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o mode=755 nemu_sshd /run && mkdir -m 755 /run/sshd "
               "&& exec " + " ".join(cmd)]
    log = open(os.path.join(d, "sshd.log"), "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    up = wait_for(lambda: p.poll() is not None or "Server listening" in open(log.name).read(), timeout=10)
    if p.poll() is not None or not up:
        print(f"skipped: --term over SSH: sshd did not start: {open(log.name).read().strip()[-200:]}")
        p.kill() if p.poll() is None else None
        p.wait()
        return None
    user = pwd.getpwuid(os.getuid()).pw_name
    ssh = ["ssh", "-F", "/dev/null", "-i", os.path.join(d, "user_key"), "-p", str(port), "-o", "BatchMode=yes",
           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
           f"{user}@127.0.0.1"]
    r = subprocess.run(ssh + ["echo", "nemu-ssh-ok"], capture_output=True, text=True, timeout=20)
    if "nemu-ssh-ok" not in r.stdout:
        print(f"skipped: --term over SSH: cannot log in to the test sshd: {r.stderr.strip()[-200:]}")
        p.terminate()
        p.wait()
        return None
    return p, port, ssh


def session_pids(sshd_pid):
    """The server's per-connection sshd processes (children of the listener)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(sshd_pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def start_play(tmp, ssh, tag):
    """ssh -tt in the tmux pane, ./play --term on the far side; the pid file of the far play."""
    pidf = os.path.join(tmp, f"play_{tag}.pid")
    stty = os.path.join(tmp, f"stty_{tag}.txt")
    play = os.path.join(BIN, "play")
    far = f"cd {tmp} && echo $$ > {pidf} && exec env OMP_WAIT_POLICY=PASSIVE {play} --term --run runs/playtest"
    line = " ".join(ssh[:-1]) + " -tt " + ssh[-1] + " '" + far + "'"
    tmux("send-keys", "-t", "ssh", f"clear; {line}; echo SSH_EXIT=$?; stty -a > {stty}", "Enter")
    return pidf, stty


def held(key, word, timeout=6):
    """Presses key every 40 ms until the HUD shows word among the buttons held."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        tmux("send-keys", "-t", "ssh", key)
        hud = [l for l in pane().splitlines() if "fps" in l]
        if hud and word in hud[-1]:
            return hud[-1]
        time.sleep(0.04)
    return None


def ssh_returned(stty, what, when, code, meaning):
    """Waits for the pane's shell to write `stty -a` after ssh returned; checks the tty is back in
    canonical mode with echo and ssh's exit status is `code`. True when ssh returned."""
    done = wait_for(lambda: os.path.exists(stty) and os.path.getsize(stty) > 0, timeout=10)
    check(done, what)
    if done:
        time.sleep(0.2)
        words = open(stty).read().split()
        check("icanon" in words and "echo" in words, f"{when}: the pane's tty in canonical mode with echo")
        check(f"SSH_EXIT={code}" in pane(), f"{when}: {meaning}: {pane()[-200:]!r}")
    return done


def body(tmp):
    data = os.path.join(tmp, "d.h5")
    r = run("gen", "tetris", "--episodes", 6, "--steps", 40, "--seed", 3, "--out", data, cwd=tmp)
    check(r.returncode == 0, f"gen: {r.stderr}")
    sets = [x for k, v in {**TINY, "data.path": data}.items() for x in ("--set", f"{k}={v}")]
    r = run("train", os.path.join(ROOT, "configs", "tetris_quick.ini"), *sets, cwd=tmp)
    if not check(r.returncode == 0, f"train: {r.stdout[-500:]} {r.stderr}"):
        return
    got = start_sshd(tmp)
    if not got:
        return
    sshd, port, ssh = got
    tmux("new-session", "-d", "-s", "ssh", "-x", "100", "-y", "40", "-c", tmp, "bash --norc --noprofile")
    try:
        # 1. frames, keys, Esc
        pidf, stty = start_play(tmp, ssh, "esc")
        up = wait_for(lambda: "step" in pane() and "\u2580" in pane(), timeout=20)
        check(up, f"--term over ssh draws half blocks and the HUD: {pane()[-300:]!r}")
        check(pane_flag("alternate_on") == "1", "play is on the alternate screen")
        esc = pane(esc=True)
        check("38;2;" in esc and "48;2;" in esc, "24-bit colours arrive over ssh")
        far_pid = int(open(pidf).read()) if os.path.exists(pidf) else 0
        check(far_pid > 0 and alive(far_pid), "play runs on the far side of the connection")
        for key, word in (("Left", "LEFT"), ("Right", "RIGHT")):
            hud = held(key, word)
            check(hud is not None, f"{key} over ssh shows {word} held in the HUD: {pane()[-200:]!r}")
        tmux("send-keys", "-t", "ssh", "Space")
        check(wait_for(lambda: "PAUSED" in pane()), "space over ssh pauses")
        tmux("send-keys", "-t", "ssh", "Escape")
        if ssh_returned(stty, "Esc over ssh ends play and ssh returns", "after Esc", "0", "play and ssh exit 0"):
            check(pane_flag("alternate_on") == "0" and pane_flag("cursor_flag") == "1",
                  "after Esc: the main screen and the cursor are back")
            check(not alive(far_pid), "after Esc: play on the far side has ended")

        # 2. the connection killed under a running play
        tmux("send-keys", "-t", "ssh", "clear", "Enter")
        pidf, stty = start_play(tmp, ssh, "kill")
        up = wait_for(lambda: "step" in pane() and "\u2580" in pane(), timeout=20)
        check(up, f"second session draws: {pane()[-300:]!r}")
        far_pid = int(open(pidf).read()) if os.path.exists(pidf) else 0
        sessions = session_pids(sshd.pid)
        check(len(sessions) >= 1, f"the server has a session process: {sessions}")
        for pid in sessions:
            os.kill(pid, signal.SIGKILL)
        if ssh_returned(stty, "ssh returns when the connection is killed", "after the kill", "255",
                        "ssh says the connection is lost"):
            # what play cannot restore with the connection gone; the README's way back
            check(pane_flag("alternate_on") == "1" and pane_flag("cursor_flag") == "0",
                  "after the kill: the pane is left on the alternate screen, the cursor hidden")
            tmux("send-keys", "-t", "ssh", "tput rmcup; tput cnorm", "Enter")
            check(wait_for(lambda: pane_flag("alternate_on") == "0" and pane_flag("cursor_flag") == "1"),
                  "after the kill: tput rmcup; tput cnorm brings back the main screen and the cursor")
        check(far_pid > 0 and wait_for(lambda: not alive(far_pid), timeout=10),
              "after the kill: play on the far side ends on the hang-up")
    finally:
        tmux("kill-server")
        sshd.terminate()
        sshd.wait(timeout=10)


def main():
    for tool in ("ssh", "ssh-keygen", "tmux"):
        if not shutil.which(tool):
            print(f"skipped: --term over SSH: needs {tool}")
            print("0 passed, 0 failed")
            return 0
    if not SSHD:
        print("skipped: --term over SSH: needs sshd (Debian's openssh-server)")
        print("0 passed, 0 failed")
        return 0
    return run_in_tempdir(body, "nemu_ssh_", programs=("gen", "train", "play"))


if __name__ == "__main__":
    sys.exit(main())
