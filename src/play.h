/*
 * play.h - ./play's modes (src/play.c parses the options and runs the headless mode):
 * the terminal (src/play_term.c), the window (src/play_window.c) and the measurements of
 * --check (src/play_check.c), and the little they share.
 */
#ifndef NEMU_PLAY_H
#define NEMU_PLAY_H

#include <stdint.h>
#include "src/play_session.h"

typedef struct {
    PlayOpen open;
    double fps;                 // 0: as fast as possible
    int scale;                  // 0: the mode's default
    long steps;                 // > 0: stop after this many steps (interactive modes too)
    const char *script, *policy, *gif, *png_dir, *csv, *shot_dir, *check_out;
    int term, check, has_temperature;
    long check_frames;          // --check: real frames searched for the nearest one
} PlayOptions;

// Interactive commands of the window and terminal modes. CMD_MENU (G or Tab) opens the game menu of a
// run of several games (in the menu: back to the game played); in the menu, the arrows move the cursor
// (CMD_MENU_UP, CMD_MENU_DOWN) and Enter or Z chooses (CMD_MENU_CHOOSE).
typedef enum {
    CMD_NONE, CMD_QUIT, CMD_PAUSE, CMD_RESET, CMD_SHOT, CMD_TEMP_UP, CMD_TEMP_DOWN,
    CMD_MENU, CMD_MENU_UP, CMD_MENU_DOWN, CMD_MENU_CHOOSE
} PlayCmd;

// The game menu of a run of several games (roadmap 5.3): while open, no step is played.
typedef struct {
    int open;     // shown now
    int sel;      // the game under the cursor
    int played;   // a game was chosen: G or Tab in the menu goes back to it
} PlayMenu;

// Open at the start when the run has several games and --game did not name one.
void play_menu_init(PlayMenu *m, const PlaySession *s, const PlayOptions *o);
// Applies one command to s (reset, temperature, screenshot, pause toggle, the menu). Returns 1 on CMD_QUIT.
int play_command(PlaySession *s, const PlayOptions *o, PlayMenu *m, PlayCmd cmd, int *paused, char *msg,
                 size_t cap);
// The menu's title and its two lines of keys (the games are s->games, the cursor m->sel).
void play_menu_text(const PlaySession *s, const PlayMenu *m, char *title, char hint[2][64], size_t cap);
// The one-line HUD: "30.0 fps  step 123  T 0.00  LEFT+A" (a run of several games: the game first;
// + "  PAUSED", + msg); in the menu, "menu" and the keys.
void play_hud(const PlaySession *s, const PlayMenu *m, double fps, const uint8_t *buttons, int paused,
              const char *msg, char *buf, size_t cap);
// Writes s's frame as a PNG into o->shot_dir (play_<run>_<step>.png); the path into path.
int play_screenshot(const PlaySession *s, const PlayOptions *o, char *path, size_t cap, Err *err);

// "play: N steps from START in S s: R frames/s (target F; L late)" on stderr.
void play_report(const PlaySession *s, const FrameClock *c, long steps);

int play_term(PlaySession *s, const PlayOptions *o);     // --term
int play_window(PlaySession *s, const PlayOptions *o);   // the default mode
// 1 when this build has the window (SDL2); else 0, and ./play says how to get it.
int play_window_built(void);
// Opens the window system (SDL_Init) or dies with one line (no display): before any work.
void play_window_preflight(void);
int play_check(const PlayOptions *o);                     // --check

#endif
