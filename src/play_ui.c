/*
 * play_ui.c - what ./play's interactive modes share (see play.h): the commands (pause,
 * reset, screenshot, temperature), the one-line HUD and the screenshot PNG.
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

int play_command(PlaySession *s, const PlayOptions *o, PlayCmd cmd, int *paused, char *msg, size_t cap) {
    Err err = {{0}};
    char path[1200];
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
    case CMD_NONE: break;
    }
    return 0;
}

void play_hud(const PlaySession *s, double fps, const uint8_t *buttons, int paused, const char *msg, char *buf,
              size_t cap) {
    char b[256], t[16];
    if (s->R.stochastic) snprintf(t, sizeof t, "%.2f", s->dyn.temperature);
    else snprintf(t, sizeof t, "-");
    snprintf(buf, cap, "%.1f fps  step %ld  T %s  %s%s%s%s", fps, s->step, t, play_buttons_str(s, buttons, b, sizeof b),
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
