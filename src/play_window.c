/*
 * play_window.c - ./play's window (SDL2): the frame scaled by --scale (default 6), a one-line
 * HUD under it (fps, step, temperature, buttons held; the font of evaluation/font.h), keys
 * as gymemu's main.py: Z = A, X = B, Q = SELECT, R = START, arrows = D-pad (held while the
 * key is down), + / - temperature, space pause, Backspace reset, P screenshot, Esc quit.
 * A run of several games without --game starts in the game menu (the games listed in the
 * window: Up/Down, Enter or Z plays one, Esc quits); G or Tab opens it again while playing.
 * The window may be resized; the picture keeps its aspect ratio.
 *
 * Built only when pkg-config finds SDL2 (the Makefile then defines NEMU_SDL and links SDL2
 * into ./play alone); without it play_window_built() is 0 and ./play says how to get it.
 */
#include "src/play.h"

#ifdef NEMU_SDL
#include <SDL.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "evaluation/font.h"
#include "evaluation/picture.h"   // Canvas
#include "src/run.h"              // signals_install

#define WINDOW_SCALE 6   // default pixels per model pixel

int play_window_built(void) { return 1; }

typedef struct { SDL_Scancode key; const char *button; } KeyMap;
static const KeyMap KEYS[] = {{SDL_SCANCODE_Z, "A"},      {SDL_SCANCODE_X, "B"},       {SDL_SCANCODE_Q, "SELECT"},
                              {SDL_SCANCODE_R, "START"},  {SDL_SCANCODE_UP, "UP"},     {SDL_SCANCODE_DOWN, "DOWN"},
                              {SDL_SCANCODE_LEFT, "LEFT"}, {SDL_SCANCODE_RIGHT, "RIGHT"}};

static PlayCmd key_command(SDL_Keycode k, int menu) {
    if (k == SDLK_g || k == SDLK_TAB) return CMD_MENU;
    if (menu) {
        switch (k) {
        case SDLK_ESCAPE: return CMD_QUIT;
        case SDLK_UP: return CMD_MENU_UP;
        case SDLK_DOWN: return CMD_MENU_DOWN;
        case SDLK_RETURN: case SDLK_KP_ENTER: case SDLK_z: return CMD_MENU_CHOOSE;
        default: return CMD_NONE;
        }
    }
    switch (k) {
    case SDLK_ESCAPE: return CMD_QUIT;
    case SDLK_SPACE: return CMD_PAUSE;
    case SDLK_BACKSPACE: return CMD_RESET;
    case SDLK_p: return CMD_SHOT;
    case SDLK_PLUS: case SDLK_EQUALS: case SDLK_KP_PLUS: return CMD_TEMP_UP;
    case SDLK_MINUS: case SDLK_KP_MINUS: return CMD_TEMP_DOWN;
    default: return CMD_NONE;
    }
}

typedef struct {
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    Canvas cv;
    int scale, hud_h, font;
} Window;

// Without a display SDL would fall back to its "offscreen" driver and play to nobody: a window
// needs DISPLAY (X11) or WAYLAND_DISPLAY, unless SDL_VIDEODRIVER names a driver on purpose.
void play_window_preflight(void) {
    const char *drv = getenv("SDL_VIDEODRIVER");
    int chosen = drv && *drv, x11 = getenv("DISPLAY") && *getenv("DISPLAY");
    int wl = getenv("WAYLAND_DISPLAY") && *getenv("WAYLAND_DISPLAY");
    if (!chosen && !x11 && !wl)
        die("no display for a window (DISPLAY and WAYLAND_DISPLAY are unset): play in the terminal with --term, "
            "or headless with --script or --policy");
    if (!chosen && x11 != wl) SDL_SetHint(SDL_HINT_VIDEODRIVER, x11 ? "x11" : "wayland");   // no probing of the other
    if (SDL_Init(SDL_INIT_VIDEO) != 0)
        die("cannot open a window: %s (play in the terminal with --term, or headless with --script or --policy)",
            SDL_GetError());
    const char *cur = SDL_GetCurrentVideoDriver();
    if (!chosen && cur && (!strcmp(cur, "offscreen") || !strcmp(cur, "dummy"))) {
        SDL_Quit();
        die("cannot open a window on display %s: play in the terminal with --term, or headless with --script or "
            "--policy", x11 ? getenv("DISPLAY") : getenv("WAYLAND_DISPLAY"));
    }
}

