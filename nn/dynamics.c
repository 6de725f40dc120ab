/*
 * dynamics.c - DynModel of dynamics.h: the flat MLP behind DynOps, the VAE head (sampling
 * with a temperature, KL and its gradient) and K-step rollout training with scheduled
 * sampling, written once over the step API.
 */
#include "nn/dynamics.h"
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- the flat MLP of nn/model.h

static void flat_forward(void *m, int t, const float *z, const float *hist, const float *a, int B) {
    (void)hist;   // dynm_init_for_ae refuses a history for the flat MLP
    dyn_forward_step(m, t, z, a, B);
}
static void flat_backward(void *m, int t, const float *dh, const float *dzn, float *dz, int B) {
    dyn_backward_step(m, t, dh, dzn, dz, B);
}
static float *flat_head(void *m, int t) { return dyn_delta(m, t); }
static float *flat_znext(void *m, int t) { return dyn_znext(m, t); }
static ParamArena *flat_arena(void *m) { return &((Dyn *)m)->arena; }
static void flat_free(void *m) { dyn_free(m); free(m); }
static void flat_print(const void *m, FILE *f) { dyn_print_table(m, f); }
static size_t flat_bytes(const void *m) { return dyn_bytes(m); }

const DynOps DYN_FLAT_OPS = {"flat", flat_forward, flat_backward, flat_head, flat_znext,
                             flat_arena, flat_free, flat_print, flat_bytes};

int dynm_flat_init(DynModel *m, const DynConfig *cfg, int max_B, Rng *rng, Err *err) {
    memset(m, 0, sizeof *m);
    Dyn *d = xmalloc(sizeof *d);
    if (dyn_init(d, cfg, max_B, rng, err) < 0) {
        free(d);
        return -1;
    }
    return dynm_init(m, &DYN_FLAT_OPS, d, cfg->latent_dim, cfg->n_actions, max_B, cfg->max_steps, cfg->vae, 1, 1,
                     0, NULL, err);
}

// ---------------------------------------------------------------- the wrapper

int dyn_hist_offsets_check(const int *off, int n, Err *err) {
    if (n < 0 || n > DYN_HIST_MAX) return err_set(err, "history: 0..%d past latents, got %d", DYN_HIST_MAX, n);
    for (int k = 0; k < n; k++)
        if (off[k] < 1 || off[k] > DYN_HIST_REACH || (k && off[k] <= off[k - 1]))
            return err_set(err, "history: steps back must be strictly increasing, each 1..%d (entry %d is %d)",
                           DYN_HIST_REACH, k + 1, off[k]);
    return 0;
}

int dyn_hist_offsets_dense(const int *off, int n) {
    int zero = 1, dense = 1;
    for (int k = 0; off && k < n; k++) zero &= off[k] == 0, dense &= off[k] == k + 1;
    return !off || zero || dense;
}

int dyn_hist_depth(const int *off, int n) {
    return n <= 0 ? 0 : dyn_hist_offsets_dense(off, n) ? n : off[n - 1];
}

void dyn_hist_offsets_text(const int *off, int n, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    if (dyn_hist_offsets_dense(off, n)) {
        snprintf(buf, cap, "%d", n);
        return;
    }
    for (int k = 0; k < n && len < cap; k++) len += (size_t)snprintf(buf + len, cap - len, "%s%d", k ? "," : "", off[k]);
}

int dyn_hist_offsets_parse(const char *s, int *off, Err *err) {
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || n == DYN_HIST_MAX || v < 1 || v > DYN_HIST_REACH || (*end && *end != ','))
            return err_set(err, "history offsets '%s': expected a comma-separated list of at most %d steps 1..%d", s,
                           DYN_HIST_MAX, DYN_HIST_REACH);
        off[n++] = (int)v;
        p = *end ? end + 1 : end;
    }
    return dyn_hist_offsets_check(off, n, err) < 0 ? -1 : n;
}

