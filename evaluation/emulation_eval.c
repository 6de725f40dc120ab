/*
 * emulation_eval.c - the emulation measures of ./eval over rollouts of an Emulator (see
 * emulation_eval.h).
 */
#include "evaluation/emulation_eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluation/deadband.h"
#include "evaluation/metrics.h"
#include "base/err.h"
#include "base/alloc.h"

// ---------------------------------------------------------------- autoencoder + dynamics

static size_t aedyn_frame(const AeDynEmu *m) { return (size_t)m->ae->cfg.C * m->ae->cfg.H * m->ae->cfg.W; }

static void aedyn_start(void *c, const float *x0, int n) {
    AeDynEmu *m = c;
    ae_encode(m->ae, x0, n, m->z);
    dynm_hist_reset(m->dyn, m->z, n);
    m->t = 0;
    if (m->loop.compose <= 0) return;
    memcpy(m->x0, x0, (size_t)n * aedyn_frame(m) * sizeof(float));
    ae_decode(m->ae, m->z, n, m->d0);
}
static void aedyn_step(void *c, const float *a, int n) {
    AeDynEmu *m = c;
    const int Z = m->ae->cfg.latent_dim;
    if (m->loop.hyp_oracle && m->next) {   // the candidate nearest the true next frame
        ae_encode(m->ae, m->next, n, m->zr);
        dynm_forward_step_oracle(m->dyn, 0, m->z, a, m->zr, m->loop.hyp_oracle == HYP_ORACLE_CELL, n);
    } else {
        dynm_forward_step(m->dyn, 0, m->z, a, n);
    }
    m->next = NULL;
    dynm_hist_push(m->dyn, m->z, n);
    m->kept += latent_deadband(m->z, dynm_znext(m->dyn, 0), n, Z, m->ae->cfg.latent_channels, m->loop.deadband);
    m->cells += (long)n * latent_cells(Z, m->ae->cfg.latent_channels);
    memcpy(m->z, dynm_znext(m->dyn, 0), (size_t)n * Z * sizeof(float));
    if (closed_loop_reencodes(&m->loop, ++m->t)) closed_loop_reencode(m->ae, m->z, n, m->x0, m->d0, m->loop.compose, m->xs);
}
static void aedyn_draw(void *c, float *out, int n) {
    AeDynEmu *m = c;
    ae_decode(m->ae, m->z, n, out);
    const size_t F = aedyn_frame(m);
    for (int i = 0; i < n && m->loop.compose > 0; i++)
        emu_compose(out + i * F, m->x0 + i * F, m->d0 + i * F, m->ae->cfg.C, m->ae->cfg.H, m->ae->cfg.W,
                    m->loop.compose);
}
// The history of the n rollouts: the encoded frames past [n][depth][C,H,W] (the layout of dyn->past).
static void aedyn_start_past(void *c, const float *past, int n) {
    AeDynEmu *m = c;
    const int D = m->dyn->depth, Z = m->ae->cfg.latent_dim, B = m->ae->max_B;
    const size_t F = aedyn_frame(m);
    for (int i = 0; i < n * D; i += B)
        ae_encode(m->ae, past + (size_t)i * F, n * D - i < B ? n * D - i : B, m->dyn->past + (size_t)i * Z);
    dynm_hist_gather(m->dyn, n);
}
static void aedyn_truth(void *c, const float *next, int n) {
    (void)n;
    ((AeDynEmu *)c)->next = next;
}
static void aedyn_recon(void *c, const float *x, float *out, int n) {
    AeDynEmu *m = c;
    ae_encode(m->ae, x, n, m->zr);
    ae_decode(m->ae, m->zr, n, out);
}

void emulator_ae_dyn(Emulator *em, AeDynEmu *ctx, AE *ae, DynModel *dyn) {
    CHECK(dyn->Z == ae->cfg.latent_dim, "dynamics does not fit the autoencoder");
    int B = ae->max_B < dyn->max_B ? ae->max_B : dyn->max_B;
    ctx->ae = ae, ctx->dyn = dyn, ctx->loop = (ClosedLoop){0, 0, 0, 0}, ctx->kept = ctx->cells = ctx->t = 0;
    ctx->next = NULL;
    ctx->z = xmalloc_floats((size_t)B * ae->cfg.latent_dim);
    ctx->zr = xmalloc_floats((size_t)B * ae->cfg.latent_dim);
    ctx->x0 = xmalloc_floats((size_t)B * aedyn_frame(ctx));
    ctx->d0 = xmalloc_floats((size_t)B * aedyn_frame(ctx));
    ctx->xs = xmalloc_floats((size_t)B * aedyn_frame(ctx));
    *em = (Emulator){ctx, B, aedyn_start, aedyn_step, aedyn_draw, aedyn_recon, dyn->depth, aedyn_start_past, NULL};
}

