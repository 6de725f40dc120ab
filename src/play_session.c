/*
 * play_session.c - the emulator of ./play stepped with buttons, its start frame, the frame
 * in 8-bit pixels, button names, the headless button sources and the frame clock (see
 * play_session.h).
 */
#include "src/play_session.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/threads.h"
#include "data/actions_csv.h"
#include "data/dataset.h"     // dataset_split
#include "data/episodes.h"
#include "data/png.h"
#include "data/preprocess.h"
#include "nn/dynamics.h"   // dyn_hist_depth

// Splits comma-separated names into s->names; 0 when they are exactly A names.
static int set_names(PlaySession *s, const char *list) {
    int n = 0;
    const char *p = list;
    while (*p && n < PLAY_MAX_BUTTONS) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == 0 || len >= sizeof s->names[0]) return -1;
        memcpy(s->names[n], p, len);
        s->names[n++][len] = 0;
        if (!c) break;
        p = c + 1;
    }
    return n == s->A ? 0 : -1;
}

// Frame t of an episode file, through the run's preprocessing, into s->start; with a history,
// the frames before it into s->past (the episode's first frame repeated before it, as ./eval and
// training take a start's past).
static void start_from_file(PlaySession *s, EpisodeFile *f, int e, int64_t t) {
    Err err = {{0}};
    const size_t F = (size_t)s->C * s->H * s->W;
    uint8_t *raw = xmalloc((size_t)f->H * f->W * f->C), *u8 = xmalloc(F);
    Preprocessor pp;
    if (preprocessor_init(&pp, f->H, f->W, f->C, &(Preprocess){s->H, s->W, s->C}, &err) < 0)
        die("--start %s: %s", f->path, err.msg);
    uint8_t *scratch = xmalloc(preprocessor_scratch_bytes(&pp) + 1);
    for (int k = 0; k <= s->depth; k++) {   // k = 0: the start frame; k >= 1: k steps before it
        if (episode_file_read_frames(f, e, t >= k ? t - k : 0, 1, raw, &err) < 0) die("--start: %s", err.msg);
        preprocess_frame(&pp, raw, u8, scratch);
        float *out = k ? s->past + (size_t)(k - 1) * F : s->start;
        for (size_t i = 0; i < F; i++) out[i] = u8[i] / 255.0f;
    }
    s->has_past = s->depth > 0;
    preprocessor_free(&pp);
    free(scratch), free(raw), free(u8);
}

// Parses "FILE.h5[:EPISODE[:STEP]]" (EPISODE the i of /episode_<i>).
static void parse_h5_spec(const char *spec, char *path, size_t cap, long *ep, long *step) {
    const char *dot = strstr(spec, ".h5");
    const char *colon = dot ? strchr(dot, ':') : NULL;
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (len >= cap) die("--start %s: path too long", spec);
    memcpy(path, spec, len);
    path[len] = 0;
    *ep = -1, *step = 0;
    if (!colon) return;
    char *end;
    errno = 0;
    *ep = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || errno || *ep < 0 || (*end && *end != ':'))
        die("--start %s: expected FILE.h5[:EPISODE[:STEP]] with EPISODE the i of /episode_<i>", spec);
    if (*end == ':') {
        const char *st = end + 1;
        *step = strtol(st, &end, 10);
        if (end == st || *end || errno || *step < 0)
            die("--start %s: expected FILE.h5[:EPISODE[:STEP]] with STEP a frame index >= 0", spec);
    }
}