int dynm_init(DynModel *m, const DynOps *ops, void *impl, int Z, int A, int max_B, int max_steps, int vae,
              int hyp, int P, int history, const int *hist_off, Err *err) {
    memset(m, 0, sizeof *m);
    if (Z < 1 || A < 1 || max_B < 1 || max_steps < 1 || hyp < 1 || hyp > DYN_HYP_MAX || P < 1 || (vae && hyp > 1) ||
        history < 0 || history > DYN_HIST_MAX) {
        ops->free(impl);
        return err_set(err, "dynamics: Z, A, max batch, max steps, logit plane must be >= 1, hypotheses 1..%d "
                       "(not with a vae), history 0..%d, got %d, %d, %d, %d, %d, %d%s, %d", DYN_HYP_MAX, DYN_HIST_MAX,
                       Z, A, max_B, max_steps, P, hyp, vae ? " with a vae" : "", history);
    }
    const int dense = dyn_hist_offsets_dense(hist_off, history);
    for (int k = 0; k < history; k++) m->hist_off[k] = dense ? k + 1 : hist_off[k];
    if (dyn_hist_offsets_check(m->hist_off, history, err) < 0) {
        ops->free(impl);
        return -1;
    }
    m->depth = dyn_hist_depth(m->hist_off, history);
    m->ops = ops, m->impl = impl;
    m->Z = Z, m->A = A, m->max_B = max_B, m->max_steps = max_steps, m->vae = !!vae, m->hyp = hyp, m->P = P;
    m->OUT = vae ? 2 * Z : hyp > 1 ? hyp * (Z + P) : Z;
    m->temperature = 1.0f;
    const int own = vae || hyp > 1;   // the wrapper owns delta and znext
    size_t TBZ = (size_t)max_steps * max_B * Z, BZ = (size_t)max_B * Z, TB = (size_t)max_steps * max_B;
    m->history = history;
    m->mem_floats = (vae ? TBZ : 0) + (own ? 2 * TBZ + (size_t)max_B * m->OUT : 0) +
                    (hyp > 1 ? TB * hyp + TBZ : 0) + TBZ + 4 * BZ + (size_t)history * BZ +
                    (m->depth > history ? (size_t)m->depth * BZ : 0);
    m->mem = xmalloc_floats(m->mem_floats);
    float *p = m->mem;
#define TAKE(n) (p += (n), p - (n))
    if (vae) m->eps = TAKE(TBZ);
    if (own) {
        m->delta = TAKE(TBZ);
        m->znext = TAKE(TBZ);
        m->dhead = TAKE((size_t)max_B * m->OUT);
    }
    if (hyp > 1) {
        m->prob = TAKE(TB * hyp);
        m->htgt = TAKE(TBZ);
        m->choice = xmalloc(TB * sizeof *m->choice);
        m->cfed = xmalloc(TB * P * sizeof *m->cfed);
        m->cnear = xmalloc(TB * P * sizeof *m->cnear);
    }
    m->zin = TAKE(TBZ);
    m->dcarry[0] = TAKE(BZ);
    m->dcarry[1] = TAKE(BZ);
    m->dzin = TAKE(BZ);
    m->tgt = TAKE(BZ);
    if (history) m->hist = TAKE((size_t)history * BZ);
    m->past = m->depth > history ? TAKE((size_t)m->depth * BZ) : m->hist;
#undef TAKE
    CHECK(p == m->mem + m->mem_floats, "dynm_init: layout");
    return 0;
}

void dynm_free(DynModel *m) {
    if (m->ops) m->ops->free(m->impl);
    free(m->mem);
    free(m->choice);
    free(m->cfed);
    free(m->cnear);
    memset(m, 0, sizeof *m);
}

static void check_step(const DynModel *m, int t, int B) {
    CHECK(t >= 0 && t < m->max_steps, "dynamics: step %d outside 0..%d (max_steps at init)", t, m->max_steps - 1);
    CHECK(B >= 1 && B <= m->max_B, "dynamics: batch %d outside 1..%d (max batch at init)", B, m->max_B);
}

float *dynm_head(DynModel *m, int t) { return m->ops->head(m->impl, t); }
float *dynm_delta(DynModel *m, int t) {
    return m->delta ? m->delta + (size_t)t * m->max_B * m->Z : m->ops->head(m->impl, t);
}
float *dynm_znext(DynModel *m, int t) {
    return m->znext ? m->znext + (size_t)t * m->max_B * m->Z : m->ops->znext(m->impl, t);
}
int dynm_stochastic(const DynModel *m) { return m->vae || m->hyp > 1; }

