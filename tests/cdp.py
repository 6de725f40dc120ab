"""cdp.py - a page in headless Chromium driven over the DevTools protocol, with no module
beyond Python's own: Chromium's --remote-debugging-pipe (NUL-terminated JSON on fds 3 and 4)
instead of a WebSocket. Used by tests/test_export_web.py and by hand:

    /usr/bin/python3 tests/cdp.py URL OUT.png [KEY STEPS ...]   # e.g. ArrowLeft 20
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

KEYCODES = {"ArrowLeft": 37, "ArrowUp": 38, "ArrowRight": 39, "ArrowDown": 40, "KeyZ": 90, "KeyX": 88, "KeyQ": 81,
            "KeyR": 82}


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


class Page:
    """One tab of a fresh headless Chromium at url."""

    def __init__(self, url, width=800, height=700):
        self.profile = tempfile.mkdtemp(prefix="nemu_cdp_")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # Chromium reads commands from fd 3 and writes replies to fd 4 (dup'ed there in the child)
        self.proc = subprocess.Popen(
            [chromium(), "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--user-data-dir=" + self.profile, "--window-size=%d,%d" % (width, height),
             "about:blank"],
            pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=lambda: (os.dup2(to_chrome_r, 3), os.dup2(from_chrome_w, 4)))
        os.close(to_chrome_r), os.close(from_chrome_w)
        self.buf, self.next_id, self.session = b"", 0, None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Page.navigate", {"url": url})

    def call(self, method, params=None, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        end = time.time() + timeout
        while time.time() < end:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise RuntimeError("%s: %s" % (method, reply["error"]))
                    return reply.get("result", {})
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buf += chunk
        raise RuntimeError(method + ": no reply")

    def eval(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait(self, expr, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            try:
                if self.eval(expr):
                    return True
            except RuntimeError:
                pass
            time.sleep(0.1)
        return False

    def key(self, code, down):
        self.call("Input.dispatchKeyEvent", {"type": "keyDown" if down else "keyUp", "code": code, "key": code,
                                             "windowsVirtualKeyCode": KEYCODES.get(code, 0)})

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self.to_chrome), os.close(self.from_chrome)
        shutil.rmtree(self.profile, ignore_errors=True)


if __name__ == "__main__":
    page = Page(sys.argv[1])
    try:
        ok = page.wait("window.nemu && window.nemu.steps > 20")
        print("running:", ok, "readout:", page.eval("document.getElementById('fps').textContent"))
        args = sys.argv[3:]
        for i in range(0, len(args), 2):
            s0 = page.eval("window.nemu.steps")
            page.key(args[i], True)
            page.wait("window.nemu.steps >= %d" % (s0 + int(args[i + 1])))
            page.key(args[i], False)
        page.screenshot(sys.argv[2])
        print("readout:", page.eval("document.getElementById('fps').textContent"))
    finally:
        page.close()