// The start frame (see play_session.h) and the button names of the run's data file.
static void load_start(PlaySession *s, const char *spec) {
    Err err = {{0}};
    char files[CFG_MAX_FILES][CFG_STR];
    cfg_data_files(&s->R.cfg, files);
    const char *data = files[s->game];   // a run of several games: the file of the game played
    size_t sl = spec ? strlen(spec) : 0;
    if (spec && sl > 4 && !strcasecmp(spec + sl - 4, ".png")) {
        Image img;
        if (png_read(spec, &img, &err) < 0) die("--start %s", err.msg);
        Preprocessor pp;
        if (preprocessor_init(&pp, img.h, img.w, img.c, &(Preprocess){s->H, s->W, s->C}, &err) < 0)
            die("--start %s: %s (the run's autoencoder takes %dx%dx%d frames, HxWxC)", spec, err.msg, s->H, s->W,
                s->C);
        uint8_t *u8 = xmalloc((size_t)s->C * s->H * s->W), *scratch = xmalloc(preprocessor_scratch_bytes(&pp) + 1);
        preprocess_frame(&pp, img.px, u8, scratch);
        for (size_t i = 0; i < (size_t)s->C * s->H * s->W; i++) s->start[i] = u8[i] / 255.0f;
        free(u8), free(scratch);
        preprocessor_free(&pp);
        image_free(&img);
        snprintf(s->start_desc, sizeof s->start_desc, "%s", spec);
        s->has_past = 0;   // a picture has no past: the start frame repeated
        s->start_ep = -1;
    } else {
        char path[1024];
        long ep = -1, step = 0;
        if (spec) parse_h5_spec(spec, path, sizeof path, &ep, &step);
        else snprintf(path, sizeof path, "%s", data);
        if (!readable(path)) {
            if (spec) die("--start %s: %s", path, strerror(errno ? errno : ENOENT));
            die("%s: data.path = %s (from %s) is not readable here: run from the folder ./train ran in, or pass "
                "--start FILE.h5 or FRAME.png", s->R.run_dir, data, s->R.cfg_path);
        }
        EpisodeFile f;
        if (episode_file_open_odd(&f, path, s->R.cfg.data.accept_odd, &err) < 0) die("--start %s", err.msg);
        int e = 0;
        if (ep >= 0) {
            for (e = 0; e < f.n_episodes && f.ep[e].id != ep; e++) {}
            if (e == f.n_episodes) die("--start %s: no /episode_%ld in the file", spec, ep);
        } else if (!spec) {   // the run's first test episode, as ./train split the file
            Split sp;
            if (dataset_split(&sp, f.n_episodes, s->R.cfg.data.test_episodes, s->R.cfg.data.val_split,
                              s->R.cfg.run.seed, &err) < 0)
                die("%s: %s", path, err.msg);
            e = sp.n_test > 0 ? sp.test[0] : 0;
            split_free(&sp);
        }
        if (step >= f.ep[e].frames)
            die("--start %s: episode %d has %lld frames (STEP 0..%lld)", spec, f.ep[e].id, (long long)f.ep[e].frames,
                (long long)f.ep[e].frames - 1);
        if (f.A != s->A)
            die("--start %s: %d action buttons per step, but the dynamics model %s takes %d", path, f.A,
                s->R.dyn_path, s->A);
        start_from_file(s, &f, e, step);
        if (f.action_names[0] && set_names(s, f.action_names) < 0)
            die("%s: action_names '%s' do not name the model's %d buttons", path, f.action_names, s->A);
        snprintf(s->start_desc, sizeof s->start_desc, "%s:%d:%ld", path, f.ep[e].id, step);
        snprintf(s->start_file, sizeof s->start_file, "%s", path);
        s->start_ep = e, s->start_t = step;
        episode_file_close(&f);
    }
}