int dynm_hyp_taken(const DynModel *m, int b, double *p) {
    *p = 0;
    if (m->hyp <= 1) return -1;
    if (!m->choice_cell) {
        const int c = m->choice[b];
        *p = m->prob[(size_t)b * m->hyp + c];
        return c;
    }
    int n[DYN_HYP_MAX] = {0}, best = 0;
    for (int q = 0; q < m->P; q++) n[m->cfed[(size_t)b * m->P + q]]++;
    for (int c = 1; c < m->hyp; c++) best = n[c] > n[best] ? c : best;
    *p = (double)n[best] / m->P;
    return best;
}
ParamArena *dynm_arena(DynModel *m) { return m->ops->arena(m->impl); }
size_t dynm_bytes(const DynModel *m) { return m->ops->bytes(m->impl) + floats_bytes(m->mem_floats); }
void dynm_print_table(const DynModel *m, FILE *f) {
    m->ops->print_table(m->impl, f);
    if (m->vae)
        fprintf(f, "  vae head: delta = mean + T * exp(logvar/2) * eps, %d + %d outputs per sample\n", m->Z, m->Z);
    if (m->hyp > 1 && m->choice_cell)
        fprintf(f, "  %d hypotheses, chosen per cell: each of the %d cells takes one of %d candidates (%d channels "
                   "there), drawn from softmax(its logits / T) (T = 0: the most probable)\n", m->hyp, m->P, m->hyp,
                m->Z / m->P);
    else if (m->hyp > 1)
        fprintf(f, "  %d hypotheses: delta = one of %d candidates of %d, drawn from softmax(logits / T) (T = 0: the "
                   "most probable), logits the means of %d planes of %d\n", m->hyp, m->hyp, m->Z, m->hyp, m->P);
}

// ---------------------------------------------------------------- multiple hypotheses

static const float *hyp_cand(const DynModel *m, const float *head, int b, int c) {
    return head + (size_t)b * m->OUT + (size_t)c * m->Z;
}

// Logits of sample b (the means of its M planes) into l[M].
static void hyp_logits(const DynModel *m, const float *head, int b, double *l) {
    const float *pl = head + (size_t)b * m->OUT + (size_t)m->hyp * m->Z;
    for (int c = 0; c < m->hyp; c++) {
        double acc = 0;
        for (int k = 0; k < m->P; k++) acc += pl[(size_t)c * m->P + k];
        l[c] = acc / m->P;
    }
}

// softmax(l / T) into p (T > 0)
static void softmax_t(const double *l, int M, double T, double *p) {
    double mx = l[0], sum = 0;
    for (int c = 1; c < M; c++) mx = l[c] > mx ? l[c] : mx;
    for (int c = 0; c < M; c++) sum += p[c] = exp((l[c] - mx) / T);
    for (int c = 0; c < M; c++) p[c] /= sum;
}

// Among M logits l: the largest when greedy or at T = 0, else a draw from softmax(l / T) (m->rng).
static int logits_choose(DynModel *m, const double *l, int greedy) {
    const int M = m->hyp;
    int best = 0;
    for (int c = 1; c < M; c++) best = l[c] > l[best] ? c : best;
    if (greedy || m->temperature == 0.0f) return best;
    CHECK(m->rng, "dynamics: %d hypotheses at temperature %g need an rng", M, m->temperature);
    double p[DYN_HYP_MAX], u = rng_uniform(m->rng), acc = 0;
    softmax_t(l, M, m->temperature, p);
    for (best = 0; best < M - 1; best++)
        if (u < (acc += p[best])) break;
    return best;
}

