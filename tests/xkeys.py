"""xkeys.py - keys into an X display through the XTEST extension, and a screenshot of it (ctypes on
libX11 and libXtst), an Xvfb display and ./play's window on it (for the window tests of
test_play_cli.py and test_play_menu.py)."""
import contextlib, ctypes, os, subprocess, time

from nemutest import BIN, check
x11 = ctypes.CDLL("libX11.so.6")
xt = ctypes.CDLL("libXtst.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XStringToKeysym.restype = ctypes.c_ulong
x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
x11.XKeysymToKeycode.restype = ctypes.c_ubyte
x11.XFlush.argtypes = [ctypes.c_void_p]
xt.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
xt.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ulong]

class Keys:
    def __init__(self, display):
        self.d = x11.XOpenDisplay(display.encode())
        if not self.d:
            raise RuntimeError("cannot open display " + display)
    def move(self, x, y):
        xt.XTestFakeMotionEvent(self.d, -1, x, y, 0); x11.XFlush(self.d)
    def key(self, name, hold=0.1):
        kc = x11.XKeysymToKeycode(self.d, x11.XStringToKeysym(name.encode()))
        xt.XTestFakeKeyEvent(self.d, kc, 1, 0); x11.XFlush(self.d); time.sleep(hold)
        xt.XTestFakeKeyEvent(self.d, kc, 0, 0); x11.XFlush(self.d)

class XImage(ctypes.Structure):
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int), ("format", ctypes.c_int),
                ("data", ctypes.c_void_p), ("byte_order", ctypes.c_int), ("bitmap_unit", ctypes.c_int),
                ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int), ("depth", ctypes.c_int),
                ("bytes_per_line", ctypes.c_int), ("bits_per_pixel", ctypes.c_int)]

x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
x11.XDefaultRootWindow.restype = ctypes.c_ulong
x11.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                          ctypes.c_ulong, ctypes.c_int]
x11.XGetImage.restype = ctypes.POINTER(XImage)


def screenshot(keys, w, h, path):
    """The screen's top-left w x h pixels as a PNG (24-bit TrueColor, 32 bits a pixel)."""
    from PIL import Image
    img = x11.XGetImage(keys.d, x11.XDefaultRootWindow(keys.d), 0, 0, w, h, 0xFFFFFFFF, 2).contents
    raw = ctypes.string_at(img.data, img.bytes_per_line * img.height)
    Image.frombuffer("RGB", (w, h), raw, "raw", "BGRX", img.bytes_per_line, 1).save(path)


@contextlib.contextmanager
def xvfb():
    """An Xvfb display (640x480x24) for the with block; yields its name (":N")."""
    r, w = os.pipe()
    xv = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
                          pass_fds=(w,), stderr=subprocess.DEVNULL)
    os.close(w)
    try:
        yield ":" + os.read(r, 64).decode().strip()
    finally:
        os.close(r)
        xv.terminate()
        xv.wait()


def open_window(args, cwd, disp, what):
    """./play args in its window on display disp, given 1.5 s to open: the process, or None after a
    skip line (built without SDL2) or a failed check."""
    p = subprocess.Popen([os.path.join(BIN, "play")] + args, cwd=cwd, env=dict(os.environ, DISPLAY=disp),
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    if p.poll() is None:
        return p
    err = p.stderr.read()
    if "without SDL2" in err:
        print(f"skipped: {what}: ./play was built without SDL2")
    else:
        check(False, f"the window did not open: {err!r}")
    return None