void play_open(PlaySession *s, const PlayOpen *o) {
    memset(s, 0, sizeof *s);
    char game_run[PATH_MAX];
    const int pick = o->game && !o->run;   // --game alone picks the run; with --run, a game of the run
    if (pick) resolve_game_run(o->game, game_run, sizeof game_run);
    emu_run_open(pick ? game_run : o->run, &s->R);
    s->n_games = emu_run_games(&s->R, s->games);
    if (o->run && o->game && s->n_games == 0)
        die("--game %s: %s is a run of one game; --game with --run picks a game of a run of several", o->game,
            s->R.run_dir);
    if (s->n_games > 0 && !o->game && !o->menu)
        die("%s is a run of %d games (data.path = %s): give --game NAME, the game to play or measure (the window "
            "and --term offer a menu)", s->R.run_dir, s->n_games, s->R.cfg.data.path);
    if (s->n_games > 0 && o->game) s->game = emu_run_game_index(&s->R, s->games, s->n_games, o->game, "--game");
    if (!s->R.stochastic && o->temperature > 0)
        die("--temperature %g: the dynamics model of %s is deterministic (dynamics.type = deterministic, "
            "hypotheses = 1); temperature applies to dynamics.type = vae or hypotheses > 1 only", o->temperature,
            s->R.run_dir);
    s->C = s->R.ac.C, s->H = s->R.ac.H, s->W = s->R.ac.W, s->A = s->R.dyn_A - s->n_games;
    if (s->A > PLAY_MAX_BUTTONS) die("%s: %d buttons; ./play handles up to %d", s->R.dyn_path, s->A, PLAY_MAX_BUTTONS);
    for (int i = 0; i < s->A; i++) snprintf(s->names[i], sizeof s->names[i], "b%d", i);
    if (s->A == NES_BUTTONS) set_names(s, NES_ACTION_NAMES);   // SPEC.md section 3's, until the data name theirs
    size_t F = (size_t)s->C * s->H * s->W;
    s->start = xmalloc_floats(F), s->frame = xmalloc_floats(F), s->prev = xmalloc_floats(F);
    // the checkpoint's history, checked against the config by emu_run_open
    s->depth = dyn_hist_depth(s->R.cfg.dynamics.history_off, s->R.cfg.dynamics.history);
    s->past = xmalloc_floats((size_t)(s->depth > 0 ? s->depth : 1) * F);
    s->a = xmalloc_floats((size_t)(s->A + s->n_games));
    s->start_spec = o->start;
    load_start(s, o->start);
    threads_use(o->threads >= 0 ? o->threads : s->R.cfg.run.threads);
    Rng init;
    rng_seed(&init, 0);
    emu_run_models(&s->R, 1, &init, &s->ae, &s->dyn);
    rng_seed(&s->eps_rng, o->seed ^ 0x5851f42d4c957f2dull);
    s->dyn.rng = &s->eps_rng;
    s->dyn.temperature = (float)o->temperature;
    emulator_ae_dyn(&s->em, &s->ctx, &s->ae, &s->dyn);
    s->ctx.loop.compose = (float)(o->compose >= 0 ? o->compose : s->R.cfg.dynamics.compose);
    s->ctx.loop.deadband = (float)(o->deadband >= 0 ? o->deadband : s->R.cfg.dynamics.deadband);
    s->ctx.loop.reencode = o->reencode >= 0 ? o->reencode : s->R.cfg.dynamics.reencode;
}

void play_close(PlaySession *s) {
    emulator_ae_dyn_free(&s->ctx);
    ae_free(&s->ae);
    dynm_free(&s->dyn);
    free(s->start), free(s->past), free(s->frame), free(s->prev), free(s->a);
}

void play_reset(PlaySession *s) {
    s->em.start(s->em.ctx, s->start, 1);
    if (s->has_past) s->em.start_past(s->em.ctx, s->past, 1);   // a recording's frame: its real past
    s->em.draw(s->em.ctx, s->frame, 1);
    memcpy(s->prev, s->frame, (size_t)s->C * s->H * s->W * sizeof(float));
    s->step = 0;
}

void play_set_game(PlaySession *s, int g) {
    if (g < 0 || g >= s->n_games) return;
    if (g != s->game && !s->start_spec) s->game = g, load_start(s, NULL);
    s->game = g;
    play_reset(s);
}

void play_step(PlaySession *s, const uint8_t *buttons) {
    for (int i = 0; i < s->A; i++) s->a[i] = buttons[i] ? 1.0f : 0.0f;
    for (int g = 0; g < s->n_games; g++) s->a[s->A + g] = g == s->game;   // the game played
    float *t = s->prev;
    s->prev = s->frame, s->frame = t;
    s->em.step(s->em.ctx, s->a, 1);
    s->em.draw(s->em.ctx, s->frame, 1);
    s->step++;
}

double play_set_temperature(PlaySession *s, double t) {
    if (!s->R.stochastic) return 0;
    s->dyn.temperature = (float)(t > 0 ? t : 0);
    return s->dyn.temperature;
}

void play_pixels(const PlaySession *s, int scale, uint8_t *px) {
    const int C = s->C, H = s->H, W = s->W, SW = W * scale;
    for (int y = 0; y < H; y++) {
        uint8_t *row = px + (size_t)y * scale * SW * C;
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++) {
                float v = s->frame[((size_t)c * H + y) * W + x];
                uint8_t b = (uint8_t)lrintf((v < 0 ? 0 : v > 1 ? 1 : v) * 255.0f);
                for (int k = 0; k < scale; k++) row[((size_t)x * scale + k) * C + c] = b;
            }
        for (int k = 1; k < scale; k++) memcpy(row + (size_t)k * SW * C, row, (size_t)SW * C);
    }
}

int play_button(const PlaySession *s, const char *name) {
    for (int i = 0; i < s->A; i++)
        if (!strcasecmp(s->names[i], name)) return i;
    return -1;
}

const char *play_buttons_str(const PlaySession *s, const uint8_t *buttons, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < s->A; i++)
        if (buttons[i] && n + strlen(s->names[i]) + 2 < cap)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "+" : "", s->names[i]);
    if (!n) snprintf(buf, cap, "-");
    return buf;
}