static int hyp_choose(DynModel *m, const float *head, int b, const double *l, const float *tgt) {
    if (!m->oracle) return logits_choose(m, l, 0);
    int best = 0;   // the candidate nearest the target: winner takes all
    double bd = INFINITY;
    for (int c = 0; c < m->hyp; c++) {
        const float *d = hyp_cand(m, head, b, c), *y = tgt + (size_t)b * m->Z;
        double acc = 0;
        for (int j = 0; j < m->Z; j++) acc += (double)(d[j] - y[j]) * (d[j] - y[j]);
        if (acc < bd) bd = acc, best = c;
    }
    return best;
}

// Squared distance of candidate c to the target y in cell p of sample b (L = Z / P channels).
static double cell_dist(const DynModel *m, const float *head, int b, int c, const float *y, int p) {
    const int P = m->P, L = m->Z / P;
    const float *d = hyp_cand(m, head, b, c);
    double acc = 0;
    for (int ch = 0; ch < L; ch++) {
        double e = d[(size_t)ch * P + p] - y[(size_t)ch * P + p];
        acc += e * e;
    }
    return acc;
}

// The candidate nearest y in cell p; *far (may be NULL): whether the farthest candidate is at
// least DYN_HYP_CELL_GAP (RMS over the cell's channels) from y there, i.e. the choice matters.
static int cell_nearest(const DynModel *m, const float *head, int b, const float *y, int p, int *far) {
    int best = 0;
    double bd = INFINITY, worst = 0;
    for (int c = 0; c < m->hyp; c++) {
        double e = cell_dist(m, head, b, c, y, p);
        if (e < bd) bd = e, best = c;
        worst = e > worst ? e : worst;
    }
    if (far) *far = worst >= (double)DYN_HYP_CELL_GAP * DYN_HYP_CELL_GAP * (m->Z / m->P);
    return best;
}

// The M logits of cell p of sample b into l (its value in each logit plane).
static void cell_logits(const DynModel *m, const float *head, int b, int p, double *l) {
    const float *pl = head + (size_t)b * m->OUT + (size_t)m->hyp * m->Z + p;
    for (int c = 0; c < m->hyp; c++) l[c] = pl[(size_t)c * m->P];
}

// The chooser of cell p of sample b (choice_cell): logits_choose on the cell's logits.
static int cell_choose(DynModel *m, const float *head, int b, int p, int greedy) {
    double l[DYN_HYP_MAX];
    cell_logits(m, head, b, p, l);
    return logits_choose(m, l, greedy);
}

// Per cell p of sample b: cfed[p] the candidate znext takes there, and (choice_cell, oracle)
// cnear[p] the nearest there. delta and zn [Z] (z: the sample's) are rewritten where a cell's
// candidate differs from the frame's (f, the fed one). Cells choose apart when
//   ./eval --hyp-oracle cell (oracle_cell): each cell's nearest, the loss's delta too;
//   choice_cell without the oracle (./eval, ./play): each cell's chooser, delta too;
//   choice_cell with the oracle and feed_most_probable (training): znext each cell's argmax.
static void hyp_cells(DynModel *m, const float *head, int b, size_t sb, int f, float *delta, float *zn, const float *z) {
    const int P = m->P, L = m->Z / P;
    const float *y = m->tgt + (size_t)b * m->Z;
    int *cf = m->cfed + sb * P, *cn = m->cnear + sb * P;
    for (int p = 0; p < P; p++) {
        int c = f, both = 0;   // both: delta takes the cell's candidate as znext does
        if (m->oracle && m->oracle_cell) c = cell_nearest(m, head, b, y, p, NULL), both = 1;
        else if (m->choice_cell && !m->oracle) c = cell_choose(m, head, b, p, 0), both = 1;
        if (m->choice_cell && m->oracle) {
            const int am = cell_choose(m, head, b, p, 1);
            int far;
            const int n = cell_nearest(m, head, b, y, p, &far);
            cn[p] = far ? n : -1;   // the cells where the choice does not matter learn nothing
            if (far) m->oracle_choices++, m->oracle_agree += am == n;
            if (m->feed_most_probable) c = am;
        }
        cf[p] = c;
        if (c == f && !both) continue;
        const float *d = hyp_cand(m, head, b, c);
        for (int ch = 0; ch < L; ch++) {
            size_t j = (size_t)ch * P + p;
            if (both) delta[j] = d[j];
            zn[j] = z[j] + d[j];
        }
    }
}