void emulator_ae_dyn_loop(Emulator *em, AeDynEmu *ctx, ClosedLoop loop) {
    ctx->loop = loop;
    em->truth = loop.hyp_oracle && ctx->dyn->hyp > 1 ? aedyn_truth : NULL;
}

void emu_start(const Emulator *em, const Dataset *d, const StartPoint *sp, const float *x0, int n) {
    em->start(em->ctx, x0, n);
    if (em->past <= 0) return;
    const size_t F = (size_t)d->C * d->H * d->W;
    float *past = xmalloc_floats((size_t)n * em->past * F);
    for (int i = 0; i < n; i++) start_past_frames(d, sp[i], em->past, past + (size_t)i * em->past * F);
    em->start_past(em->ctx, past, n);
    free(past);
}

void emulator_ae_dyn_free(AeDynEmu *ctx) {
    free(ctx->z), free(ctx->zr), free(ctx->x0), free(ctx->d0), free(ctx->xs);
    ctx->z = ctx->zr = ctx->x0 = ctx->d0 = ctx->xs = NULL;
}

// ---------------------------------------------------------------- rollouts

// Start point whose actions replace those of start point i: the first from i + N/2 on
// (cyclically) in another episode; -1 when every start point lies in i's episode.
static int other_start(const StartPoint *sp, int N, int i) {
    for (int s = 0; s < N; s++) {
        int j = (i + N / 2 + s) % N;
        if (sp[j].e != sp[i].e) return j;
    }
    return -1;
}

typedef enum { ACT_RECORDED, ACT_OTHER, ACT_NONE } ActSource;

// PSNR of the model at each requested step with actions from src: psnr [n_steps][N] at base..base+n.
static void psnr_rollout(Emulator *em, const Dataset *d, const StartPoint *sp, int N, int base, int n,
                         const int *steps, int n_steps, ActSource src, float *x0, float *a, float *pred,
                         float *truth, double *psnr) {
    const size_t F = (size_t)d->C * d->H * d->W;
    const int A = d->A, K = steps[n_steps - 1];
    emu_start(em, d, sp + base, x0, n);
    for (int k = 1, j = 0; k <= K; k++) {
        for (int i = 0; i < n; i++) {
            float *ai = a + (size_t)i * A;
            int o = src == ACT_OTHER ? other_start(sp, N, base + i) : base + i;
            if (src == ACT_NONE || o < 0) dataset_action_none(d, sp[base + i].e, ai);   // the game's column kept
            else dataset_action(d, sp[o].e, sp[o].t + k - 1, ai);
        }
        em->step(em->ctx, a, n);
        if (k != steps[j]) continue;
        em->draw(em->ctx, pred, n);
        for (int i = 0; i < n; i++) {
            dataset_frame(d, sp[base + i].e, sp[base + i].t + k, truth);
            psnr[(size_t)j * N + base + i] = metric_psnr(pred + i * F, truth, F);
        }
        j++;
    }
}

static void alloc_result(EmuResult *r, int N, int n_steps, int n_pic, size_t F) {
    memset(r, 0, sizeof *r);
    r->N = N, r->n_steps = n_steps, r->n_pic = n_pic;
    size_t M = (size_t)N * n_steps;
    for (int w = 0; w < EMU_ROWS; w++) {
        r->changed[w] = xmalloc(M * sizeof(double));
        r->live[w] = xmalloc(M * sizeof(double));
        r->piece_l1[w] = xmalloc(M * sizeof(double));
        r->piece_drawn[w] = xmalloc(M);
        for (size_t i = 0; i < M; i++) r->piece_l1[w][i] = NAN, r->piece_drawn[w][i] = -1;
    }
    r->live_true = xmalloc(M * sizeof(double));
    r->dpsnr_other = xmalloc(M * sizeof(double));
    r->dpsnr_none = xmalloc(M * sizeof(double));
    r->pic_start = xmalloc_floats((size_t)(n_pic > 0 ? n_pic : 1) * F);
    r->pic_pred0 = xmalloc_floats((size_t)(n_pic > 0 ? n_pic : 1) * F);
}