FrameStats play_frame_stats(const PlaySession *s) {
    size_t F = (size_t)s->C * s->H * s->W;
    double sum = 0, sq = 0, d = 0;
    for (size_t i = 0; i < F; i++) {
        double v = s->frame[i];
        sum += v, sq += v * v, d += fabs(v - s->prev[i]);
    }
    double mean = sum / (double)F, var = sq / (double)F - mean * mean;
    return (FrameStats){mean, sqrt(var > 0 ? var : 0), d / (double)F};
}

// ---------------------------------------------------------------- headless button sources

void policy_script(Policy *p, const PlaySession *s, const char *path) {
    memset(p, 0, sizeof *p);
    Err err = {{0}};
    ActionsCsv csv;
    if (actions_csv_read(path, &csv, &err) < 0) die("--script %s", err.msg);
    int col[ACTIONS_CSV_MAX_BUTTONS];
    const char *q = csv.names;
    for (int j = 0; j < csv.A; j++) {
        const char *c = strchr(q, ',');
        size_t len = c ? (size_t)(c - q) : strlen(q);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)len, q);
        col[j] = play_button(s, name);
        if (col[j] < 0) die("--script %s: button '%s' of the header is not one of the model's (%s...)", path, name,
                            s->names[0]);
        q = c ? c + 1 : q + len;
    }
    if (csv.rows == 0) die("--script %s: no rows of buttons after the header", path);
    p->kind = POLICY_SCRIPT, p->steps = csv.rows;
    p->script = xcalloc((size_t)csv.rows * s->A, 1);
    for (int r = 0; r < csv.rows; r++)
        for (int j = 0; j < csv.A; j++) p->script[(size_t)r * s->A + col[j]] |= csv.act[(size_t)r * csv.A + j];
    free(csv.act);
}

void policy_init(Policy *p, const PlaySession *s, PolicyKind kind, long steps, uint64_t seed) {
    memset(p, 0, sizeof *p);
    p->kind = kind, p->steps = steps, p->cur = -1;
    rng_seed(&p->rng, seed);
    static const char *const pick[] = {"LEFT", "RIGHT", "DOWN", "A", "B"};
    p->choices[p->n_choices++] = -1;
    for (int i = 0; i < 5; i++)
        if (play_button(s, pick[i]) >= 0) p->choices[p->n_choices++] = play_button(s, pick[i]);
    if (p->n_choices == 1)   // a model with other buttons: any one of them
        for (int i = 0; i < s->A && p->n_choices < 8; i++) p->choices[p->n_choices++] = i;
}

void policy_buttons(Policy *p, long step, uint8_t *buttons, int A) {
    memset(buttons, 0, (size_t)A);
    if (p->kind == POLICY_SCRIPT) {
        memcpy(buttons, p->script + (size_t)step * A, (size_t)A);
    } else if (p->kind == POLICY_RANDOM) {
        if (rng_below(&p->rng, 2)) p->cur = p->choices[rng_below(&p->rng, (uint32_t)p->n_choices)];
        if (p->cur >= 0) buttons[p->cur] = 1;
    }
}

void policy_free(Policy *p) {
    free(p->script);
    p->script = NULL;
}

// ---------------------------------------------------------------- frame clock

static void ts_add(struct timespec *t, double s) {
    long ns = (long)llround(s * 1e9);
    t->tv_sec += ns / 1000000000L;
    t->tv_nsec += ns % 1000000000L;
    if (t->tv_nsec >= 1000000000L) t->tv_sec++, t->tv_nsec -= 1000000000L;
}

void clock_start(FrameClock *c, double fps) {
    memset(c, 0, sizeof *c);
    c->fps = fps;
    clock_gettime(CLOCK_MONOTONIC, &c->next);
    c->t0 = now_seconds();
}

void clock_wait(FrameClock *c) {
    c->frames++;
    if (c->fps <= 0) return;
    double period = 1.0 / c->fps;
    ts_add(&c->next, period);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double behind = (double)(now.tv_sec - c->next.tv_sec) + 1e-9 * (double)(now.tv_nsec - c->next.tv_nsec);
    if (behind > period) {   // too late for this deadline: start again from now, no burst to catch up
        c->late++;
        c->next = now;
        return;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &c->next, NULL) == EINTR) {}
}

double clock_rate(const FrameClock *c) {
    double dt = now_seconds() - c->t0;
    return dt > 0 ? (double)c->frames / dt : 0;
}
