/*
 * rollout.c - seeded start points, Student-t intervals and the batched open-loop rollouts
 * of ./eval (see rollout.h).
 */
#include "evaluation/rollout.h"
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "evaluation/deadband.h"
#include "evaluation/emulation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- start points

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int select_starts(const Dataset *d, const int *episodes, int n_episodes, int starts, int max_step,
                  uint64_t seed, StartPoint **out, int *n_out, Err *err) {
    *out = NULL;
    *n_out = 0;
    if (starts < 1) return err_set(err, "expected at least 1 start point per episode, found %d", starts);
    if (max_step < 1) return err_set(err, "expected a rollout of at least 1 step, found %d", max_step);
    if (n_episodes < 1) return err_set(err, "%s: no episodes to evaluate", d->path);
    size_t cap = (size_t)n_episodes * (size_t)starts;
    StartPoint *sp = xmalloc(cap * sizeof *sp);
    int n = 0, longest = -1;
    for (int i = 0; i < n_episodes; i++) {
        int e = episodes[i];
        CHECK(e >= 0 && e < d->n_episodes, "episode index %d of %d", e, d->n_episodes);
        if (longest < 0 || dataset_ep_frames(d, e) > dataset_ep_frames(d, longest)) longest = e;
        int64_t P = dataset_ep_transitions(d, e) - max_step + 1;   // valid t: 0..P-1
        if (P <= 0) continue;
        int take = P < starts ? (int)P : starts;
        int *pos = xmalloc((size_t)P * sizeof(int));
        for (int64_t k = 0; k < P; k++) pos[k] = (int)k;
        Rng rng;
        rng_seed(&rng, seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(e + 1)));
        // partial Fisher-Yates: the first `take` entries become a uniform random subset
        for (int k = 0; k < take && take < P; k++) {
            int j = k + (int)rng_below(&rng, (uint32_t)(P - k));
            int tmp = pos[k];
            pos[k] = pos[j], pos[j] = tmp;
        }
        qsort(pos, (size_t)take, sizeof(int), cmp_int);
        for (int k = 0; k < take; k++) sp[n++] = (StartPoint){e, pos[k]};
        free(pos);
    }
    if (n == 0) {
        free(sp);
        return err_set(err, "rollouts of %d steps need episodes of at least %d frames, but the longest of the %d "
                       "episodes evaluated (/episode_%d of %s) has %lld frames: use steps of at most %lld",
                       max_step, max_step + 1, n_episodes, d->ep_id[longest], d->path,
                       (long long)dataset_ep_frames(d, longest), (long long)dataset_ep_transitions(d, longest));
    }
    *out = sp;
    *n_out = n;
    return 0;
}

// ---------------------------------------------------------------- Student t

// Continued fraction of the incomplete beta function (modified Lentz), for x < (a+1)/(a+b+2).
static double beta_cf(double a, double b, double x) {
    const double tiny = 1e-300, eps = 1e-15;
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, dd = 1 - qab * x / qap;
    if (fabs(dd) < tiny) dd = tiny;
    dd = 1 / dd;
    double h = dd;
    for (int m = 1; m <= 500; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        dd = 1 + aa * dd;
        if (fabs(dd) < tiny) dd = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        dd = 1 / dd;
        h *= dd * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        dd = 1 + aa * dd;
        if (fabs(dd) < tiny) dd = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        dd = 1 / dd;
        double del = dd * c;
        h *= del;
        if (fabs(del - 1) < eps) break;
    }
    return h;
}

// Regularised incomplete beta I_x(a, b).
static double beta_inc(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    double bt = exp(lbt);
    if (x < (a + 1) / (a + b + 2)) return bt * beta_cf(a, b, x) / a;
    return 1 - bt * beta_cf(b, a, 1 - x) / b;
}