// The chosen candidate becomes delta_t; with m->oracle the target is m->tgt (the rollout's).
// znext_t = z + the fed candidate: the chosen one, or with m->feed_most_probable (and the
// oracle) the most probable; hyp_cells then lets the cells choose apart where they do.
static void hyp_forward(DynModel *m, int t, const float *z, int B) {
    const int Z = m->Z, M = m->hyp;
    const size_t s = (size_t)t * m->max_B;
    const float *head = m->ops->head(m->impl, t);
    float *delta = m->delta + s * Z, *zn = m->znext + s * Z;
    if (m->oracle) memcpy(m->htgt + s * Z, m->tgt, (size_t)B * Z * sizeof(float));
    for (int b = 0; b < B; b++) {
        double l[DYN_HYP_MAX], p[DYN_HYP_MAX];
        hyp_logits(m, head, b, l);
        softmax_t(l, M, 1.0, p);
        for (int c = 0; c < M; c++) m->prob[(s + b) * M + c] = (float)p[c];
        int c = m->choice[s + b] = hyp_choose(m, head, b, l, m->tgt), f = c;
        if (m->oracle) {   // was the most probable candidate the nearest?
            const int am = logits_choose(m, l, 1);
            if (!m->choice_cell) m->oracle_choices++, m->oracle_agree += am == c;
            if (m->feed_most_probable && !m->choice_cell) f = am;
        }
        const float *d = hyp_cand(m, head, b, c), *e = hyp_cand(m, head, b, f);
        for (int j = 0; j < Z; j++) {
            size_t k = (size_t)b * Z + j;
            delta[k] = d[j];
            zn[k] = z[k] + e[j];   // z may alias znext(t-1), never znext(t)
        }
        hyp_cells(m, head, b, s + b, f, delta + (size_t)b * Z, zn + (size_t)b * Z, z + (size_t)b * Z);
    }
}

// The cells of a sample whose choice matters (cn[p] >= 0): their CE is a mean over them.
static int cells_counted(const int *cn, int P) {
    int n = 0;
    for (int p = 0; p < P; p++) n += cn[p] >= 0;
    return n;
}

// softmax over the M logits of cell k of sample b into q
static void cell_softmax(const DynModel *m, const float *head, int b, int k, double *q) {
    double l[DYN_HYP_MAX];
    cell_logits(m, head, b, k, l);
    softmax_t(l, m->hyp, 1.0, q);
}

// dhead of step t: the chosen candidate gets ddelta, the fed one dznext (in each cell the one
// znext took there); with m->oracle the others DYN_HYP_RELAX/(M-1) of their MSE's gradient, the
// logit planes DYN_HYP_CE_WEIGHT * dCE (choice_cell: the mean CE of the cells that count). The others' target
// is ztrue - z (a rollout's): their MSE reaches z too, dz (NULL: skip) += it.
static void hyp_dhead(DynModel *m, int t, const float *ddelta, const float *dznext, float *dz, int B) {
    CHECK(!m->oracle_cell, "dynamics: the per-cell oracle is a forward-only choice (./eval --hyp-oracle cell)");
    const int Z = m->Z, M = m->hyp, P = m->P;
    const size_t s = (size_t)t * m->max_B;
    const float *head = m->ops->head(m->impl, t), *tgt = m->htgt + s * Z;
    const float rw = DYN_HYP_RELAX / (float)(M - 1) * 2.0f / ((float)B * Z), cw = DYN_HYP_CE_WEIGHT / (float)B;
    for (int b = 0; b < B; b++) {
        const int ch = m->choice[s + b], *cf = m->cfed + (s + b) * P, *cn = m->cnear + (s + b) * P;
        float *dh = m->dhead + (size_t)b * m->OUT;
        for (int c = 0; c < M; c++) {
            const float *d = hyp_cand(m, head, b, c);
            for (int j = 0; j < Z; j++) {
                size_t k = (size_t)b * Z + j;
                float g = c == ch ? (ddelta ? ddelta[k] : 0.0f) : m->oracle ? rw * (d[j] - tgt[k]) : 0.0f;
                if (c != ch && m->oracle && dz) dz[k] += g;
                if (c == cf[j % P] && dznext) g += dznext[k];
                dh[(size_t)c * Z + j] = g;
            }
            float dl = m->oracle ? cw * (m->prob[(s + b) * M + c] - (c == ch)) / (float)P : 0.0f;
            for (int k = 0; !m->choice_cell && k < P; k++) dh[(size_t)M * Z + (size_t)c * P + k] = dl;
        }
        const int n = m->choice_cell && m->oracle ? cells_counted(cn, P) : 0;
        for (int k = 0; m->choice_cell && k < P; k++) {   // each counted cell's softmax and CE
            double q[DYN_HYP_MAX];
            if (n && cn[k] >= 0) cell_softmax(m, head, b, k, q);
            for (int c = 0; c < M; c++)
                dh[(size_t)M * Z + (size_t)c * P + k] = n && cn[k] >= 0 ? cw * (float)(q[c] - (c == cn[k])) / (float)n : 0.0f;
        }
    }
}

