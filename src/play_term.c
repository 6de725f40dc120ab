/*
 * play_term.c - ./play --term: the emulator in this terminal, over SSH and inside tmux.
 *
 * Drawing: each character cell shows two pixels, the upper half block U+2580 in the upper
 * pixel's colour over the lower pixel's colour as background, both as 24-bit SGR colours
 * (ESC[38;2;r;g;bm, ESC[48;2;r;g;bm; a colour is sent only when it changes). The frame is
 * scaled (nearest pixel) to fit the terminal, whose size is read every frame (TIOCGWINSZ),
 * or by --scale S (S cells wide per model pixel); the last line is the HUD. One write() a
 * frame, on the alternate screen with the cursor hidden.
 *
 * Keys: the tty in non-canonical mode without echo (ISIG kept, so Ctrl-C is SIGINT), read
 * without blocking each frame. A terminal reports presses, not releases: a button counts
 * as held for TERM_HOLD_S after its last press (the keyboard's auto-repeat keeps a held key
 * held, after its initial delay). Arrows arrive as ESC [ A..D (or ESC O A..D); an ESC alone
 * is the Esc key.
 *
 * The terminal is restored (attributes, cursor, main screen) on every exit: Esc, --steps,
 * SIGINT, SIGTERM, SIGHUP (the loop stops), an error (die -> exit -> atexit), and a crash
 * (SIGSEGV, SIGBUS, SIGFPE, SIGABRT: restored in the handler, then the signal's default).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "src/play.h"

#define TERM_HOLD_S 0.1   // a button stays held this long after its last key press

static struct termios g_saved;
static volatile sig_atomic_t g_raw, g_stop;
static const char RESTORE[] = "\x1b[0m\x1b[?25h\x1b[?1049l";

static void term_restore(void) {
    if (!g_raw) return;
    g_raw = 0;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved);
    if (write(STDOUT_FILENO, RESTORE, sizeof RESTORE - 1) < 0) {}
}

static void on_stop(int sig) { g_stop = sig; }

static void on_crash(int sig) {
    term_restore();   // tcsetattr and write are async-signal-safe
    signal(sig, SIG_DFL);
    raise(sig);
}

static void term_raw(void) {
    if (tcgetattr(STDIN_FILENO, &g_saved) != 0) die("--term: cannot read the terminal's settings: %s", strerror(errno));
    struct termios t = g_saved;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | IEXTEN);
    t.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
    t.c_cc[VMIN] = 0, t.c_cc[VTIME] = 0;
    atexit(term_restore);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL), sigaction(SIGTERM, &sa, NULL), sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_crash;
    sigaction(SIGSEGV, &sa, NULL), sigaction(SIGBUS, &sa, NULL), sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) != 0) die("--term: cannot set the terminal: %s", strerror(errno));
    g_raw = 1;
    static const char enter[] = "\x1b[?1049h\x1b[?25l\x1b[2J";
    if (write(STDOUT_FILENO, enter, sizeof enter - 1) < 0) {}
}

// ---------------------------------------------------------------- keys

typedef struct {
    double last[PLAY_MAX_BUTTONS];   // time of each button's last press (-1: never)
    int key_button[128];             // ASCII key -> button (-1: none)
    int arrow[4];                    // ESC [ A, B, C, D -> UP, DOWN, RIGHT, LEFT
} Keys;

static void keys_init(Keys *k, const PlaySession *s) {
    for (int i = 0; i < PLAY_MAX_BUTTONS; i++) k->last[i] = -1;
    for (int i = 0; i < 128; i++) k->key_button[i] = -1;
    static const char *const map[][2] = {{"z", "A"}, {"x", "B"}, {"q", "SELECT"}, {"r", "START"}};
    for (int i = 0; i < 4; i++) {
        int b = play_button(s, map[i][1]);
        k->key_button[(int)map[i][0][0]] = b, k->key_button[(int)map[i][0][0] - 32] = b;
    }
    static const char *const arrows[4] = {"UP", "DOWN", "RIGHT", "LEFT"};
    for (int i = 0; i < 4; i++) k->arrow[i] = play_button(s, arrows[i]);
}

static void press(Keys *k, int b, double now) {
    if (b >= 0) k->last[b] = now;
}

enum { KEY_NONE = -1, KEY_UP = 256, KEY_DOWN, KEY_RIGHT, KEY_LEFT, KEY_ESC };

// The key at buf[*i] (a byte, an arrow, or the Esc key), *i moved past it; other escape sequences are
// skipped (KEY_NONE).
static int next_key(const unsigned char *buf, ssize_t n, ssize_t *i) {
    unsigned char c = buf[(*i)++];
    if (c != 0x1b) return c;
    if (*i + 1 < n && (buf[*i] == '[' || buf[*i] == 'O') && buf[*i + 1] >= 'A' && buf[*i + 1] <= 'D') {
        int arrow = buf[*i + 1] - 'A';   // A, B, C, D: UP, DOWN, RIGHT, LEFT
        *i += 2;
        return KEY_UP + arrow;
    }
    if (*i < n && (buf[*i] == '[' || buf[*i] == 'O')) {   // its introducer, parameters and final byte
        (*i)++;
        while (*i < n && !(buf[*i] >= 0x40 && buf[*i] <= 0x7e)) (*i)++;
        if (*i < n) (*i)++;
        return KEY_NONE;
    }
    return KEY_ESC;
}

// What key c does: in the game menu a menu command; while playing a command, or a button pressed.
static PlayCmd key_command(Keys *k, int c, int menu, double now) {
    if (c == KEY_ESC) return CMD_QUIT;
    if (c == 'g' || c == 'G' || c == '\t') return CMD_MENU;
    if (menu) {
        if (c == KEY_UP) return CMD_MENU_UP;
        if (c == KEY_DOWN) return CMD_MENU_DOWN;
        if (c == '\r' || c == '\n' || c == 'z' || c == 'Z') return CMD_MENU_CHOOSE;
        return CMD_NONE;
    }
    if (c >= KEY_UP && c <= KEY_LEFT) press(k, k->arrow[c - KEY_UP], now);
    else if (c == 0x7f || c == 0x08) return CMD_RESET;
    else if (c == ' ') return CMD_PAUSE;
    else if (c == '+' || c == '=') return CMD_TEMP_UP;
    else if (c == '-' || c == '_') return CMD_TEMP_DOWN;
    else if (c == 'p' || c == 'P') return CMD_SHOT;
    else if (c >= 0 && c < 128) press(k, k->key_button[c], now);
    return CMD_NONE;
}

static void keys_held(const Keys *k, int A, double now, uint8_t *buttons) {
    for (int i = 0; i < A; i++) buttons[i] = k->last[i] >= 0 && now - k->last[i] < TERM_HOLD_S;
}

// ---------------------------------------------------------------- drawing

typedef struct {
    char *buf;
    size_t n, cap;
    uint8_t *px;   // [H, W, C] the frame at scale 1
} Screen;

static void put(Screen *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(Screen *sc, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int m = vsnprintf(sc->buf + sc->n, sc->cap - sc->n, fmt, ap);
        va_end(ap);
        if (m >= 0 && sc->n + (size_t)m < sc->cap) {
            sc->n += (size_t)m;
            return;
        }
        sc->cap = sc->cap * 2 + (size_t)(m > 0 ? m : 0) + 64;
        sc->buf = xrealloc(sc->buf, sc->cap);
    }
}

static void flush(const Screen *sc) {
    for (size_t off = 0; off < sc->n;) {
        ssize_t w = write(STDOUT_FILENO, sc->buf + off, sc->n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
}

// The frame scaled to the terminal (or to scale cells per pixel), then the HUD line.
static void draw(Screen *sc, const PlaySession *s, int scale, const char *hud) {
    struct winsize ws = {0};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col < 2 || ws.ws_row < 2) ws.ws_col = 80, ws.ws_row = 24;
    const int C = s->C, H = s->H, W = s->W;
    double f = scale > 0 ? scale : fmin((double)ws.ws_col / W, 2.0 * (ws.ws_row - 1) / H);
    int ow = (int)(W * f), oh = (int)(H * f);
    if (ow > ws.ws_col) ow = ws.ws_col;
    if (oh > 2 * (ws.ws_row - 1)) oh = 2 * (ws.ws_row - 1);
    if (ow < 1) ow = 1;
    if (oh < 2) oh = 2;
    play_pixels(s, 1, sc->px);
    sc->n = 0;
    put(sc, "\x1b[H");
    int fg = -1, bg = -1;
    for (int cy = 0; cy < oh / 2; cy++) {
        for (int cx = 0; cx < ow; cx++) {
            int x = (int)(cx / f), yt = (int)(2 * cy / f), yb = (int)((2 * cy + 1) / f);
            const uint8_t *t = sc->px + ((size_t)(yt < H ? yt : H - 1) * W + (x < W ? x : W - 1)) * C;
            const uint8_t *b = sc->px + ((size_t)(yb < H ? yb : H - 1) * W + (x < W ? x : W - 1)) * C;
            int tc = C == 3 ? t[0] << 16 | t[1] << 8 | t[2] : t[0] * 0x010101;
            int bc = C == 3 ? b[0] << 16 | b[1] << 8 | b[2] : b[0] * 0x010101;
            if (tc != fg) put(sc, "\x1b[38;2;%d;%d;%dm", tc >> 16, tc >> 8 & 255, tc & 255), fg = tc;
            if (bc != bg) put(sc, "\x1b[48;2;%d;%d;%dm", bc >> 16, bc >> 8 & 255, bc & 255), bg = bc;
            put(sc, "\xe2\x96\x80");
        }
        put(sc, "\x1b[0m\x1b[K\r\n");
        fg = bg = -1;
    }
    put(sc, "\x1b[0m\x1b[K%.*s\x1b[J", ws.ws_col, hud);
    flush(sc);
}

// The game menu as text: a title, the games (the one under the cursor in reverse video, marked >),
// the keys; the HUD on the last line.
static void draw_menu(Screen *sc, const PlaySession *s, const PlayMenu *m, const char *hud) {
    struct winsize ws = {0};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col < 2 || ws.ws_row < 2) ws.ws_col = 80, ws.ws_row = 24;
    char title[300], hint[2][64];
    play_menu_text(s, m, title, hint, sizeof title);
    int w = ws.ws_col - 2;
    sc->n = 0;
    put(sc, "\x1b[H\x1b[0m\x1b[K\r\n \x1b[1m%.*s\x1b[0m\x1b[K\r\n\x1b[K\r\n", w, title);
    for (int g = 0; g < s->n_games; g++)
        put(sc, "   %s%s %-20s\x1b[0m\x1b[K\r\n", g == m->sel ? "\x1b[7m" : "", g == m->sel ? ">" : " ", s->games[g]);
    put(sc, "\x1b[K\r\n %.*s\x1b[K\r\n %.*s\x1b[K\x1b[J\x1b[%d;1H%.*s", w, hint[0], w, hint[1], ws.ws_row, ws.ws_col,
        hud);
    flush(sc);
}

int play_term(PlaySession *s, const PlayOptions *o) {
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        die("--term needs a terminal on stdin and stdout (for files, use the headless mode: --script or --policy)");
    Keys k;
    keys_init(&k, s);
    Screen sc = {xmalloc(1 << 16), 0, 1 << 16, xmalloc((size_t)s->C * s->H * s->W)};
    uint8_t *buttons = xcalloc((size_t)s->A, 1);
    PlayMenu menu;
    play_menu_init(&menu, s, o);
    term_raw();
    play_reset(s);
    FrameClock clk;
    clock_start(&clk, o->fps);
    int paused = 0, quit = 0;
    long steps = 0;
    double fps = 0, t_prev = clk.t0;
    char msg[1300] = "", hud[1600];
    while (!g_stop && !quit) {
        double now = now_seconds();
        unsigned char in[256];
        ssize_t n = read(STDIN_FILENO, in, sizeof in);
        for (ssize_t i = 0; i < n && !quit;) {
            PlayCmd cmd = key_command(&k, next_key(in, n, &i), menu.open, now);
            if (cmd != CMD_NONE) msg[0] = 0;
            quit = play_command(s, o, &menu, cmd, &paused, msg, sizeof msg);
        }
        if (quit) break;
        keys_held(&k, s->A, now, buttons);
        if (!paused && !menu.open) play_step(s, buttons), steps++;
        play_hud(s, &menu, fps, buttons, paused, msg, hud, sizeof hud);
        if (menu.open) draw_menu(&sc, s, &menu, hud);
        else draw(&sc, s, o->scale, hud);
        if (o->steps > 0 && steps >= o->steps) break;
        clock_wait(&clk);
        now = now_seconds();
        if (now > t_prev) fps = fps > 0 ? 0.9 * fps + 0.1 / (now - t_prev) : 1 / (now - t_prev);
        t_prev = now;
    }
    term_restore();
    play_report(s, &clk, steps);
    free(sc.buf), free(sc.px), free(buttons);
    return g_stop ? 128 + g_stop : 0;
}