static void window_open(Window *w, const PlaySession *s, const PlayOptions *o) {
    play_window_preflight();   // SDL counts its initialisations: SDL_Quit in window_close ends both
    w->scale = o->scale > 0 ? o->scale : WINDOW_SCALE;
    int iw = s->W * w->scale, ih = s->H * w->scale;
    w->font = iw >= 64 * FONT_ADVANCE ? 2 : 1;   // the HUD: about 60 characters wide
    w->hud_h = FONT_LINE * w->font + 4;
    canvas_init(&w->cv, iw, ih + w->hud_h, RGB_BLACK);
    char title[300];
    snprintf(title, sizeof title, "nemu play - %s", s->R.run_name);
    w->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, w->cv.w, w->cv.h,
                              SDL_WINDOW_RESIZABLE);
    w->ren = w->win ? SDL_CreateRenderer(w->win, -1, 0) : NULL;
    w->tex = w->ren ? SDL_CreateTexture(w->ren, SDL_PIXELFORMAT_RGB24, SDL_TEXTUREACCESS_STREAMING, w->cv.w, w->cv.h)
                    : NULL;
    if (!w->tex) {
        const char *e = SDL_GetError();
        SDL_Quit();
        die("cannot open a %dx%d window: %s", w->cv.w, w->cv.h, e);
    }
    SDL_RenderSetLogicalSize(w->ren, w->cv.w, w->cv.h);
}

static void window_close(Window *w) {
    SDL_DestroyTexture(w->tex);
    SDL_DestroyRenderer(w->ren);
    SDL_DestroyWindow(w->win);
    SDL_Quit();
    canvas_free(&w->cv);
}

static void window_title(Window *w, const PlaySession *s, const PlayMenu *m) {
    char title[400];
    if (s->n_games > 0 && !m->open) snprintf(title, sizeof title, "nemu play - %s - %s", s->R.run_name, s->games[s->game]);
    else snprintf(title, sizeof title, "nemu play - %s", s->R.run_name);
    SDL_SetWindowTitle(w->win, title);
}

// The largest font scale in 1..max at which text fits w pixels with a margin.
static int fit(const char *text, int w, int max) {
    int f = max;
    while (f > 1 && font_text_width(text, f) + 16 > w) f--;
    return f;
}

// The game menu over the picture's area: a title, the games (the one under the cursor on a blue bar,
// marked >) and the keys, in the largest font (1..3) whose lines fit the width.
static void menu_draw(Window *w, const PlaySession *s, const PlayMenu *m) {
    char title[300], hint[2][64], line[96];
    play_menu_text(s, m, title, hint, sizeof title);
    int f = fit(title, w->cv.w, 3), area = s->H * w->scale;
    for (int g = 0; g < s->n_games; g++) {
        snprintf(line, sizeof line, "  > %s", s->games[g]);
        if (fit(line, w->cv.w, 3) < f) f = fit(line, w->cv.w, 3);
    }
    canvas_fill_rect(&w->cv, 0, 0, w->cv.w, area, (Rgb){16, 16, 32});
    int x = 8, y = 8, lh = FONT_LINE * f;
    canvas_text(&w->cv, x, y, title, RGB_WHITE, f);
    y += 2 * lh;
    for (int g = 0; g < s->n_games; g++, y += lh + 2 * f) {
        if (g == m->sel) canvas_fill_rect(&w->cv, 0, y - f, w->cv.w, lh + f, (Rgb){40, 80, 200});
        snprintf(line, sizeof line, "%s %s", g == m->sel ? ">" : " ", s->games[g]);
        canvas_text(&w->cv, x + 2 * f, y, line, g == m->sel ? RGB_WHITE : (Rgb){170, 170, 190}, f);
    }
    int fh = fit(hint[0], w->cv.w, f), fh1 = fit(hint[1], w->cv.w, fh);
    fh = fh1 < fh ? fh1 : fh;
    for (int i = 0; i < 2; i++)
        canvas_text(&w->cv, x, area - FONT_LINE * fh * (2 - i) - 4, hint[i], (Rgb){200, 200, 120}, fh);
}