typedef struct {
    float *x0, *truth, *tprev, *pred, *pprev, *rec, *rprev, *a, *nopiece;
    uint8_t *mask;
    double *lm, *lr, *lt;   // running liveliness sums [B]
} Bufs;

// The piece (object) measure of the three rows at start point s, step slot o (frame t+k of state st).
static void piece_measure(EmuResult *r, GameTrace *g, const void *state, const Dataset *d, size_t o,
                          const float *pred, const float *x0, const float *rec, const float *truth, Bufs *b) {
    const GameEval *ev = g->game->eval;
    if (!state || !ev || !ev->object_mask || !g->game->render_hidden) return;
    if (ev->object_mask(state, d->H, d->W, b->mask) == 0) return;
    game_trace_render(g, state, 1, b->nopiece);
    const float *img[EMU_ROWS] = {pred, x0, rec};
    for (int w = 0; w < EMU_ROWS; w++) {
        PieceScore ps = emu_piece_score(img[w], truth, b->nopiece, b->mask, d->C, d->H, d->W);
        r->piece_l1[w][o] = ps.l1;
        r->piece_drawn[w][o] = (signed char)ps.drawn;
    }
}

void emu_eval(Emulator *em, const Dataset *d, GameTrace *g, const StartPoint *sp, int N, const int *steps,
              int n_steps, const int *pic_idx, int n_pic, EmuResult *r) {
    CHECK(N >= 1 && n_steps >= 1 && n_pic >= 0 && n_pic <= N, "emu_eval: N %d n_steps %d n_pic %d", N, n_steps, n_pic);
    for (int j = 0; j < n_steps; j++) CHECK(steps[j] >= 1 && (j == 0 || steps[j] > steps[j - 1]), "steps");
    const int C = d->C, H = d->H, W = d->W, A = d->A, B = em->max_B, K = steps[n_steps - 1];
    const size_t F = (size_t)C * H * W;
    alloc_result(r, N, n_steps, n_pic, F);
    r->game = g && g->available;
    snprintf(r->game_reason, sizeof r->game_reason, "%s", r->game ? "" : g ? g->reason : "no game trace");
    Bufs b;
    float **fb[] = {&b.x0, &b.truth, &b.tprev, &b.pred, &b.pprev, &b.rec, &b.rprev};
    for (size_t i = 0; i < sizeof fb / sizeof *fb; i++) *fb[i] = xmalloc_floats((size_t)B * F);
    b.a = xmalloc_floats((size_t)B * A), b.nopiece = xmalloc_floats(F), b.mask = xmalloc((size_t)H * W);
    b.lm = xmalloc((size_t)B * sizeof(double)), b.lr = xmalloc((size_t)B * sizeof(double));
    b.lt = xmalloc((size_t)B * sizeof(double));
    double *psnr[3];   // recorded, other, none: [n_steps][N]
    for (int s = 0; s < 3; s++) psnr[s] = xmalloc((size_t)n_steps * N * sizeof(double));
    r->other_ok = 0;
    for (int i = 1; i < N; i++) r->other_ok |= sp[i].e != sp[0].e;

    for (int base = 0; base < N; base += B) {
        int n = N - base < B ? N - base : B;
        for (int i = 0; i < n; i++) dataset_frame(d, sp[base + i].e, sp[base + i].t, b.x0 + i * F);
        emu_start(em, d, sp + base, b.x0, n);
        em->draw(em->ctx, b.pprev, n);
        em->recon(em->ctx, b.x0, b.rprev, n);
        memcpy(b.tprev, b.x0, (size_t)n * F * sizeof(float));
        for (int p = 0; p < n_pic; p++)
            if (pic_idx[p] >= base && pic_idx[p] < base + n) {
                memcpy(r->pic_start + p * F, b.x0 + (pic_idx[p] - base) * F, F * sizeof(float));
                memcpy(r->pic_pred0 + p * F, b.pprev + (pic_idx[p] - base) * F, F * sizeof(float));
            }
        for (int i = 0; i < n; i++) b.lm[i] = b.lr[i] = b.lt[i] = 0;
        for (int k = 1, j = 0; k <= K; k++) {
            for (int i = 0; i < n; i++) {
                dataset_action(d, sp[base + i].e, sp[base + i].t + k - 1, b.a + (size_t)i * A);
                dataset_frame(d, sp[base + i].e, sp[base + i].t + k, b.truth + i * F);
            }
            em->step(em->ctx, b.a, n);
            em->draw(em->ctx, b.pred, n);
            em->recon(em->ctx, b.truth, b.rec, n);
            for (int i = 0; i < n; i++) {
                size_t o = i * F;
                b.lm[i] += emu_l1(b.pred + o, b.pprev + o, C, H, W);
                b.lr[i] += emu_l1(b.rec + o, b.rprev + o, C, H, W);
                b.lt[i] += emu_l1(b.truth + o, b.tprev + o, C, H, W);
            }
            if (k == steps[j]) {
                for (int i = 0; i < n; i++) {
                    size_t o = (size_t)j * N + base + i, f = i * F;
                    const StartPoint *s = &sp[base + i];
                    r->changed[EMU_ROW_MODEL][o] = emu_changed_l1(b.pred + f, b.truth + f, b.x0 + f, C, H, W, NULL);
                    r->changed[EMU_ROW_COPY][o] = emu_changed_l1(b.x0 + f, b.truth + f, b.x0 + f, C, H, W, NULL);
                    r->changed[EMU_ROW_RECON][o] = emu_changed_l1(b.rec + f, b.truth + f, b.x0 + f, C, H, W, NULL);
                    r->live[EMU_ROW_MODEL][o] = b.lm[i] / k;
                    r->live[EMU_ROW_COPY][o] = 0;
                    r->live[EMU_ROW_RECON][o] = b.lr[i] / k;
                    r->live_true[o] = b.lt[i] / k;
                    psnr[ACT_RECORDED][o] = metric_psnr(b.pred + f, b.truth + f, F);
                    if (r->game)
                        piece_measure(r, g, game_trace_state(g, s->e, s->t + k), d, o, b.pred + f, b.x0 + f,
                                      b.rec + f, b.truth + f, &b);
                }
                j++;
            }
            float *t;
            t = b.pprev, b.pprev = b.pred, b.pred = t;
            t = b.rprev, b.rprev = b.rec, b.rec = t;
            t = b.tprev, b.tprev = b.truth, b.truth = t;
        }
        // action sensitivity: the same rollouts with other actions
        psnr_rollout(em, d, sp, N, base, n, steps, n_steps, ACT_NONE, b.x0, b.a, b.pred, b.truth, psnr[ACT_NONE]);
        if (r->other_ok)
            psnr_rollout(em, d, sp, N, base, n, steps, n_steps, ACT_OTHER, b.x0, b.a, b.pred, b.truth,
                         psnr[ACT_OTHER]);
    }
    for (size_t o = 0; o < (size_t)n_steps * N; o++) {
        r->dpsnr_none[o] = psnr[ACT_RECORDED][o] - psnr[ACT_NONE][o];
        r->dpsnr_other[o] = r->other_ok ? psnr[ACT_RECORDED][o] - psnr[ACT_OTHER][o] : NAN;
    }
    for (int s = 0; s < 3; s++) free(psnr[s]);
    for (size_t i = 0; i < sizeof fb / sizeof *fb; i++) free(*fb[i]);
    free(b.a), free(b.nopiece), free(b.mask), free(b.lm), free(b.lr), free(b.lt);
}

