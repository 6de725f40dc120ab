/*
 * test_emulation.c - ./eval's emulation measures (evaluation/emulation.c, game_trace.c,
 * emulation_eval.c, emu_report.c, emu_picture.c) on cases whose answer is known:
 *   - changed-pixel L1, masked L1, the piece score and its drawn threshold, the change
 *     motion and the direction rule, by hand on tiny frames
 *   - piece and well geometry: at the source size (256x240) the masks are exactly the cells
 *   - the game trace: a file recorded with the replay seeds (as gen tetris does) re-simulates
 *     frame for frame (available); without the seeds, with a wrong seed, or for another game
 *     it is unavailable with a reason
 *   - emu_eval with the engine itself as the "model" (an Emulator that plays the Tetris
 *     states): changed-pixel L1 0, the piece drawn in every measurable frame, the direction
 *     test passing exactly as often as the engine reference, the spawn test (a new piece due)
 *     drawing every new piece; with a frozen "model" (draws the start frame forever): the same
 *     numbers as the copy row, ΔPSNR 0, liveliness 0, no new piece ever
 *   - the report texts carry the measures, or "unavailable" with the reason
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/episodes.h"
#include "data/tetris_geometry.h"
#include "data/tetris_replay.h"
#include "evaluation/emu_picture.h"
#include "evaluation/emu_report.h"
#include "evaluation/emulation.h"
#include "evaluation/emulation_eval.h"
#include "evaluation/game_trace.h"
#include "base/h5.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "tests/test.h"

// ---------------------------------------------------------------- pure measures

static void test_measures(void) {
    enum { H = 4, W = 5, P = H * W };
    float start[P] = {0}, truth[P] = {0}, img[P] = {0};
    truth[3] = 1, truth[7] = 0.5f, truth[12] = 1;   // three changed pixels
    img[3] = 1, img[7] = 0.25f, img[0] = 0.9f;       // pixel 0 unchanged in truth: ignored
    int nc = 0;
    double cl1 = emu_changed_l1(img, truth, start, 1, H, W, &nc);
    EXPECT(nc == 3 && fabs(cl1 - (0 + 0.25 + 1) / 3) < 1e-12, "changed L1 %g over %d", cl1, nc);
    EXPECT(isnan(emu_changed_l1(img, start, start, 1, H, W, &nc)) && nc == 0, "no change: NaN");
    EXPECT(fabs(emu_l1(img, truth, 1, H, W) - (0.9 + 0.25 + 1) / P) < 1e-7, "emu_l1");
    // RGB: a pixel changed in one channel counts with all three channels
    float s3[3 * P] = {0}, t3[3 * P] = {0}, i3[3 * P] = {0};
    t3[2 * P + 5] = 1;   // blue of pixel 5
    i3[5] = 0.5f;        // red of pixel 5 wrong
    cl1 = emu_changed_l1(i3, t3, s3, 3, H, W, &nc);
    EXPECT(nc == 1 && fabs(cl1 - (0.5 + 0 + 1) / 3) < 1e-12, "RGB changed L1 %g", cl1);

    // piece score: mask of 2 pixels, piece white on black
    uint8_t mask[P] = {0};
    mask[6] = mask[7] = 1;
    float with[P] = {0}, without[P] = {0}, half[P] = {0};
    with[6] = with[7] = 1;
    PieceScore ps = emu_piece_score(with, with, without, mask, 1, H, W);
    EXPECT(ps.drawn == 1 && ps.l1 == 0 && ps.contrast == 1, "exact piece drawn");
    ps = emu_piece_score(without, with, without, mask, 1, H, W);
    EXPECT(ps.drawn == 0 && ps.l1 == 1, "missing piece not drawn");
    half[6] = half[7] = 0.5f;
    ps = emu_piece_score(half, with, without, mask, 1, H, W);
    EXPECT(ps.drawn == 0 && ps.l1 == 0.5, "half-way is not drawn (strict threshold)");
    half[6] = half[7] = 0.6f;
    ps = emu_piece_score(half, with, without, mask, 1, H, W);
    EXPECT(ps.drawn == 1 && fabs(ps.l1 - 0.4) < 1e-6, "0.6 of the contrast is drawn");
    ps = emu_piece_score(with, without, without, mask, 1, H, W);
    EXPECT(ps.drawn == -1 && isnan(ps.l1), "no contrast: not measurable");

    // change motion: a 1-pixel dot moving from x=3 to x=1 on row 2 (arrived at 1, left 3)
    float a[P] = {0}, b[P] = {0};
    b[2 * W + 3] = 1, a[2 * W + 1] = 1;
    double dx = 9, dy = 9;
    int n = emu_change_motion(a, b, NULL, 1, H, W, &dx, &dy);
    EXPECT(n == 1 && fabs(dx + 2) < 1e-12 && fabs(dy) < 1e-12, "motion (%g, %g) of %d", dx, dy, n);
    EXPECT(emu_direction_ok(EMU_LEFT, n, dx, dy, 2, 2) && !emu_direction_ok(EMU_RIGHT, n, dx, dy, 2, 2),
           "moved left by one cell of 2 pixels");
    EXPECT(!emu_direction_ok(EMU_LEFT, n, dx, dy, 5, 5), "2 pixels are less than half a cell of 5");
    EXPECT(!emu_direction_ok(EMU_DOWN, n, dx, dy, 2, 2), "did not move down");
    EXPECT(!emu_direction_ok(EMU_LEFT, 0, -9, 0, 2, 2), "no motion never passes");
    // an L-shaped blob moving down one row: motion exactly one row whatever the overlap
    float c0[P] = {0}, c1[P] = {0};
    c0[0 * W + 1] = c0[0 * W + 2] = c0[0 * W + 3] = c0[1 * W + 3] = 1;
    c1[1 * W + 1] = c1[1 * W + 2] = c1[1 * W + 3] = c1[2 * W + 3] = 1;
    n = emu_change_motion(c1, c0, NULL, 1, H, W, &dx, &dy);
    EXPECT(n == 3 && fabs(dx) < 1e-12 && fabs(dy - 4.0 / 3) < 1e-12, "L down: (%g, %g) of %d", dx, dy, n);
    EXPECT(emu_direction_ok(EMU_DOWN, n, dx, dy, 2, 2), "L moved down");
    uint8_t region[P] = {0};
    region[2 * W + 3] = region[2 * W + 1] = 1;
    n = emu_change_motion(c1, c0, region, 1, H, W, &dx, &dy);
    EXPECT(n == 0 && dx == 0 && dy == 0, "region without a left pixel: no motion");
    n = emu_change_motion(b, b, NULL, 1, H, W, &dx, &dy);
    EXPECT(n == 0, "no change: no motion");

    // object centroid: a dark 2-pixel object on a grey background, against the background
    float bg[P], o1[P], o2[P];
    for (int i = 0; i < P; i++) bg[i] = o1[i] = o2[i] = 0.5f;
    o1[1 * W + 1] = o1[1 * W + 2] = 0.f, o2[1 * W + 3] = o2[1 * W + 4] = 0.f;
    o2[0] = 0.6f;   // a change under the threshold does not count
    double x1, y1, x2, y2;
    int n1 = emu_object_centroid(o1, bg, NULL, 1, H, W, &x1, &y1), n2 = emu_object_centroid(o2, bg, NULL, 1, H, W, &x2, &y2);
    EXPECT(n1 == 2 && n2 == 2 && fabs(x1 - 1.5) < 1e-12 && fabs(y1 - 1) < 1e-12 && fabs(x2 - 3.5) < 1e-12,
           "object centroid (%g, %g) -> (%g, %g)", x1, y1, x2, y2);
    EXPECT(emu_direction_ok(EMU_RIGHT, 2, x2 - x1, y2 - y1, 2, 2) && !emu_direction_ok(EMU_LEFT, 2, x2 - x1, y2 - y1, 2, 2),
           "a dark object moving right is seen moving right");
    EXPECT(emu_object_centroid(bg, bg, NULL, 1, H, W, &x1, &y1) == 0 && x1 == 0, "no object: 0");
    EXPECT(emu_object_centroid(o2, bg, region, 1, H, W, &x1, &y1) == 0, "outside the region: not seen");

    // change map: red where truth changed, green where prediction changed
    float out[3 * P];
    change_map(b, a, b, b, 1, H, W, out);
    EXPECT(out[2 * W + 1] == 1 && out[P + 2 * W + 1] < 1 && out[2 * P + 2 * W + 1] == 0, "red: true change only");
    change_map(b, b, b, a, 1, H, W, out);
    EXPECT(out[P + 2 * W + 1] == 1 && out[2 * W + 1] < 1, "green: predicted change only");
}

// emu_compose: a pixel keeps the start frame unless some channel moved by more than tau.
static void test_compose(void) {
    enum { C = 2, P = 4 };
    const float d0[C * P] = {0.5f, 0.5f, 0.5f, 0.5f, 0.2f, 0.2f, 0.2f, 0.2f};
    const float x0[C * P] = {1, 1, 1, 1, 0, 0, 0, 0};
    float pred[C * P] = {0.5f, 0.58f, 0.5f, 0.9f, 0.2f, 0.2f, 0.31f, 0.1f};
    emu_compose(pred, x0, d0, C, 1, P, 0.1f);
    // pixel 0: unchanged; 1: moved 0.08 <= 0.1 (kept); 2: channel 1 moved 0.11 (repainted); 3: both moved
    const float want[C * P] = {1, 1, 0.5f, 0.9f, 0, 0, 0.31f, 0.1f};
    int ok = 1;
    for (int i = 0; i < C * P; i++) ok &= pred[i] == want[i];
    EXPECT(ok, "emu_compose keeps unchanged pixels (all channels) and repaints changed ones");
}

static void test_geometry(void) {
    Tetris t;
    char nm[32];
    int which = -1;
    for (int i = 0; i < tetris_edge_case_count(); i++) {
        tetris_edge_case(&t, i, nm, sizeof nm);
        if (!strcmp(nm, "piece_centre")) { which = i; break; }
    }
    EXPECT(which >= 0, "edge case piece_centre exists");
    EXPECT(tetris_piece_in_air(&t), "a T in the middle of the well is in the air");
    uint8_t *m = xmalloc((size_t)TETRIS_H * TETRIS_W);
    int n = tetris_piece_mask(&t, TETRIS_H, TETRIS_W, m);
    EXPECT(n == 4 * 64, "source-size mask: 4 cells of 8x8, got %d", n);
    const int8_t(*c)[2] = tetris_cells(t.piece, t.rot);
    int x0 = TETRIS_WELL_X + 8 * (t.px + c[0][0]), y0 = TETRIS_WELL_Y + 8 * (t.py + c[0][1]);
    EXPECT(m[(size_t)y0 * TETRIS_W + x0] && m[(size_t)(y0 + 7) * TETRIS_W + x0 + 7], "cell 0 corners in the mask");
    EXPECT(tetris_well_mask(TETRIS_H, TETRIS_W, m) == 80 * 160, "well mask 80x160");
    EXPECT(tetris_well_mask(80, 80, m) > 0 && tetris_piece_mask(&t, 80, 80, m) > 0, "80x80 masks are not empty");
    double cw, ch;
    tetris_cell_size(80, 80, &cw, &ch);
    EXPECT(fabs(cw - 2.5) < 1e-12 && fabs(ch - 8.0 * 80 / 240) < 1e-12, "cell size at 80x80");
    t.paused = 1;
    EXPECT(!tetris_piece_in_air(&t), "paused: no piece in the air");
    free(m);
}

// ---------------------------------------------------------------- a recorded file

#define REC_EPS 3
#define REC_STEPS 150

// Records REC_EPS episodes as gen tetris does (bot, frame skip 4), with the replay seeds
// unless seeds == 0; game names the file's game. Returns 0.
static int record(const char *path, int seeds, const char *game, int64_t warm_delta) {
    Err err;
    const int K = 4;
    EpisodeWriter *w = episode_writer_open(path, game, NES_ACTION_NAMES, K, &err);
    if (!w) return -1;
    uint8_t *frame = xmalloc((size_t)TETRIS_H * TETRIS_W * 3);
    Rng master;
    rng_seed(&master, 11);
    TetrisEpisodeSeeds s[REC_EPS];
    for (int e = 0; e < REC_EPS; e++) {
        Tetris g;
        TetrisPlayer p;
        s[e] = tetris_episode_seeds(&master, K);
        s[e].warmup_steps = 150 + 40 * e;   // in play, quickly
        tetris_replay_start(&g, &p, &s[e], K);
        episode_writer_begin(w, TETRIS_H, TETRIS_W, 3, NES_BUTTONS, &err);
        for (int t = 0; t < REC_STEPS; t++) {
            tetris_render(&g, frame);
            uint8_t b = tetris_advance(&g, &p, K), a[NES_BUTTONS];
            for (int i = 0; i < NES_BUTTONS; i++) a[i] = (b >> i) & 1;
            episode_writer_step(w, frame, a, 0, 0, t == REC_STEPS - 1, &err);
        }
        tetris_render(&g, frame);
        episode_writer_end(w, frame, &err);
    }
    free(frame);
    if (episode_writer_close(w, &err)) return -1;
    if (!seeds) return 0;
    hid_t f = h5_open(path, 1, &err);
    for (int e = 0; e < REC_EPS; e++) {
        char g[32];
        snprintf(g, sizeof g, "episode_%d", e);
        h5_attr_write_i64(f, g, TETRIS_ATTR_GAME_SEED, (int64_t)s[e].game_seed, &err);
        h5_attr_write_i64(f, g, TETRIS_ATTR_PLAYER_SEED, (int64_t)s[e].player_seed, &err);
        h5_attr_write_i64(f, g, TETRIS_ATTR_WARMUP, s[e].warmup_steps + (e == 1 ? warm_delta : 0), &err);
    }
    h5_close(f);
    return 0;
}

// ---------------------------------------------------------------- emulators with known answers

// The engine as a model: plays the Tetris states of the start points it is told (queue, as
// the caller will pass them; identical frames can hide different game states).
typedef struct {
    GameTrace *g;
    const Dataset *d;
    const StartPoint *queue;
    uint8_t *st;   // [64][S]: the game's states
    size_t S;      // the game's state_size
} EngineEmu;

static void eng_start(void *c, const float *x0, int n) {
    EngineEmu *m = c;
    const Dataset *d = m->d;
    size_t F = (size_t)d->C * d->H * d->W;
    for (int i = 0; i < n; i++) {
        const StartPoint *s = &m->queue[i];
        const uint8_t *u = dataset_frame_u8(d, s->e, s->t);
        for (size_t q = 0; q < F; q++) CHECK(x0[i * F + q] == u[q] * (1.0f / 255.0f), "engine emulator: not the queued frame");
        memcpy(m->st + i * m->S, game_trace_state(m->g, s->e, s->t), m->S);
    }
}
static void eng_step(void *c, const float *a, int n) {
    EngineEmu *m = c;
    for (int i = 0; i < n; i++) {
        uint8_t b[8];
        for (int q = 0; q < 8; q++) b[q] = a[i * 8 + q] > 0.5f;
        m->g->game->step(m->st + i * m->S, b, m->g->K);
    }
}
static void eng_draw(void *c, float *out, int n) {
    EngineEmu *m = c;
    size_t F = (size_t)m->d->C * m->d->H * m->d->W;
    for (int i = 0; i < n; i++) game_trace_render(m->g, m->st + i * m->S, 0, out + i * F);
}
static void same_recon(void *c, const float *x, float *out, int n) {
    EngineEmu *m = c;
    memcpy(out, x, (size_t)n * m->d->C * m->d->H * m->d->W * sizeof(float));
}

// A frozen model: draws its start frame forever. With frz_truth as its truth hook, a follower:
// each step draws the true next frames it was given (an oracle that always picks the truth).
typedef struct { float buf[64 * 3 * 40 * 40]; size_t F; const float *next; } FrozenEmu;
static void frz_start(void *c, const float *x0, int n) {
    FrozenEmu *m = c;
    memcpy(m->buf, x0, (size_t)n * m->F * sizeof(float));
}
static void frz_step(void *c, const float *a, int n) {
    (void)a;
    FrozenEmu *m = c;
    if (m->next) memcpy(m->buf, m->next, (size_t)n * m->F * sizeof(float));
    m->next = NULL;
}
static void frz_truth(void *c, const float *next, int n) {
    (void)n;
    ((FrozenEmu *)c)->next = next;
}
static void frz_draw(void *c, float *out, int n) {
    FrozenEmu *m = c;
    memcpy(out, m->buf, (size_t)n * m->F * sizeof(float));
}
static void frz_recon(void *c, const float *x, float *out, int n) {
    FrozenEmu *m = c;
    memcpy(out, x, (size_t)n * m->F * sizeof(float));
}

// A trace that cannot be built (no seeds, a wrong warm-up, another game): the evaluation runs
// without game numbers and the report says why.
static void test_unavailable(const char *bad, int *eps, StartPoint *sp, int N, int *steps, int *pic) {
    Err err;
    Dataset d;
    Preprocess pp = {40, 40, 3};
    GameTrace g;
    EmuResult r;
    EmuStats s;
    char *md;
    struct { int seeds; const char *game; int64_t delta; const char *why; } cases[3] = {
        {0, "tetris", 0, "no replay seeds"}, {1, "tetris", 1, "differs from the recorded frame"},
        {1, "pong", 0, "not a built-in game"}};
    for (int k = 0; k < 3; k++) {
        EXPECT(record(bad, cases[k].seeds, cases[k].game, cases[k].delta) == 0, "record %s", bad);
        if (dataset_load(&d, bad, &pp, &err) < 0) { EXPECT(0, "%s", err.msg); continue; }
        game_trace_build(&g, &d, eps, REC_EPS);
        EXPECT(!g.available && strstr(g.reason, cases[k].why), "case %d unavailable: '%s'", k, g.reason);
        EXPECT(game_trace_state(&g, 0, 0) == NULL, "no states when unavailable");
        FrozenEmu *f2 = xmalloc(sizeof *f2);
        f2->F = (size_t)3 * 40 * 40, f2->next = NULL;
        Emulator e2 = {f2, 64, frz_start, frz_step, frz_draw, frz_recon, 0, NULL, NULL};
        emu_eval(&e2, &d, &g, sp, N, steps, 3, pic, 2, &r);
        emu_direction_test(&e2, &d, &g, eps, REC_EPS, 12, 20, &r);
        emu_spawn_test(&e2, &d, &g, eps, REC_EPS, 12, 20, &r);
        EXPECT(!r.spawn_done && strstr(r.spawn_reason, "no game knowledge"), "no spawn test: %s", r.spawn_reason);
        emu_stats_init(&s, &r, steps);
        md = emu_report_markdown(&s);
        EXPECT(!r.game && !r.dir_done && strstr(md, "unavailable") && strstr(md, cases[k].why) &&
               strstr(md, "### Spawn test (the game goes on)\n\nunavailable: no game knowledge"),
               "report says unavailable and why");
        int none = 1;
        for (size_t o = 0; o < (size_t)3 * N; o++) none &= r.piece_drawn[EMU_ROW_MODEL][o] == -1;
        EXPECT(none, "no piece numbers without the game");
        free(md), free(f2);
        emu_stats_free(&s);
        emu_result_free(&r);
        game_trace_free(&g);
        dataset_free(&d);
    }
}

// The spawn test with the engine as the model (em plays eng's queued start states): its start
// frames have no piece in the air, and it draws every new piece, as the engine does.
static void spawn_engine(Emulator *em, EngineEmu *eng, const Dataset *d, GameTrace *g, const int *eps, EmuResult *r) {
    StartPoint *picks;
    int eligible, m = emu_spawn_starts(d, g, eps, REC_EPS, 12, 20, &picks, &eligible);
    EXPECT(m > 0 && m <= 20 && eligible >= m, "%d spawn starts of %d eligible", m, eligible);
    int no_piece = 1;
    for (int i = 0; i < m; i++) no_piece &= !tetris_piece_in_air(game_tetris_state(game_trace_state(g, picks[i].e, picks[i].t)));
    EXPECT(no_piece, "no piece in the air at any spawn start");
    eng->queue = picks;
    emu_spawn_test(em, d, g, eps, REC_EPS, 12, 20, r);
    EXPECT(r->spawn_done && r->spawn_n == m && r->spawn_model == m && r->spawn_engine == m,
           "spawn test: engine-as-model draws %d, the engine %d of %d new pieces: %s", r->spawn_model, r->spawn_engine, m,
           r->spawn_reason);
    free(picks);
}

// A frozen model against the copy row, the direction and spawn tests; then, given the truth
// hook, the same model following the engine's frames through both tests.
static void frozen_and_follower(Dataset *d, GameTrace *g, int *eps, StartPoint *sp, int N, int *steps, int *pic) {
    EmuResult r;
    // a frozen model: the copy row's numbers, no action sensitivity, no liveliness
    FrozenEmu *fz = xmalloc(sizeof *fz);
    fz->F = (size_t)3 * 40 * 40, fz->next = NULL;
    Emulator ef = {fz, 64, frz_start, frz_step, frz_draw, frz_recon, 0, NULL, NULL};
    emu_eval(&ef, d, g, sp, N, steps, 3, pic, 2, &r);
    int same = 1;
    for (size_t o = 0; o < (size_t)3 * N; o++) {
        double a = r.changed[EMU_ROW_MODEL][o], b = r.changed[EMU_ROW_COPY][o];
        same &= (isnan(a) && isnan(b)) || a == b;
        same &= r.dpsnr_none[o] == 0 && r.dpsnr_other[o] == 0 && r.live[EMU_ROW_MODEL][o] == 0;
        same &= r.piece_drawn[EMU_ROW_MODEL][o] == r.piece_drawn[EMU_ROW_COPY][o];
    }
    EXPECT(same, "frozen model = copy row, dPSNR 0, liveliness 0");
    emu_direction_test(&ef, d, g, eps, REC_EPS, 12, 20, &r);
    EXPECT(r.dir_done && r.dir_model[0] == 0 && r.dir_model[1] == 0 && r.dir_model[2] == 0,
           "a frozen model never passes the direction test");
    emu_spawn_test(&ef, d, g, eps, REC_EPS, 12, 20, &r);
    // at most one start by coincidence: on these 40x40 frames the start frame of episode 2 step 9
    // already has stack pixels where the new piece is at step 12 (L1 there 0.155 against a
    // threshold of half the piece's contrast); the other 19 are 0.18-0.50 away
    EXPECT(r.spawn_done && r.spawn_n == 20 && r.spawn_model <= 1 && r.spawn_engine == r.spawn_n,
           "a frozen model draws no new piece (%d of %d, one by coincidence; the engine %d)", r.spawn_model, r.spawn_n,
           r.spawn_engine);
    // the truth hook (./eval --hyp-oracle): the direction and spawn tests hand the engine's next
    // frames to the model before each step; a model that draws them passes as the engine does
    ef.truth = frz_truth;
    emu_direction_test(&ef, d, g, eps, REC_EPS, 12, 20, &r);
    EXPECT(r.dir_done && r.dir_model[0] == r.dir_engine[0] && r.dir_model[1] == r.dir_engine[1] &&
               r.dir_model[2] == r.dir_engine[2] && r.dir_engine[0] == 20,
           "direction test: the truth follower moves as the engine (%d %d %d of 20)", r.dir_model[0], r.dir_model[1],
           r.dir_model[2]);
    emu_spawn_test(&ef, d, g, eps, REC_EPS, 12, 20, &r);
    EXPECT(r.spawn_done && r.spawn_model == r.spawn_engine && r.spawn_engine == r.spawn_n,
           "spawn test: the truth follower draws every new piece (%d of %d)", r.spawn_model, r.spawn_n);
    emu_result_free(&r);
    free(fz);
}

static void test_trace_and_eval(void) {
    char path[128], bad[128];
    snprintf(path, sizeof path, "/tmp/nemu_test_emu_%d.h5", (int)getpid());
    snprintf(bad, sizeof bad, "/tmp/nemu_test_emu_bad_%d.h5", (int)getpid());
    EXPECT(record(path, 1, "tetris", 0) == 0, "record %s", path);
    Err err;
    Dataset d;
    Preprocess pp = {40, 40, 3};
    if (dataset_load(&d, path, &pp, &err) < 0) { EXPECT(0, "%s", err.msg); return; }
    int eps[REC_EPS] = {0, 1, 2};
    GameTrace g;
    game_trace_build(&g, &d, eps, REC_EPS);
    EXPECT(g.available, "trace available: %s", g.reason);
    int in_air = 0;
    for (int t = 0; t <= REC_STEPS; t++) in_air += tetris_piece_in_air(game_tetris_state(game_trace_state(&g, 0, t)));
    EXPECT(in_air > REC_STEPS / 3, "episode 0 has a piece in the air in %d of %d frames", in_air, REC_STEPS + 1);

    // the engine as the model
    StartPoint *sp;
    int N;
    int steps[3] = {1, 5, 12};
    EXPECT(select_starts(&d, eps, REC_EPS, 6, 12, 5, &sp, &N, &err) == 0, "%s", err.msg);
    EngineEmu *engp = xcalloc(1, sizeof *engp);
#define eng (*engp)
    eng.g = &g, eng.d = &d, eng.queue = sp, eng.S = g.game->state_size;
    eng.st = xmalloc(64 * eng.S);
    Emulator em = {&eng, 64, eng_start, eng_step, eng_draw, same_recon, 0, NULL, NULL};
    int pic[2] = {0, N / 2};
    EmuResult r;
    emu_eval(&em, &d, &g, sp, N, steps, 3, pic, 2, &r);
    int drawn = 0, measurable = 0, changed_n = 0;
    double max_cl1 = 0, min_dnone = 1e9;
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < N; i++) {
            size_t o = (size_t)j * N + i;
            if (isfinite(r.changed[EMU_ROW_MODEL][o])) changed_n++, max_cl1 = fmax(max_cl1, r.changed[EMU_ROW_MODEL][o]);
            if (r.piece_drawn[EMU_ROW_MODEL][o] >= 0) measurable++, drawn += r.piece_drawn[EMU_ROW_MODEL][o];
            EXPECT(fabs(r.live[EMU_ROW_MODEL][o] - r.live_true[o]) < 1e-12, "engine liveliness = true liveliness");
            if (j == 2) min_dnone = fmin(min_dnone, r.dpsnr_none[o]);
        }
    EXPECT(changed_n > 0 && max_cl1 == 0, "engine: changed-pixel L1 0 (max %g over %d)", max_cl1, changed_n);
    EXPECT(measurable > 0 && drawn == measurable, "engine draws the piece in %d of %d", drawn, measurable);
    EXPECT(r.other_ok && min_dnone >= 0, "engine: recorded actions never worse than no buttons (min %g)", min_dnone);
    StartPoint *picks;
    int eligible, m = emu_direction_starts(&d, &g, eps, REC_EPS, 12, 20, &picks, &eligible);
    EXPECT(m > 0 && m <= 20 && eligible >= m, "%d direction starts of %d eligible", m, eligible);
    eng.queue = picks;
    emu_direction_test(&em, &d, &g, eps, REC_EPS, 12, 20, &r);
    EXPECT(r.dir_done && r.dir_n == m, "direction test ran: %s", r.dir_reason);
    free(picks);
    spawn_engine(&em, engp, &d, &g, eps, &r);
    free(eng.st);
    free(engp);
#undef eng
    for (int dir = 0; dir < EMU_DIRECTIONS; dir++)
        EXPECT(r.dir_model[dir] == r.dir_engine[dir] && r.dir_engine[dir] >= r.dir_n * 3 / 4,
               "%s: engine-as-model %d = engine %d of %d", emu_direction_name((EmuDirection)dir), r.dir_model[dir],
               r.dir_engine[dir], r.dir_n);
    EmuStats s;
    emu_stats_init(&s, &r, steps);
    char *md = emu_report_markdown(&s), *js = emu_report_json(&s), *cells = emu_report_csv_cells(&s, 1, 0);
    EXPECT(strstr(md, "## Emulation") && strstr(md, "Direction test") && strstr(md, "100% of"), "markdown:\n%s", md);
    EXPECT(strstr(js, "\"game_aware\": true") && strstr(js, "\"direction_test\": {\"available\": true"), "json");
    char want[160];
    snprintf(want, sizeof want, "\"spawn_test\": {\"available\": true, \"steps\": 12, \"starts\": %d", r.spawn_n);
    EXPECT(strstr(md, "### Spawn test") && strstr(md, "engine (reference)") && strstr(js, want), "spawn test reported: %s",
           want);
    int commas = 0, hcommas = 0;
    for (const char *p = cells; *p; p++) commas += *p == ',';
    for (const char *p = emu_report_csv_header(); *p; p++) hcommas += *p == ',';
    EXPECT(commas == hcommas, "csv cells %d = header columns %d", commas, hcommas);
    float *tru = xmalloc_floats((size_t)2 * 3 * 3 * 40 * 40);
    memset(tru, 0, sizeof(float) * 2 * 3 * 3 * 40 * 40);
    char png[128];
    snprintf(png, sizeof png, "/tmp/nemu_test_emu_%d.png", (int)getpid());
    EXPECT(picture_rollouts_marked(png, r.pic_start, r.pic_pred0, tru, tru, 2, 3, steps, 3, 40, 40, &err) == 0,
           "%s", err.msg);
    unlink(png);
    free(md), free(js), free(cells), free(tru);
    emu_stats_free(&s);
    emu_result_free(&r);

    frozen_and_follower(&d, &g, eps, sp, N, steps, pic);
    game_trace_free(&g);
    dataset_free(&d);

    test_unavailable(bad, eps, sp, N, steps, pic);
    free(sp);
    unlink(path), unlink(bad);
}

int main(void) {
    test_measures();
    test_compose();
    test_geometry();
    test_trace_and_eval();
    return test_summary();
}