double dynm_hyp_loss(DynModel *m, int t, int B) {
    if (m->hyp < 2 || !m->oracle) return 0.0;
    const int Z = m->Z, M = m->hyp, P = m->P;
    const size_t s = (size_t)t * m->max_B;
    const float *head = m->ops->head(m->impl, t), *tgt = m->htgt + s * Z;
    double ce = 0, relax = 0;
    for (int b = 0; b < B; b++) {
        const int ch = m->choice[s + b];
        if (!m->choice_cell) ce -= log(fmax(m->prob[(s + b) * M + ch], 1e-30));
        const int *cn = m->cnear + (s + b) * P, n = m->choice_cell ? cells_counted(cn, P) : 0;
        for (int k = 0; n && k < P; k++) {
            double q[DYN_HYP_MAX];
            if (cn[k] < 0) continue;
            cell_softmax(m, head, b, k, q);
            ce -= log(fmax(q[cn[k]], 1e-30)) / n;
        }
        for (int c = 0; c < M; c++) {
            const float *d = hyp_cand(m, head, b, c);
            for (int j = 0; c != ch && j < Z; j++) {
                double e = d[j] - tgt[(size_t)b * Z + j];
                relax += e * e;
            }
        }
    }
    return DYN_HYP_CE_WEIGHT * ce / B + DYN_HYP_RELAX / (M - 1) * relax / ((double)B * Z);
}

// ---------------------------------------------------------------- the step API

void dynm_forward_step_oracle(DynModel *m, int t, const float *z, const float *a, const float *ztrue, int per_cell,
                              int B) {
    CHECK(m->hyp > 1, "dynm_forward_step_oracle: a model of %d hypotheses has no choice to make", m->hyp);
    CHECK(!per_cell || m->Z % m->P == 0, "dynm_forward_step_oracle: %d latents are not cells of %d", m->Z, m->P);
    CHECK(B <= m->max_B, "dynm_forward_step_oracle: batch %d > max %d", B, m->max_B);
    for (size_t i = 0; i < (size_t)B * m->Z; i++) m->tgt[i] = ztrue[i] - z[i];
    const int was = m->oracle;
    m->oracle = 1, m->oracle_cell = per_cell;
    dynm_forward_step(m, t, z, a, B);
    m->oracle = was, m->oracle_cell = 0;
}

void dynm_forward_step(DynModel *m, int t, const float *z, const float *a, int B) {
    check_step(m, t, B);
    m->ops->forward_step(m->impl, t, z, m->hist, a, B);
    if (m->hyp > 1) {
        hyp_forward(m, t, z, B);
        return;
    }
    if (!m->vae) return;
    const int Z = m->Z;
    const float T = m->temperature;
    const float *head = m->ops->head(m->impl, t);
    const size_t s = (size_t)t * m->max_B * Z;
    float *eps = m->eps + s, *delta = m->delta + s, *zn = m->znext + s;
    CHECK(T == 0 || m->eps_in || m->rng, "dynamics: a vae at temperature %g needs eps or an rng", T);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < Z; j++) {
            size_t k = (size_t)b * Z + j;
            float mu = head[(size_t)b * 2 * Z + j], lv = head[(size_t)b * 2 * Z + Z + j];
            float d = mu;
            eps[k] = 0.0f;
            if (T != 0.0f) {
                eps[k] = m->eps_in ? m->eps_in[(size_t)t * B * Z + k] : rng_normal(m->rng);
                d = mu + T * expf(0.5f * lv) * eps[k];
            }
            delta[k] = d;
            zn[k] = z[k] + d;   // z may alias znext(t-1), never znext(t)
        }
}