static void window_draw(Window *w, const PlaySession *s, const PlayMenu *m, const char *hud) {
    if (m->open) menu_draw(w, s, m);
    else canvas_blit_planar(&w->cv, s->frame, s->C, s->H, s->W, 0, 0, w->scale);
    int y = s->H * w->scale;
    canvas_fill_rect(&w->cv, 0, y, w->cv.w, w->hud_h, RGB_BLACK);
    canvas_text(&w->cv, 2, y + 2, hud, RGB_WHITE, w->font);
    SDL_UpdateTexture(w->tex, NULL, w->cv.px, w->cv.w * 3);
    SDL_RenderClear(w->ren);
    SDL_RenderCopy(w->ren, w->tex, NULL, NULL);
    SDL_RenderPresent(w->ren);
}

int play_window(PlaySession *s, const PlayOptions *o) {
    Window w;
    memset(&w, 0, sizeof w);
    window_open(&w, s, o);
    signals_install();   // SIGINT/SIGTERM end the loop like Esc
    enum { NK = sizeof KEYS / sizeof *KEYS };
    int bidx[NK];
    uint8_t stale[NK] = {0};   // keys down when the menu closed (Z chose the game): no button until released
    for (int i = 0; i < NK; i++) bidx[i] = play_button(s, KEYS[i].button);
    uint8_t *buttons = xcalloc((size_t)s->A, 1);
    PlayMenu menu;
    play_menu_init(&menu, s, o);
    window_title(&w, s, &menu);
    play_reset(s);
    FrameClock clk;
    clock_start(&clk, o->fps);
    int paused = 0, quit = 0;
    long steps = 0;
    double fps = 0, t_prev = clk.t0;
    char msg[1300] = "", hud[1600];
    while (!quit && !signals_stop_requested()) {
        SDL_Event ev;
        const int was_open = menu.open;
        while (SDL_PollEvent(&ev)) {
            PlayCmd cmd = ev.type == SDL_QUIT ? CMD_QUIT
                          : ev.type == SDL_KEYDOWN && !ev.key.repeat ? key_command(ev.key.keysym.sym, menu.open)
                                                                       : CMD_NONE;
            if (cmd != CMD_NONE) msg[0] = 0;
            quit |= play_command(s, o, &menu, cmd, &paused, msg, sizeof msg);
        }
        if (quit) break;
        const Uint8 *kb = SDL_GetKeyboardState(NULL);
        if (was_open != menu.open) window_title(&w, s, &menu);
        memset(buttons, 0, (size_t)s->A);
        for (int i = 0; i < NK; i++) {
            if (was_open && !menu.open) stale[i] = kb[KEYS[i].key] != 0;
            if (!kb[KEYS[i].key]) stale[i] = 0;
            if (bidx[i] >= 0 && kb[KEYS[i].key] && !stale[i] && !menu.open) buttons[bidx[i]] = 1;
        }
        if (!paused && !menu.open) play_step(s, buttons), steps++;
        play_hud(s, &menu, fps, buttons, paused, msg, hud, sizeof hud);
        window_draw(&w, s, &menu, hud);
        if (o->steps > 0 && steps >= o->steps) break;
        clock_wait(&clk);
        double now = now_seconds();
        if (now > t_prev) fps = fps > 0 ? 0.9 * fps + 0.1 / (now - t_prev) : 1 / (now - t_prev);
        t_prev = now;
    }
    window_close(&w);
    play_report(s, &clk, steps);
    free(buttons);
    return signals_stop_requested() ? 128 + signals_stop_requested() : 0;
}

#else   // built without SDL2

int play_window_built(void) { return 0; }
void play_window_preflight(void) {}
int play_window(PlaySession *s, const PlayOptions *o) {
    (void)s, (void)o;
    return 1;   // not reached: ./play checks play_window_built() before opening the run
}

#endif