// ---------------------------------------------------------------- direction test

// The engine's k-step rollout of state s holding buttons (NES order) into out (the game's
// state_size bytes).
static void engine_rollout(const GameTrace *g, const void *s, const uint8_t *buttons, int k, void *out) {
    memcpy(out, s, g->game->state_size);
    for (int i = 0; i < k; i++) g->game->step(out, buttons, g->K);
}

// k steps of the n rollouts of em holding buttons a [n,A]; with em->truth, before each step the
// engine's frames after it, from the states of starts sp (the engine holding `buttons`): an
// emulator that chooses by the truth (./eval --hyp-oracle) steps toward the engine's game.
static void emu_steps(Emulator *em, GameTrace *g, const StartPoint *sp, const uint8_t *buttons, const float *a,
                      int n, int k, size_t F) {
    if (!em->truth) {
        for (int s = 0; s < k; s++) em->step(em->ctx, a, n);
        return;
    }
    const size_t S = g->game->state_size;
    uint8_t *st = xmalloc((size_t)n * S);
    float *next = xmalloc_floats((size_t)n * F);
    for (int i = 0; i < n; i++) memcpy(st + (size_t)i * S, game_trace_state(g, sp[i].e, sp[i].t), S);
    for (int s = 0; s < k; s++) {
        for (int i = 0; i < n; i++) {
            g->game->step(st + (size_t)i * S, buttons, g->K);
            game_trace_render(g, st + (size_t)i * S, 0, next + i * F);
        }
        em->truth(em->ctx, next, n);
        em->step(em->ctx, a, n);
    }
    free(st), free(next);
}