// hist from the ring past (slot (past_head + j) % depth: j+1 steps before).
static void hist_from_ring(DynModel *m, int B) {
    const int N = m->history, D = m->depth, Z = m->Z;
    if (m->past == m->hist) return;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < N; k++)
            memcpy(m->hist + ((size_t)b * N + k) * Z,
                   m->past + ((size_t)b * D + (m->past_head + m->hist_off[k] - 1) % D) * Z, (size_t)Z * sizeof(float));
}

void dynm_hist_gather(DynModel *m, int B) {
    CHECK(B >= 0 && B <= m->max_B, "dynamics: history of %d samples, max batch %d", B, m->max_B);
    m->past_head = 0;
    hist_from_ring(m, B);
}

void dynm_hist_reset(DynModel *m, const float *z, int B) {
    CHECK(B >= 0 && B <= m->max_B, "dynamics: history of %d samples, max batch %d", B, m->max_B);
    const int D = m->depth, Z = m->Z;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < D; k++)
            memcpy(m->past + ((size_t)b * D + k) * Z, z + (size_t)b * Z, (size_t)Z * sizeof(float));
    dynm_hist_gather(m, B);
}

void dynm_hist_push(DynModel *m, const float *z, int B) {
    CHECK(B >= 0 && B <= m->max_B, "dynamics: history of %d samples, max batch %d", B, m->max_B);
    const int D = m->depth, Z = m->Z;
    if (!D) return;
    if (m->past == m->hist) {   // the model reads past in order: move it
        for (int b = 0; b < B; b++) {
            float *h = m->past + (size_t)b * D * Z;
            memmove(h + Z, h, (size_t)(D - 1) * Z * sizeof(float));
            memcpy(h, z + (size_t)b * Z, (size_t)Z * sizeof(float));
        }
        return;
    }
    m->past_head = (m->past_head + D - 1) % D;   // the oldest slot becomes the newest
    for (int b = 0; b < B; b++)
        memcpy(m->past + ((size_t)b * D + m->past_head) * Z, z + (size_t)b * Z, (size_t)Z * sizeof(float));
    hist_from_ring(m, B);
}

void dynm_backward_step(DynModel *m, int t, const float *ddelta, const float *dznext, float *dz, int B) {
    check_step(m, t, B);
    if (m->hyp > 1) {
        hyp_dhead(m, t, ddelta, dznext, dz, B);
        if (dz && dznext)   // znext = z + delta
            for (size_t k = 0; k < (size_t)B * m->Z; k++) dz[k] += dznext[k];
        m->ops->backward_step(m->impl, t, m->dhead, NULL, dz, B);
        return;
    }
    if (!m->vae) {
        m->ops->backward_step(m->impl, t, ddelta, dznext, dz, B);
        return;
    }
    const int Z = m->Z;
    const float T = m->temperature, kw = (float)((double)m->beta / ((double)B * Z));
    const float *head = m->ops->head(m->impl, t), *eps = m->eps + (size_t)t * m->max_B * Z;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < Z; j++) {
            size_t k = (size_t)b * Z + j, h = (size_t)b * 2 * Z + j;
            float g = (ddelta ? ddelta[k] : 0.0f) + (dznext ? dznext[k] : 0.0f);   // znext = z + delta
            float mu = head[h], lv = head[h + Z], var = expf(lv);
            m->dhead[h] = g + kw * mu;
            m->dhead[h + Z] = g * T * eps[k] * 0.5f * sqrtf(var) + kw * 0.5f * (var - 1.0f);
        }
    if (dz && dznext)
        for (size_t k = 0; k < (size_t)B * Z; k++) dz[k] += dznext[k];
    m->ops->backward_step(m->impl, t, m->dhead, NULL, dz, B);
}