double student_t_cdf(double t, int df) {
    double v = df;
    double tail = 0.5 * beta_inc(v / 2, 0.5, v / (v + t * t));   // P(T > |t|)
    return t >= 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, int df) {
    CHECK(p > 0 && p < 1 && df >= 1, "student_t_quantile(%g, %d)", p, df);
    if (p == 0.5) return 0;
    if (p < 0.5) return -student_t_quantile(1 - p, df);
    double lo = 0, hi = 1;
    while (student_t_cdf(hi, df) < p && hi < 1e12) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * (1 + hi); i++) {
        double mid = 0.5 * (lo + hi);
        if (student_t_cdf(mid, df) < p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

Interval interval95(const double *x, int n) {
    Interval iv = {.n = n, .mean = NAN, .sd = NAN, .half = NAN, .lo = NAN, .hi = NAN};
    if (n < 1) return iv;
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    iv.mean = s / n;
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (x[i] - iv.mean) * (x[i] - iv.mean);
    iv.sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
    if (n > 1) {
        iv.half = student_t_quantile(0.975, n - 1) * iv.sd / sqrt((double)n);
        iv.lo = iv.mean - iv.half;
        iv.hi = iv.mean + iv.half;
    }
    return iv;
}

Interval interval95_metric(const Metrics *m, int n, MetricKind kind) {
    double *x = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    for (int i = 0; i < n; i++)
        x[i] = kind == METRIC_L1 ? m[i].l1 : kind == METRIC_SSIM ? m[i].ssim : m[i].psnr;
    Interval iv = interval95(x, n);
    free(x);
    return iv;
}

// ---------------------------------------------------------------- rollouts

// Mean pairwise L1 between the S frames of one start (rows p[s*F ..]), over the S(S-1)/2 pairs.
double pairwise_l1(const float *p, int S, int C, int HW, const uint8_t *mask) {
    size_t n = 0;
    for (int k = 0; k < HW; k++) n += !mask || mask[k];
    if (S < 2 || n == 0) return NAN;
    const size_t F = (size_t)C * HW;
    double acc = 0;
    for (int u = 0; u < S; u++)
        for (int v = u + 1; v < S; v++) {
            double d = 0;
            for (int c = 0; c < C; c++)
                for (int k = 0; k < HW; k++)
                    if (!mask || mask[k]) d += fabsf(p[u * F + (size_t)c * HW + k] - p[v * F + (size_t)c * HW + k]);
            acc += d / ((double)n * C);
        }
    return acc / (0.5 * S * (S - 1));
}

// The enemies' region of start point sp at step k: the enemy masks of its start state and of
// frame t+k's state together; returns the pixel count (0: no trace, no mask, none in play).
static int enemy_region(const GameTrace *g, StartPoint sp, int k, int H, int W, uint8_t *mask, uint8_t *tmp) {
    if (!g || !g->available || !g->game->eval || !g->game->eval->enemy_mask) return 0;
    const void *s0 = game_trace_state(g, sp.e, sp.t), *s1 = game_trace_state(g, sp.e, sp.t + k);
    if (!s0 || !s1) return 0;
    g->game->eval->enemy_mask(s0, H, W, mask);
    g->game->eval->enemy_mask(s1, H, W, tmp);
    int n = 0;
    for (int i = 0; i < H * W; i++) n += (mask[i] |= tmp[i]) != 0;
    return n;
}

void start_past_frames(const Dataset *d, StartPoint sp, int N, float *out) {
    const size_t F = (size_t)d->C * d->H * d->W;
    for (int k = 1; k <= N; k++) dataset_frame(d, sp.e, sp.t >= k ? sp.t - k : 0, out + (size_t)(k - 1) * F);
}

// The history of the n starts' S samples (rows i*S + s): the encoded real frames before each
// start (an episode's first frame repeated before it), as training saw them. buf [depth][C,H,W].
static void rollout_past(AE *ae, DynModel *dyn, const Dataset *d, const StartPoint *sp, int n, int S, float *buf) {
    const int D = dyn->depth, Z = dyn->Z;
    const size_t F = (size_t)d->C * d->H * d->W;
    for (int i = 0; i < n; i++) {
        start_past_frames(d, sp[i], D, buf);
        float *h0 = dyn->past + (size_t)i * S * D * Z;
        for (int k = 0; k < D; k += ae->max_B)
            ae_encode(ae, buf + k * F, D - k < ae->max_B ? D - k : ae->max_B, h0 + (size_t)k * Z);
        for (int s = 1; s < S; s++) memcpy(h0 + (size_t)s * D * Z, h0, (size_t)D * Z * sizeof(float));
    }
    dynm_hist_gather(dyn, n * S);
}

// closed_loop_reencode of the nS = n * S <= ae->max_B rows of z (row q starts from x0[q / S]);
// pred [nS, C, H, W] is scratch. Samples of one start share its x0 and d0: then one row at a time.
static void reencode_samples(AE *ae, float *z, int nS, int S, const float *x0, const float *d0, float compose,
                             float *pred) {
    const size_t F = (size_t)ae->cfg.C * ae->cfg.H * ae->cfg.W, Z = (size_t)ae->cfg.latent_dim;
    if (S == 1 || compose <= 0) {
        closed_loop_reencode(ae, z, nS, x0, d0, compose, pred);
        return;
    }
    for (int q = 0; q < nS; q++)
        closed_loop_reencode(ae, z + q * Z, 1, x0 + (q / S) * F, d0 + (q / S) * F, compose, pred + q * F);
}

// The S samples of start i are rows i*S .. i*S+S-1 of a batch, run in lockstep.
void rollout_eval(AE *ae, DynModel *dyn, const Dataset *d, const StartPoint *sp, int N, const int *steps,
                  int n_steps, int n_pic, int S, const ClosedLoop *loop, const GameTrace *g, RolloutResult *r) {
    CHECK(N >= 1 && n_steps >= 1 && n_pic >= 0 && n_pic <= N && S >= 1, "N %d n_steps %d n_pic %d samples %d", N,
          n_steps, n_pic, S);
    CHECK(ae->cfg.C == d->C && ae->cfg.H == d->H && ae->cfg.W == d->W, "autoencoder does not fit the data");
    CHECK(dyn->Z == ae->cfg.latent_dim && dyn->A == d->A, "dynamics does not fit");
    for (int j = 0; j < n_steps; j++) CHECK(steps[j] >= 1 && (j == 0 || steps[j] > steps[j - 1]), "steps");
    const int C = d->C, H = d->H, W = d->W, Z = ae->cfg.latent_dim, A = d->A;
    const size_t F = (size_t)C * H * W;
    const int K = steps[n_steps - 1];
    const int Bm = ae->max_B < dyn->max_B ? ae->max_B : dyn->max_B;
    CHECK(Bm >= S, "rollout_eval: %d samples need a max batch >= %d, have %d", S, S, Bm);
    CHECK(!loop->hyp_oracle || (S == 1 && dyn->hyp > 1), "rollout_eval: the oracle chooses among hypotheses, one sample");
    const int B = Bm / S;   // start points per batch

    memset(r, 0, sizeof *r);
    r->N = N, r->n_steps = n_steps, r->C = C, r->H = H, r->W = W, r->n_pic = n_pic, r->S = S;
    r->model = xmalloc((size_t)n_steps * N * sizeof(Metrics));
    r->copy = xmalloc((size_t)n_steps * N * sizeof(Metrics));
    r->recon = xmalloc((size_t)n_steps * N * sizeof(Metrics));
    r->samples = xmalloc((size_t)S * n_steps * N * sizeof(Metrics));
    r->diversity = xmalloc((size_t)n_steps * N * sizeof(double));
    r->div_enemy = xmalloc((size_t)n_steps * N * sizeof(double));
    r->pic_idx = xmalloc((size_t)(n_pic > 0 ? n_pic : 1) * sizeof(int));
    r->pic_truth = xmalloc_floats((size_t)n_pic * n_steps * F);
    r->pic_pred = xmalloc_floats((size_t)n_pic * n_steps * F);
    r->pic_samples = S > 1 ? xmalloc_floats((size_t)n_pic * S * n_steps * F) : NULL;
    int *slot = xmalloc((size_t)N * sizeof(int));   // start index -> picture row, or -1
    for (int i = 0; i < N; i++) slot[i] = -1;
    for (int p = 0; p < n_pic; p++) {   // an even spread over the start list (distinct as n_pic <= N)
        r->pic_idx[p] = (int)((int64_t)p * N / n_pic);
        slot[r->pic_idx[p]] = p;
    }

    float *x0 = xmalloc_floats((size_t)B * F);          // [B,C,H,W] start frames
    float *truth = xmalloc_floats((size_t)B * S * F);   // [B*S,C,H,W] frames t+k (each S times)
    float *pred = xmalloc_floats((size_t)B * S * F);    // [B*S,C,H,W] decode(z_k)
    float *rec = xmalloc_floats((size_t)B * F);         // [B,C,H,W] decode(encode(truth))
    const float compose = loop->compose;
    float *d0 = compose > 0 ? xmalloc_floats((size_t)B * F) : NULL;   // [B,C,H,W] decode(encode(start))
    float *z = xmalloc_floats((size_t)B * S * Z);       // [B*S,Z] rollout state
    float *zr = xmalloc_floats((size_t)B * Z);          // [B,Z] encode(start), encode(truth)
    float *a = xmalloc_floats((size_t)B * S * A);       // [B*S,A] actions of one step
    float *hist = xmalloc_floats((size_t)(dyn->depth > 0 ? dyn->depth : 1) * F);   // [depth,C,H,W] past frames
    Metrics *met = xmalloc((size_t)B * S * sizeof(Metrics));
    uint8_t *emask = xmalloc((size_t)2 * H * W);   // [2][H*W] the enemies' region and a scratch mask

    for (int base = 0; base < N; base += B) {
        int n = N - base < B ? N - base : B, nS = n * S;
        for (int i = 0; i < n; i++) dataset_frame(d, sp[base + i].e, sp[base + i].t, x0 + i * F);
        ae_encode(ae, x0, n, zr);
        if (d0) ae_decode(ae, zr, n, d0);
        for (int q = 0; q < nS; q++) memcpy(z + (size_t)q * Z, zr + (size_t)(q / S) * Z, (size_t)Z * sizeof(float));
        if (dyn->history > 0) rollout_past(ae, dyn, d, sp + base, n, S, hist);   // the real frames before each start
        int j = 0;   // next requested step
        for (int k = 1; k <= K; k++) {
            for (int q = 0; q < nS; q++) dataset_action(d, sp[base + q / S].e, sp[base + q / S].t + k - 1, a + (size_t)q * A);
            if (loop->hyp_oracle) {   // the candidate nearest encode(frame t+k) (S == 1: nS == n)
                for (int i = 0; i < n; i++) dataset_frame(d, sp[base + i].e, sp[base + i].t + k, rec + i * F);
                ae_encode(ae, rec, n, zr);
                dynm_forward_step_oracle(dyn, 0, z, a, zr, loop->hyp_oracle == HYP_ORACLE_CELL, nS);
            } else {
                dynm_forward_step(dyn, 0, z, a, nS);
            }
            dynm_hist_push(dyn, z, nS);
            latent_deadband(z, dynm_znext(dyn, 0), nS, Z, ae->cfg.latent_channels, loop->deadband);
            memcpy(z, dynm_znext(dyn, 0), (size_t)nS * Z * sizeof(float));
            if (closed_loop_reencodes(loop, k)) reencode_samples(ae, z, nS, S, x0, d0, compose, pred);
            if (k != steps[j]) continue;
            for (int q = 0; q < nS; q++) {
                if (q % S == 0) dataset_frame(d, sp[base + q / S].e, sp[base + q / S].t + k, truth + (size_t)q * F);
                else memcpy(truth + (size_t)q * F, truth + (size_t)(q - q % S) * F, F * sizeof(float));
            }
            ae_decode(ae, z, nS, pred);
            for (int q = 0; q < nS && d0; q++)
                emu_compose(pred + (size_t)q * F, x0 + (size_t)(q / S) * F, d0 + (size_t)(q / S) * F, C, H, W, compose);
            metrics_batch(pred, truth, nS, C, H, W, met);
            for (int i = 0; i < n; i++) dataset_frame(d, sp[base + i].e, sp[base + i].t + k, rec + i * F);
            ae_encode(ae, rec, n, zr);
            ae_decode(ae, zr, n, rec);
            size_t off = (size_t)j * N + base;
            for (int i = 0; i < n; i++) dataset_frame(d, sp[base + i].e, sp[base + i].t + k, truth + (size_t)i * F);
            metrics_batch(x0, truth, n, C, H, W, r->copy + off);
            metrics_batch(rec, truth, n, C, H, W, r->recon + off);
            for (int i = 0; i < n; i++) {   // model: each start's mean over its samples
                Metrics m = {0, 0, 0, 0};
                for (int s = 0; s < S; s++) {
                    const Metrics *g = &met[i * S + s];
                    m.l1 += g->l1, m.mse += g->mse, m.psnr += g->psnr, m.ssim += g->ssim;
                    r->samples[((size_t)s * n_steps + j) * N + base + i] = *g;
                }
                if (S > 1) m.l1 /= S, m.mse /= S, m.psnr /= S, m.ssim /= S;
                r->model[off + i] = S > 1 ? m : met[i];
                r->diversity[off + i] = S > 1 ? pairwise_l1(pred + (size_t)i * S * F, S, C, H * W, NULL) : NAN;
                r->div_enemy[off + i] = S > 1 && enemy_region(g, sp[base + i], k, H, W, emask, emask + H * W) > 0
                                            ? pairwise_l1(pred + (size_t)i * S * F, S, C, H * W, emask)
                                            : NAN;
                int p = slot[base + i];
                if (p < 0) continue;
                size_t o = ((size_t)p * n_steps + j) * F;
                memcpy(r->pic_truth + o, truth + i * F, F * sizeof(float));
                memcpy(r->pic_pred + o, pred + (size_t)i * S * F, F * sizeof(float));
                for (int s = 0; s < S && r->pic_samples; s++)
                    memcpy(r->pic_samples + (((size_t)p * S + s) * n_steps + j) * F, pred + ((size_t)i * S + s) * F,
                           F * sizeof(float));
            }
            j++;
        }
    }
    free(slot), free(met), free(emask);
    free(x0), free(truth), free(pred), free(rec), free(d0), free(z), free(zr), free(a), free(hist);
}

void rollout_result_free(RolloutResult *r) {
    free(r->model), free(r->copy), free(r->recon), free(r->samples), free(r->diversity), free(r->div_enemy);
    free(r->pic_idx), free(r->pic_truth), free(r->pic_pred), free(r->pic_samples);
    memset(r, 0, sizeof *r);
}