static const uint8_t NO_BUTTON[8] = {0};

// Whether state s of dataset d is a fair start of a k-step test; scratch: the game's state_size
// bytes, mask [H*W].
typedef int (*StartRule)(const GameTrace *g, const Dataset *d, const void *s, int k, void *scratch, uint8_t *mask);

// The direction test's: the game's dir_start.
static int direction_due(const GameTrace *g, const Dataset *d, const void *s, int k, void *scratch, uint8_t *mask) {
    (void)d, (void)mask;
    const GameEval *ev = g->game->eval;
    return ev && ev->dir_start && ev->dir_start(g->game, s, g->K, k, scratch);
}

// Up to n_starts of the frames of the listed episodes that `due` calls fair (with k steps left),
// spread evenly over all of them in episode and time order (*picks malloc'ed, m of them; returns
// m); *eligible_out: how many there were.
static int spread_starts(const Dataset *d, GameTrace *g, const int *episodes, int n_episodes, int k, int n_starts,
                         StartRule due, StartPoint **picks, int *eligible_out) {
    int cap = 64, n = 0;
    StartPoint *el = xmalloc((size_t)cap * sizeof *el);
    void *scratch = xmalloc(g->game->state_size);
    uint8_t *mask = xmalloc((size_t)d->H * d->W);
    for (int i = 0; i < n_episodes; i++)
        for (int64_t t = 0; t + k <= dataset_ep_transitions(d, episodes[i]); t++) {
            const void *s = game_trace_state(g, episodes[i], t);
            if (!s || !due(g, d, s, k, scratch, mask)) continue;
            if (n == cap) el = xrealloc(el, (size_t)(cap *= 2) * sizeof *el);
            el[n++] = (StartPoint){episodes[i], (int)t};
        }
    int m = n < n_starts ? n : n_starts;
    StartPoint *pick = xmalloc((size_t)(m > 0 ? m : 1) * sizeof *pick);
    for (int i = 0; i < m; i++) pick[i] = el[(int)((int64_t)i * n / m)];
    free(el), free(scratch), free(mask);
    *picks = pick, *eligible_out = n;
    return m;
}

// The motion of the object from frame `before` to `after` (bright_on_black: emu_change_motion;
// else the object's centroid against bg, the start frame without it, in both).
static int motion(const GameEval *ev, const float *after, const float *before, const float *bg, const uint8_t *region,
                  int C, int H, int W, double *dx, double *dy) {
    if (ev->bright_on_black) return emu_change_motion(after, before, region, C, H, W, dx, dy);
    double xa, ya, xb, yb;
    const int na = emu_object_centroid(after, bg, region, C, H, W, &xa, &ya);
    const int nb = emu_object_centroid(before, bg, region, C, H, W, &xb, &yb);
    *dx = na && nb ? xa - xb : 0, *dy = na && nb ? ya - yb : 0;
    return na < nb ? na : nb;
}

int emu_direction_starts(const Dataset *d, GameTrace *g, const int *episodes, int n_episodes, int k, int n_starts,
                         StartPoint **picks, int *eligible_out) {
    *picks = NULL, *eligible_out = 0;
    if (!g || !g->available || !g->game->eval || !g->game->eval->dir_start) return 0;
    return spread_starts(d, g, episodes, n_episodes, k, n_starts, direction_due, picks, eligible_out);
}

