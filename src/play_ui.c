/*
 * play_ui.c - what ./play's interactive modes share (see play.h): the commands (pause,
 * reset, screenshot, temperature), the game menu of a run of several games, the one-line HUD
 * and the screenshot PNG.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "data/png.h"
#include "base/clock.h"
#include "src/play.h"
#include "src/run.h"   // signals_stop_requested

#define TEMP_STEP 0.1   // +/- change the temperature by this much

void play_menu_init(PlayMenu *m, const PlaySession *s, const PlayOptions *o) {
    memset(m, 0, sizeof *m);
    m->open = s->n_games > 0 && !o->open.game;
    m->played = s->n_games > 0 && o->open.game;   // --game chose one: G in the menu goes back to it
    m->sel = s->game;
}

// A command while the menu is shown: the cursor, a choice, back to the game, quit; others do nothing.
static int menu_command(PlaySession *s, PlayMenu *m, PlayCmd cmd, int *paused) {
    switch (cmd) {
    case CMD_QUIT: return 1;
    case CMD_MENU_UP: m->sel = (m->sel + s->n_games - 1) % s->n_games; break;
    case CMD_MENU_DOWN: m->sel = (m->sel + 1) % s->n_games; break;
    case CMD_MENU_CHOOSE:
        play_set_game(s, m->sel);
        m->open = 0, m->played = 1, *paused = 0;   // the HUD and the window's title name the game
        break;
    case CMD_MENU:
        if (m->played) m->open = 0;
        break;
    default: break;
    }
    return 0;
}

int play_command(PlaySession *s, const PlayOptions *o, PlayMenu *m, PlayCmd cmd, int *paused, char *msg,
                 size_t cap) {
    Err err = {{0}};
    char path[1200];
    if (m->open) return menu_command(s, m, cmd, paused);
    switch (cmd) {
    case CMD_QUIT: return 1;
    case CMD_PAUSE: *paused = !*paused; break;
    case CMD_RESET: play_reset(s), snprintf(msg, cap, "reset"); break;
    case CMD_SHOT:
        if (play_screenshot(s, o, path, sizeof path, &err) < 0) snprintf(msg, cap, "%s", err.msg);
        else snprintf(msg, cap, "saved %s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
        break;
    case CMD_TEMP_UP:
    case CMD_TEMP_DOWN:
        if (!s->R.stochastic) snprintf(msg, cap, "deterministic dynamics: no temperature");
        else play_set_temperature(s, s->dyn.temperature + (cmd == CMD_TEMP_UP ? TEMP_STEP : -TEMP_STEP));
        break;
    case CMD_MENU:
        if (s->n_games == 0) snprintf(msg, cap, "a run of one game: no game menu");
        else m->open = 1, m->sel = s->game;
        break;
    default: break;
    }
    return 0;
}

void play_menu_text(const PlaySession *s, const PlayMenu *m, char *title, char hint[2][64], size_t cap) {
    snprintf(title, cap, "%s: choose a game", s->R.run_name);
    snprintf(hint[0], 64, "Up/Down, Enter or Z: play");
    snprintf(hint[1], 64, "%sEsc: quit", m->played ? "G: back, " : "");
}

void play_hud(const PlaySession *s, const PlayMenu *m, double fps, const uint8_t *buttons, int paused,
              const char *msg, char *buf, size_t cap) {
    char b[256], t[16], g[80] = "";
    if (m->open) {
        snprintf(buf, cap, "menu: %d games  Up/Down  Enter/Z  Esc", s->n_games);
        return;
    }
    if (s->n_games > 0) snprintf(g, sizeof g, "%s  ", s->games[s->game]);
    if (s->R.stochastic) snprintf(t, sizeof t, "%.2f", s->dyn.temperature);
    else snprintf(t, sizeof t, "-");
    snprintf(buf, cap, "%s%.1f fps  step %ld  T %s  %s%s%s%s", g, fps, s->step, t, play_buttons_str(s, buttons, b, sizeof b),
             paused ? "  PAUSED" : "", msg && *msg ? "  " : "", msg ? msg : "");
}

int play_screenshot(const PlaySession *s, const PlayOptions *o, char *path, size_t cap, Err *err) {
    int scale = o->scale > 0 ? o->scale : 1;
    snprintf(path, cap, "%s/play_%s_%06ld.png", o->shot_dir ? o->shot_dir : ".", s->R.run_name, s->step);
    uint8_t *px = xmalloc((size_t)s->C * s->H * s->W * scale * scale);
    play_pixels(s, scale, px);
    int rc = png_write(path, px, s->W * scale, s->H * scale, s->C, err);
    free(px);
    return rc;
}

// The achieved rate, on stderr.
void play_report(const PlaySession *s, const FrameClock *c, long steps) {
    char target[32];
    if (c->fps > 0) snprintf(target, sizeof target, "target %g", c->fps);
    else snprintf(target, sizeof target, "as fast as possible");
    fprintf(stderr, "play: %ld steps from %s in %.2f s: %.1f frames/s (%s; %ld late)%s\n", steps, s->start_desc,
            now_seconds() - c->t0, clock_rate(c), target, c->late,
            signals_stop_requested() ? " (stopped by a signal)" : "");
}