double dynm_kl(DynModel *m, int t, int B) {
    if (!m->vae) return 0.0;
    const int Z = m->Z;
    const float *head = m->ops->head(m->impl, t);
    double acc = 0;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < Z; j++) {
            double mu = head[(size_t)b * 2 * Z + j], lv = head[(size_t)b * 2 * Z + Z + j];
            acc += 1.0 + lv - mu * mu - exp(lv);
        }
    return -0.5 * acc / ((double)B * Z);
}

// ---------------------------------------------------------------- rollout training

// target_k = ztrue_{k+1} - zin_k into m->tgt
static void rollout_target(DynModel *m, const float *ztrue, int k, int B) {
    const size_t nz = (size_t)B * m->Z;
    const float *y = ztrue + (k + 1) * nz, *zin = m->zin + (size_t)k * m->max_B * m->Z;
    for (size_t i = 0; i < nz; i++) m->tgt[i] = y[i] - zin[i];
}

DynLoss dynm_rollout_forward(DynModel *m, const float *ztrue, const float *a, const uint8_t *feed, int K, int B) {
    CHECK(K >= 1 && K <= m->max_steps, "dynamics: rollout of %d steps, max_steps is %d", K, m->max_steps);
    const int Z = m->Z;
    const size_t nz = (size_t)B * Z, stride = (size_t)m->max_B * Z;
    DynLoss L = {0, 0, 0};
    for (int k = 0; k < K; k++) {
        float *zin = m->zin + k * stride;
        const float *zt = ztrue + k * nz;
        if (k == 0) memcpy(zin, zt, nz * sizeof(float));
        else {
            const float *prev = dynm_znext(m, k - 1);
            for (int b = 0; b < B; b++) {
                const float *src = !feed || feed[(size_t)k * B + b] ? prev : zt;
                memcpy(zin + (size_t)b * Z, src + (size_t)b * Z, (size_t)Z * sizeof(float));
            }
        }
        rollout_target(m, ztrue, k, B);   // before the step: hypotheses are chosen against it
        dynm_forward_step(m, k, zin, a + (size_t)k * B * m->A, B);
        L.mse += mse_loss_forward(dynm_delta(m, k), m->tgt, nz);
        L.kl += dynm_kl(m, k, B);
        L.hyp += dynm_hyp_loss(m, k, B);
        dynm_hist_push(m, zin, B);
    }
    return L;
}

// Step k's loss MSE(delta_k, ztrue_{k+1} - zin_k) reaches zin_k through the net and through
// its target (+dd); zin_k is znext_{k-1} in the rows fed back, and carries that on.
void dynm_rollout_backward(DynModel *m, const float *ztrue, const uint8_t *feed, int K, int B) {
    CHECK(K >= 1 && K <= m->max_steps, "dynamics: rollout of %d steps, max_steps is %d", K, m->max_steps);
    const int Z = m->Z;
    const size_t nz = (size_t)B * Z;
    float *carry = m->dcarry[0], *dd = m->dcarry[1];   // carry: dLoss/dznext_k through steps after k
    for (int k = K - 1; k >= 0; k--) {
        rollout_target(m, ztrue, k, B);
        memset(dd, 0, nz * sizeof(float));
        mse_loss_backward(dd, dynm_delta(m, k), m->tgt, nz, 1.0f);
        if (k) memset(m->dzin, 0, nz * sizeof(float));
        dynm_backward_step(m, k, dd, k == K - 1 ? NULL : carry, k ? m->dzin : NULL, B);
        for (int b = 0; k && b < B; b++) {
            int fed = !feed || feed[(size_t)k * B + b];
            for (int j = 0; j < Z; j++) {
                size_t i = (size_t)b * Z + j;
                carry[i] = fed ? m->dzin[i] + dd[i] : 0.0f;
            }
        }
    }
}

double dynm_sampling_p(double p0, double p1, int e, int epochs) {
    if (epochs <= 1) return p0;
    return p0 + (p1 - p0) * (double)e / (double)(epochs - 1);
}