void emu_direction_test(Emulator *em, const Dataset *d, GameTrace *g, const int *episodes, int n_episodes, int k,
                        int n_starts, EmuResult *r) {
    CHECK(k >= 1 && n_starts >= 1, "emu_direction_test: k %d, %d starts", k, n_starts);
    r->dir_done = 0, r->dir_k = k, r->dir_n = r->dir_eligible = 0;
    memset(r->dir_model, 0, sizeof r->dir_model), memset(r->dir_engine, 0, sizeof r->dir_engine);
    if (!g || !g->available) {
        snprintf(r->dir_reason, sizeof r->dir_reason, "no game knowledge (see the piece measure)");
        return;
    }
    const GameEval *ev = g->game->eval;
    if (!ev || !ev->dir_start) {
        snprintf(r->dir_reason, sizeof r->dir_reason, "%s has no direction test", g->game->name);
        return;
    }
    r->dir_rows = ev->n_dirs, r->dir_bright = ev->bright_on_black;
    snprintf(r->object, sizeof r->object, "%s", ev->object);
    StartPoint *pick;
    int m = emu_direction_starts(d, g, episodes, n_episodes, k, n_starts, &pick, &r->dir_eligible);
    if (m == 0) {
        if (ev->bright_on_black)
            snprintf(r->dir_reason, sizeof r->dir_reason, "no start frame with a piece that stays in the air for %d steps", k);
        else
            snprintf(r->dir_reason, sizeof r->dir_reason, "no start frame where the %s moves freely for %d steps", ev->object, k);
        free(pick);
        return;
    }
    const int C = d->C, H = d->H, W = d->W, A = d->A;
    const size_t F = (size_t)C * H * W;
    int B = em->max_B;
    float *x0 = xmalloc_floats((size_t)B * F), *p0 = xmalloc_floats((size_t)B * F), *pk = xmalloc_floats((size_t)B * F);
    float *a = xmalloc_floats((size_t)B * A), *ek = xmalloc_floats(F), *bg = xmalloc_floats(F);
    uint8_t *region = xmalloc((size_t)H * W), *o = xmalloc(g->game->state_size);
    for (int base = 0; base < m; base += B) {
        int nb = m - base < B ? m - base : B;
        for (int i = 0; i < nb; i++) dataset_frame(d, pick[base + i].e, pick[base + i].t, x0 + i * F);
        for (int dir = 0; dir < ev->n_dirs; dir++) {
            emu_start(em, d, pick + base, x0, nb);
            em->draw(em->ctx, p0, nb);
            for (int i = 0; i < nb; i++) {
                dataset_action_none(d, pick[base + i].e, a + (size_t)i * A);   // a multi-game run's game column
                for (int q = 0; q < A - d->n_games && q < 8; q++) a[(size_t)i * A + q] = ev->dir_buttons[dir][q];
            }
            emu_steps(em, g, pick + base, ev->dir_buttons[dir], a, nb, k, F);
            em->draw(em->ctx, pk, nb);
            for (int i = 0; i < nb; i++) {
                const void *s = game_trace_state(g, pick[base + i].e, pick[base + i].t);
                double dx, dy, cw, ch;
                ev->dir_region(s, H, W, region, &cw, &ch);
                if (!ev->bright_on_black) game_trace_render(g, s, 1, bg);
                int nc = motion(ev, pk + i * F, p0 + i * F, bg, region, C, H, W, &dx, &dy);
                r->dir_model[dir] += emu_direction_ok((EmuDirection)dir, nc, dx, dy, cw, ch);
                engine_rollout(g, s, ev->dir_buttons[dir], k, o);
                game_trace_render(g, o, 0, ek);
                nc = motion(ev, ek, x0 + i * F, bg, region, C, H, W, &dx, &dy);
                r->dir_engine[dir] += emu_direction_ok((EmuDirection)dir, nc, dx, dy, cw, ch);
            }
        }
    }
    r->dir_n = m, r->dir_done = 1;
    free(pick), free(x0), free(p0), free(pk), free(a), free(ek), free(bg), free(region), free(o);
}

// ---------------------------------------------------------------- the spawn test

// 1 when state s has no object in play and the engine, no button held, brings one within k / 2
// steps that stays in play to step k. o: scratch of state_size bytes, mask [H*W].
static int spawn_due(const GameTrace *g, const Dataset *d, const void *s, int k, void *o, uint8_t *mask) {
    const GameEval *ev = g->game->eval;
    if (ev->object_mask(s, d->H, d->W, mask) > 0) return 0;
    memcpy(o, s, g->game->state_size);
    int first = 0;
    for (int i = 1; i <= k; i++) {
        g->game->step(o, NO_BUTTON, g->K);
        const int in_play = ev->object_mask(o, d->H, d->W, mask) > 0;
        if (!first && in_play) first = i;
        if (first && !in_play) return 0;
    }
    return first && first <= k / 2;
}

int emu_spawn_starts(const Dataset *d, GameTrace *g, const int *episodes, int n_episodes, int k, int n_starts,
                     StartPoint **picks, int *eligible_out) {
    *picks = NULL, *eligible_out = 0;
    if (!g || !g->available || !g->game->eval || !g->game->eval->object_mask || !g->game->render_hidden) return 0;
    return spread_starts(d, g, episodes, n_episodes, k, n_starts, spawn_due, picks, eligible_out);
}

void emu_spawn_test(Emulator *em, const Dataset *d, GameTrace *g, const int *episodes, int n_episodes, int k,
                    int n_starts, EmuResult *r) {
    CHECK(k >= 2 && n_starts >= 1, "emu_spawn_test: k %d, %d starts", k, n_starts);
    r->spawn_done = 0, r->spawn_k = k, r->spawn_n = r->spawn_eligible = r->spawn_model = r->spawn_engine = 0;
    if (!g || !g->available) {
        snprintf(r->spawn_reason, sizeof r->spawn_reason, "no game knowledge (see the piece measure)");
        return;
    }
    const GameEval *ev = g->game->eval;
    if (!ev || !ev->object_mask || !g->game->render_hidden) {
        snprintf(r->spawn_reason, sizeof r->spawn_reason, "%s has no object to spawn", g->game->name);
        return;
    }
    snprintf(r->object, sizeof r->object, "%s", ev->object);
    StartPoint *pick;
    const int m = emu_spawn_starts(d, g, episodes, n_episodes, k, n_starts, &pick, &r->spawn_eligible);
    if (m == 0) {
        snprintf(r->spawn_reason, sizeof r->spawn_reason, "no start frame where a new %s is due within %d steps",
                 ev->object, k / 2);
        free(pick);
        return;
    }
    const int C = d->C, H = d->H, W = d->W, A = d->A, B = em->max_B;
    const size_t F = (size_t)C * H * W;
    float *x0 = xmalloc_floats((size_t)B * F), *pk = xmalloc_floats((size_t)B * F), *a = xmalloc_floats((size_t)B * A);
    float *ek = xmalloc_floats(F), *hid = xmalloc_floats(F);
    uint8_t *mask = xmalloc((size_t)H * W), *o = xmalloc(g->game->state_size);
    for (int base = 0; base < m; base += B) {
        const int nb = m - base < B ? m - base : B;
        for (int i = 0; i < nb; i++) {
            dataset_frame(d, pick[base + i].e, pick[base + i].t, x0 + i * F);
            dataset_action_none(d, pick[base + i].e, a + (size_t)i * A);   // no button (a multi-game run's game column)
        }
        emu_start(em, d, pick + base, x0, nb);
        emu_steps(em, g, pick + base, NO_BUTTON, a, nb, k, F);
        em->draw(em->ctx, pk, nb);
        for (int i = 0; i < nb; i++) {
            engine_rollout(g, game_trace_state(g, pick[base + i].e, pick[base + i].t), NO_BUTTON, k, o);
            ev->object_mask(o, H, W, mask);
            game_trace_render(g, o, 0, ek);
            game_trace_render(g, o, 1, hid);
            r->spawn_model += emu_piece_score(pk + i * F, ek, hid, mask, C, H, W).drawn == 1;
            r->spawn_engine += emu_piece_score(ek, ek, hid, mask, C, H, W).drawn == 1;
        }
    }
    r->spawn_n = m, r->spawn_done = 1;
    free(pick), free(x0), free(pk), free(a), free(ek), free(hid), free(mask), free(o);
}

void emu_result_free(EmuResult *r) {
    for (int w = 0; w < EMU_ROWS; w++) free(r->changed[w]), free(r->live[w]), free(r->piece_l1[w]), free(r->piece_drawn[w]);
    free(r->live_true), free(r->dpsnr_other), free(r->dpsnr_none), free(r->pic_start), free(r->pic_pred0);
    memset(r, 0, sizeof *r);
}
