/*
 * train_dyn.c - ./train's dynamics stage (src/train.h): latents of every frame from the
 * frozen autoencoder, then the dynamics model behind nn/dynamics.h on K-step windows
 * (roadmap 1.3 with K = 1; phase 3: the VAE head, K-step rollouts with scheduled sampling),
 * and the roadmap 1.3 checks with rollout.png.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "evaluation/picture.h"
#include "nn/dyn_conv.h"   // the conv dynamics of a spatial latent
#include "nn/dynamics.h"
#include "nn/ops.h"
#include "base/dist.h"
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/clock.h"
#include "src/train.h"

// ---------------------------------------------------------------- dynamics stage

void load_autoencoder(const char *path, const Dataset *ds, AE *ae, int max_B) {
    Err err;
    CkptMeta meta;
    AEConfig ac;
    if (checkpoint_read_meta(path, &meta, &err) < 0) die("%s", err.msg);
    if (ckpt_meta_to_ae_config(&meta, &ac, &err) < 0) die("%s: %s", path, err.msg);
    if (ac.H != ds->H || ac.W != ds->W || ac.C != ds->C)
        die("%s: the autoencoder takes %dx%dx%d frames but the config's data are %dx%dx%d (data.height, width, channels)",
            path, ac.H, ac.W, ac.C, ds->H, ds->W, ds->C);
    Rng rng;
    rng_seed(&rng, 0);
    if (ae_init(ae, &ac, max_B, &rng, &err) < 0) die("%s: %s", path, err.msg);
    if (checkpoint_load(path, &ae->arena, "autoencoder", &meta, &err) < 0) die("%s", err.msg);
}

void check_latent_family(const Config *c, const AE *ae, const char *path) {
    if ((ae->cfg.latent_channels > 0) != (c->model.latent == LATENT_SPATIAL))
        die("%s has a %s latent but model.latent = %s (at %s)", path, ae->cfg.latent_channels ? "spatial" : "flat",
            c->model.latent == LATENT_SPATIAL ? "spatial" : "flat",
            config_source(c, "model.latent") ? config_source(c, "model.latent") : "default");

}

void check_model_keys(const Config *c, const AE *ae, const char *path) {
    const int spatial = ae->cfg.latent_channels > 0;
    const char *keys[3] = {spatial ? "model.latent_channels" : "model.latent_dim", "model.stages", "model.base_channels"};
    const int mine[3] = {spatial ? c->model.latent_channels : c->model.latent_dim, c->model.stages,
                         c->model.base_channels};
    const int theirs[3] = {spatial ? ae->cfg.latent_channels : ae->cfg.latent_dim, ae->cfg.stages,
                           ae->cfg.base_channels};
    for (int k = 0; k < 3; k++) {
        const char *at = config_source(c, keys[k]);
        if (at && mine[k] != theirs[k])
            die("%s = %d (%s) but the autoencoder %s has %d; expected the checkpoint's value (or leave the key out)",
                keys[k], mine[k], at, path, theirs[k]);
    }
}

// Encodes every frame of the dataset: returns Z [n_frames, Z].
static float *encode_all(const Dataset *ds, AE *ae, int B) {
    int Z = ae->cfg.latent_dim;
    size_t fsz = (size_t)ds->C * ds->H * ds->W;
    float *zs = xmalloc_floats((size_t)ds->n_frames * Z);
    float *x = xmalloc_floats((size_t)B * fsz);
    double t0 = now_seconds();
    for (int64_t f0 = 0; f0 < ds->n_frames; f0 += B) {
        int n = (int)(ds->n_frames - f0 < B ? ds->n_frames - f0 : B);
        for (int j = 0; j < n; j++) {
            const uint8_t *u = ds->frames + (size_t)(f0 + j) * fsz;
            for (size_t k = 0; k < fsz; k++) x[j * fsz + k] = u[k] * (1.0f / 255.0f);
        }
        ae_encode(ae, x, n, zs + (size_t)f0 * Z);
    }
    printf("encoded %lld frames with the frozen autoencoder in %.1fs\n", (long long)ds->n_frames, now_seconds() - t0);
    free(x);
    return zs;
}

// The latents of the frames before frame f (step t of its episode) into sample j's past, slot
// k-1 = frame f-k (the episode's first frame repeated before it): a history's real past (the
// caller gathers the model's planes from it, dynm_hist_gather).
static void real_past(DynModel *dyn, int j, const float *zs, int64_t f, int64_t t) {
    const int D = dyn->depth, Z = dyn->Z;
    float *h = dyn->past + (size_t)j * D * Z;
    for (int k = 1; k <= D; k++)
        memcpy(h + (size_t)(k - 1) * Z, zs + (size_t)(f - (t >= k ? k : t)) * Z, Z * sizeof(float));
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

// dynamics.event_weight: the training windows that hold a step whose latent change (RMS over the
// latent) is among the largest event_share of the training steps are drawn event_weight times.
static void event_windows(const Trainer *tr, Sampler *ts, const float *zs, int Z) {
    const Config *c = &tr->cfg;
    const Dataset *ds = &tr->ds;
    if (c->dynamics.event_weight <= 1) return;
    int64_t nf = ds->frame_off[ds->n_episodes - 1] + dataset_ep_frames(ds, ds->n_episodes - 1), ns = 0;
    float *ch = xmalloc_floats((size_t)nf), *all = xmalloc_floats((size_t)nf);   // per frame f: |z_{f+1} - z_f|
    for (int i = 0; i < tr->split.n_train; i++) {
        int e = tr->split.train[i];
        for (int64_t t = 0; t + 1 < dataset_ep_frames(ds, e); t++) {
            int64_t f = ds->frame_off[e] + t;
            double q = 0;
            for (int j = 0; j < Z; j++) {
                double d = zs[(size_t)(f + 1) * Z + j] - zs[(size_t)f * Z + j];
                q += d * d;
            }
            ch[f] = all[ns++] = (float)sqrt(q / Z);
        }
    }
    qsort(all, (size_t)ns, sizeof *all, cmp_float);
    int64_t at = (int64_t)((1.0 - c->dynamics.event_share) * (double)ns);
    const float thr = all[at < ns ? at : ns - 1];
    uint8_t *flag = xmalloc((size_t)ts->n);
    int64_t hits = 0, n0 = ts->n;
    for (int64_t i = 0; i < ts->n; i++) {
        int64_t f = ds->frame_off[ts->items[i].e] + ts->items[i].t;
        flag[i] = 0;
        for (int k = 0; k < ts->K; k++) flag[i] |= ch[f + k] >= thr;
        hits += flag[i];
    }
    int64_t n = sampler_repeat(ts, flag, c->dynamics.event_weight);
    printf("events: %lld of %lld training windows hold a step among the largest %g of the latent changes (RMS >= "
           "%.4f), drawn %d times: %lld windows an epoch\n", (long long)hits, (long long)n0, c->dynamics.event_share,
           thr, c->dynamics.event_weight, (long long)n);
    free(ch), free(all), free(flag);
}

// Batch i of K-step windows: ztrue [K+1][B][Z] the latents of frames t..t+K, a [K][B][A]
// the actions t..t+K-1 (step-major, the layout of dynm_rollout_forward); with a history, the
// model's past the latents of frames t-1, t-2, ... (the episode's first frame before it).
static void dyn_window_batch(const Dataset *ds, const Sampler *s, const float *zs, DynModel *dyn, int64_t i, int B,
                             float *ztrue, float *a, int *n_out) {
    const int Z = dyn->Z;
    int64_t lo = i * B, hi = lo + B < s->n ? lo + B : s->n;
    int n = (int)(hi - lo), K = s->K;
    for (int j = 0; j < n; j++) {
        SampleRef r = s->items[lo + j];
        int64_t f = ds->frame_off[r.e] + r.t;
        for (int k = 0; k <= K; k++)
            memcpy(ztrue + ((size_t)k * n + j) * Z, zs + (size_t)(f + k) * Z, Z * sizeof(float));
        for (int k = 0; k < K; k++) dataset_action(ds, r.e, r.t + k, a + ((size_t)k * n + j) * ds->A);
        real_past(dyn, j, zs, f, r.t);
    }
    dynm_hist_gather(dyn, n);
    *n_out = n;
}

// dyn_report's sizes: N one-step transitions; rollout.png's starts x steps frames.
enum { REPORT_N = 100, REPORT_STARTS = 4, REPORT_STEPS = 5 };

size_t dyn_report_bytes(const Dataset *ds) {
    size_t fsz = (size_t)ds->C * ds->H * ds->W;
    // rollout.png's canvas (evaluation/picture.c's grid: frames scaled to >= 160 pixels a side,
    // at most 8x; gaps, labels and the title make up the rest)
    int side = ds->H > ds->W ? ds->H : ds->W, s = side >= 160 ? 1 : 160 / side > 8 ? 8 : 160 / side;
    size_t canvas = (size_t)3 * (2 * REPORT_STARTS * (ds->H * s + 14) + 80) * (REPORT_STEPS * (ds->W * s + 4) + 80);
    return floats_bytes((2 * (size_t)REPORT_N + 2 * REPORT_STARTS * REPORT_STEPS) * fsz) + canvas;
}

// Phase-1 checks of roadmap 1.3 and rollout.png, on validation episodes.
static void dyn_report(Trainer *tr, AE *ae, DynModel *dyn, const float *zs) {
    const Dataset *ds = &tr->ds;
    int Z = dyn->Z, A = ds->A;
    size_t fsz = (size_t)ds->C * ds->H * ds->W;
    Rng rng;
    rng_seed(&rng, epoch_seed(tr->cfg.run.seed, 7, 0));
    // (1) one-step decoded L1 over 100 random validation transitions
    // (2) mean |delta| for the zero action vs the recorded actions, same frames
    int N = REPORT_N;
    float *z = xmalloc_floats((size_t)N * Z), *a = xmalloc_floats((size_t)N * A), *a0 = xmalloc_floats((size_t)N * A);
    float *truth = xmalloc_floats((size_t)N * fsz), *pred = xmalloc_floats((size_t)N * fsz);
    float *zn = xmalloc_floats((size_t)N * Z);
    int64_t ff[REPORT_N], tt[REPORT_N];   // each transition's frame and its step in its episode
    int n = 0;
    for (int tries = 0; n < N && tries < 100 * N && tr->split.n_val > 0; tries++) {
        int e = tr->split.val[rng_below(&rng, tr->split.n_val)];
        int64_t T = dataset_ep_transitions(ds, e);
        if (T < 1) continue;
        int64_t t = rng_below(&rng, (uint32_t)T);
        int64_t f = ds->frame_off[e] + t;
        ff[n] = f, tt[n] = t;
        memcpy(z + (size_t)n * Z, zs + (size_t)f * Z, Z * sizeof(float));
        dataset_action(ds, e, t, a + (size_t)n * A);
        dataset_action_none(ds, e, a0 + (size_t)n * A);   // no button (the game's column kept)
        dataset_frame(ds, e, t + 1, truth + (size_t)n * fsz);
        n++;
    }
    if (n == 0) goto done;
    double mag_real = 0, mag_zero = 0, l1 = 0, l1_copy = 0;
    int cap = dyn->max_B;
    for (int j0 = 0; j0 < n; j0 += cap) {
        int m = n - j0 < cap ? n - j0 : cap;
        for (int j = 0; j < m; j++) real_past(dyn, j, zs, ff[j0 + j], tt[j0 + j]);   // the real past (history)
        dynm_hist_gather(dyn, m);
        dynm_forward_step(dyn, 0, z + (size_t)j0 * Z, a + (size_t)j0 * A, m);
        for (int k = 0; k < m * Z; k++) mag_real += fabsf(dynm_delta(dyn, 0)[k]);
        memcpy(zn + (size_t)j0 * Z, dynm_znext(dyn, 0), (size_t)m * Z * sizeof(float));
        dynm_forward_step(dyn, 0, z + (size_t)j0 * Z, a0 + (size_t)j0 * A, m);
        for (int k = 0; k < m * Z; k++) mag_zero += fabsf(dynm_delta(dyn, 0)[k]);
    }
    for (int j0 = 0; j0 < n; j0 += ae->max_B) {
        int m = n - j0 < ae->max_B ? n - j0 : ae->max_B;
        ae_decode(ae, zn + (size_t)j0 * Z, m, pred + (size_t)j0 * fsz);
    }
    l1 = l1_loss_forward(pred, truth, (size_t)n * fsz);
    // copy baseline: the decoded start frame itself
    for (int j0 = 0; j0 < n; j0 += ae->max_B) {
        int m = n - j0 < ae->max_B ? n - j0 : ae->max_B;
        ae_decode(ae, z + (size_t)j0 * Z, m, pred + (size_t)j0 * fsz);
    }
    l1_copy = l1_loss_forward(pred, truth, (size_t)n * fsz);
    mag_real /= (double)n * Z;
    mag_zero /= (double)n * Z;
    char text[1024];
    int len = snprintf(text, sizeof text,
                       "# roadmap 1.3 checks on %d random validation transitions\n"
                       "one_step_decoded_l1 = %.5f\n"
                       "decoded_start_frame_l1 = %.5f\n"
                       "mean_abs_delta_real_actions = %.6f\n"
                       "mean_abs_delta_zero_action = %.6f\n",
                       n, l1, l1_copy, mag_real, mag_zero);
    Err err;
    if (write_file_atomic(path_in_run(tr, "dynamics_checks.txt"), text, len, &err) < 0) warn("%s", err.msg);
    printf("one-step decoded L1 %.5f (decoded start frame: %.5f); mean |delta| real actions %.5f, zero action %.5f\n",
           l1, l1_copy, mag_real, mag_zero);

    // rollout.png: 4 validation sequences, open loop from a real frame with the recorded actions
    {
        static const int steps[] = {1, 2, 4, 8, 16};
        int ns = REPORT_STEPS, K = 16, starts = REPORT_STARTS, got = 0;
        float *tru = xmalloc_floats((size_t)starts * ns * fsz), *prd = xmalloc_floats((size_t)starts * ns * fsz);
        float *zc = xmalloc_floats(Z), *act = xmalloc_floats(A);
        for (int tries = 0; got < starts && tries < 1000 && tr->split.n_val > 0; tries++) {
            int e = tr->split.val[rng_below(&rng, tr->split.n_val)];
            int64_t T = dataset_ep_transitions(ds, e);
            if (T < K) continue;
            int64_t t0 = rng_below(&rng, (uint32_t)(T - K + 1));
            memcpy(zc, zs + (size_t)(ds->frame_off[e] + t0) * Z, Z * sizeof(float));
            dynm_hist_reset(dyn, zc, 1);   // a rollout from one frame, as ./eval and ./play
            int si = 0;
            for (int k = 1; k <= K; k++) {
                dataset_action(ds, e, t0 + k - 1, act);
                dynm_forward_step(dyn, 0, zc, act, 1);
                dynm_hist_push(dyn, zc, 1);
                memcpy(zc, dynm_znext(dyn, 0), Z * sizeof(float));
                if (si < ns && steps[si] == k) {
                    dataset_frame(ds, e, t0 + k, tru + ((size_t)got * ns + si) * fsz);
                    ae_decode(ae, zc, 1, prd + ((size_t)got * ns + si) * fsz);
                    si++;
                }
            }
            got++;
        }
        if (got && picture_rollouts(path_in_run(tr, "rollout.png"), tru, prd, got, ns, steps, ds->C, ds->H, ds->W, &err) < 0)
            warn("%s", err.msg);
        free(tru); free(prd); free(zc); free(act);
    }
done:
    free(z); free(a); free(a0); free(truth); free(pred); free(zn);
}

typedef struct {
    Trainer *tr;
    DynModel *dyn;
    Sampler *val;
    const float *zs;         // [n_frames, Z] latents of every frame
    int K;                   // rollout steps per window
    float *ztrue, *a;        // [K+1][B][Z], [K][B][A]
    uint8_t *feed;           // [K][B] scheduled-sampling coin flips
    float *eps;              // [K][B][Z] a vae's standard normals (NULL: deterministic)
    Rng rng;                 // the model's rng (training gives the vae its eps; validation draws none)
    double p;                // this epoch's scheduled-sampling probability
    // dynamics.loss = pixel (NULL otherwise): the frozen autoencoder decodes each step
    AE *ae;
    float cw;                // dynamics.changed_weight
    float *frames;           // [K+1][B][C*H*W] the real frames t..t+K
    float *drecon;           // [B][C*H*W]
    float *dzs;              // [K][B][Z] dLoss/dznext_k through the decoder
} DynStage;

// Frames t..t+K of batch i's windows, [K+1][n][C*H*W] (the order of dyn_window_batch).
static void dyn_window_frames(const Dataset *ds, const Sampler *s, int64_t i, int B, float *frames) {
    int64_t lo = i * B, hi = lo + B < s->n ? lo + B : s->n;
    const int n = (int)(hi - lo), K = s->K;
    const size_t fsz = (size_t)ds->C * ds->H * ds->W;
    for (int j = 0; j < n; j++) {
        SampleRef r = s->items[lo + j];
        for (int k = 0; k <= K; k++) dataset_frame(ds, r.e, r.t + k, frames + ((size_t)k * n + j) * fsz);
    }
}

// The pixel loss of step k: mean over n*C*H*W of w * |decode(znext_k) - frame_{k+1}|, w = 1 +
// changed_weight where frame_{k+1} differs from frame_k, else 1. dz (NULL: none) [n,Z] =
// dLoss/dznext_k through the frozen decoder.
static double pixel_step(DynStage *d, int k, int n, float *dz) {
    const Dataset *ds = &d->tr->ds;
    const size_t N = (size_t)n * ds->C * ds->H * ds->W;
    ae_decode_forward(d->ae, dynm_znext(d->dyn, k), n);
    const float *p = d->ae->recon, *tgt = d->frames + (size_t)(k + 1) * N, *prev = d->frames + (size_t)k * N;
    const float inv = 1.0f / (float)N;
    double L = 0;
    for (size_t i = 0; i < N; i++) {
        float w = tgt[i] != prev[i] ? 1.0f + d->cw : 1.0f, e = p[i] - tgt[i];
        L += (double)w * fabsf(e);
        if (dz) d->drecon[i] = e > 0 ? w * inv : e < 0 ? -w * inv : 0.0f;
    }
    if (dz) ae_decode_backward(d->ae, d->drecon, dz, n);
    return L / (double)N;
}

// dynm_rollout_backward with dLoss/dznext_k given (dzs [K][B][Z]) instead of the latent MSE's.
static void rollout_backward_ext(DynModel *m, const float *dzs, const uint8_t *feed, int K, int B) {
    const size_t nz = (size_t)B * m->Z;
    float *carry = m->dcarry[0];   // dLoss/dznext_k, through the steps after k too
    memset(carry, 0, nz * sizeof(float));
    for (int k = K - 1; k >= 0; k--) {
        for (size_t i = 0; i < nz; i++) carry[i] += dzs[(size_t)k * nz + i];
        if (k == 0) {
            dynm_backward_step(m, 0, NULL, carry, NULL, B);
            break;
        }
        memset(m->dzin, 0, nz * sizeof(float));
        dynm_backward_step(m, k, NULL, carry, m->dzin, B);
        for (int b = 0; b < B; b++) {   // the input of step k was znext_{k-1} where fed back
            int fed = !feed || feed[(size_t)k * B + b];
            for (int j = 0; j < m->Z; j++) carry[(size_t)b * m->Z + j] = fed ? m->dzin[(size_t)b * m->Z + j] : 0.0f;
        }
    }
}

// Parts of the dynamics loss logged beside it (train_mse, train_kl, val_mse, val_kl, sampling_p).
static void dyn_epoch_begin(Stage *s, int e) {
    DynStage *d = s->ctx;
    const Config *c = &d->tr->cfg;
    d->p = d->K > 1 ? dynm_sampling_p(c->dynamics.sampling_start, c->dynamics.sampling_end, e, s->epochs) : 0;
}

static float dyn_step(Stage *s, int64_t i, int *n) {
    DynStage *d = s->ctx;
    const int K = d->K;
    dyn_window_batch(&d->tr->ds, s->train, d->zs, d->dyn, i, s->batch, d->ztrue, d->a, n);
    const uint8_t *feed = NULL;
    const int Z = d->dyn->Z, nb = *n;
    // sample j's coins (steps 1..K-1; step 0 always starts from the encoded truth), then its
    // vae eps (steps 0..K-1), from its own stream: the same at any number of ranks
    for (int j = 0; j < nb && (K > 1 || d->eps); j++) {
        Rng r;
        sample_rng(&r, d->tr->cfg.run.seed, 101, s->epoch, s->first + j);
        d->feed[j] = 0;
        for (int k = 1; k < K; k++) d->feed[(size_t)k * nb + j] = rng_uniform(&r) < d->p;
        for (int k = 0; d->eps && k < K; k++)
            for (int q = 0; q < Z; q++) d->eps[((size_t)k * nb + j) * Z + q] = rng_normal(&r);
    }
    if (K > 1) feed = d->feed;
    d->dyn->eps_in = d->eps;
    d->dyn->oracle = 1;   // hypotheses: the winner is the candidate nearest the truth
    d->dyn->feed_most_probable = d->tr->cfg.dynamics.hyp_feed == HYP_FEED_MOST_PROBABLE;
    DynLoss L = dynm_rollout_forward(d->dyn, d->ztrue, d->a, feed, K, *n);
    d->dyn->eps_in = NULL;
    s->part_sum[0] += L.mse * *n;   // the latent MSE is logged with either loss
    s->part_sum[1] += L.kl * *n;
    if (!d->ae) {
        dynm_rollout_backward(d->dyn, d->ztrue, feed, K, *n);
        d->dyn->oracle = 0;
        return (float)(L.mse + d->dyn->beta * L.kl + L.hyp);
    }
    dyn_window_frames(&d->tr->ds, s->train, i, s->batch, d->frames);
    double pix = 0;
    for (int k = 0; k < K; k++) pix += pixel_step(d, k, *n, d->dzs + (size_t)k * *n * d->dyn->Z);
    rollout_backward_ext(d->dyn, d->dzs, feed, K, *n);
    d->dyn->oracle = 0;
    return (float)(pix + d->dyn->beta * L.kl + L.hyp);
}

// Validation: K-step open-loop rollouts (every step on its own prediction) at temperature 0.
static double dyn_validate(Stage *s) {
    DynStage *d = s->ctx;
    const int B = s->batch;
    float temp = d->dyn->temperature;
    d->dyn->temperature = 0;
    double mse = 0, kl = 0, pix = 0;
    int64_t cnt = 0;
    for (int64_t i = 0; i < sampler_batches(d->val, B); i++) {
        int n;
        dyn_window_batch(&d->tr->ds, d->val, d->zs, d->dyn, i, B, d->ztrue, d->a, &n);
        DynLoss L = dynm_rollout_forward(d->dyn, d->ztrue, d->a, NULL, d->K, n);
        mse += L.mse * n, kl += L.kl * n;
        if (d->ae) {   // the pixel loss of the open-loop steps
            dyn_window_frames(&d->tr->ds, d->val, i, B, d->frames);
            for (int k = 0; k < d->K; k++) pix += pixel_step(d, k, n, NULL) * n;
        }
        cnt += n;
    }
    d->dyn->temperature = temp;
    s->parts[2] = mse / cnt, s->parts[3] = kl / cnt, s->parts[4] = d->p;
    return ((d->ae ? pix : mse) + d->dyn->beta * kl) / cnt;
}

static const char *loss_name(const Config *c, int pixel) {
    const int K = c->dynamics.rollout_steps;
    if (c->dynamics.type == DYN_VAE) return pixel ? "pixel L1+beta*KL" : "MSE+beta*KL";
    if (c->dynamics.hypotheses > 1)
        return pixel ? (K > 1 ? "K-step pixel L1 of the best hypothesis+CE" : "pixel L1 of the best hypothesis+CE")
                     : (K > 1 ? "K-step MSE of the best hypothesis+CE" : "MSE of the best hypothesis+CE");
    return pixel ? (K > 1 ? "K-step pixel L1" : "pixel L1") : (K > 1 ? "K-step MSE" : "MSE");
}

void train_dynamics(Trainer *tr) {
    const Config *c = &tr->cfg;
    int B = dist_step_batch(c), K = c->dynamics.rollout_steps, vae = c->dynamics.type == DYN_VAE;
    Err err;
    char aepath[1200];
    if (c->train.stage == STAGE_BOTH) snprintf(aepath, sizeof aepath, "%s", path_in_run(tr, "ae_best.h5"));
    else snprintf(aepath, sizeof aepath, "%s", c->model.autoencoder);
    AE ae;
    // the latents are encoded in batches of the global batch, as by one process (the convolutions'
    // paths depend on the batch), so every rank trains on the same bits
    load_autoencoder(aepath, &tr->ds, &ae, c->train.batch_size);
    check_latent_family(c, &ae, aepath);
    int Z = ae.cfg.latent_dim, A = tr->ds.A;
    float *zs = encode_all(&tr->ds, &ae, c->train.batch_size);

    DynConfig dc = {Z, A, c->dynamics.hidden, K, vae};
    Rng rng;
    rng_seed(&rng, epoch_seed(c->run.seed, ST_DYN, -1));
    DynModel dyn;
    if (dynm_init_for_ae(&dyn, &ae.cfg, &dc, c->dynamics.blocks, c->dynamics.hypotheses,
                         c->dynamics.hyp_choice == HYP_CHOICE_CELL, c->dynamics.history, c->dynamics.history_off, B, &rng, &err) < 0) die("%s", err.msg);
    if (c->train.stage == STAGE_DYNAMICS) init_weights(tr, dynm_arena(&dyn), ST_DYN);   // --init
    dyn.beta = (float)c->dynamics.beta;
    Sampler ts, vs;   // windows never cross an episode end (checked before any work in main)
    if (sampler_init(&ts, &tr->ds, tr->split.train, tr->split.n_train, SAMPLE_WINDOWS, K, &err) < 0) die("%s", err.msg);
    if (sampler_init(&vs, &tr->ds, tr->split.val, tr->split.n_val, SAMPLE_WINDOWS, K, &err) < 0) die("%s", err.msg);
    event_windows(tr, &ts, zs, Z);
    DynStage d = {tr, &dyn, &vs, zs, K, xmalloc_floats((size_t)(K + 1) * B * Z), xmalloc_floats((size_t)K * B * A),
                  xmalloc((size_t)K * B), vae ? xmalloc_floats((size_t)K * B * Z) : NULL, {{0}}, 0, NULL, 0, NULL, NULL,
                  NULL};
    if (c->dynamics.loss == DYN_LOSS_PIXEL) {   // each step decoded by the frozen autoencoder
        const size_t fsz = (size_t)tr->ds.C * tr->ds.H * tr->ds.W;
        d.ae = &ae, d.cw = (float)c->dynamics.changed_weight;
        d.frames = xmalloc_floats((size_t)(K + 1) * B * fsz);
        d.drecon = xmalloc_floats((size_t)B * fsz);
        d.dzs = xmalloc_floats((size_t)K * B * Z);
    }
    rng_seed(&d.rng, epoch_seed(c->run.seed, 101, 0));
    dyn.rng = &d.rng;
    CkptMeta meta;
    ckpt_meta_init(&meta, "dynamics");
    ckpt_meta_dynm(&meta, &dyn);   // either family
    ckpt_set_str(&meta, "autoencoder", aepath);
    // the random numbers are drawn per sample (sample_rng): no RNG state travels in checkpoints
    Stage s = {.id = ST_DYN, .arena = dynm_arena(&dyn), .train = &ts, .epochs = c->dynamics.epochs, .batch = B,
               .lr = c->dynamics.lr, .loss_name = loss_name(c, d.ae != NULL),
               .step = dyn_step, .validate = dyn_validate, .ctx = &d,
               .epoch_begin = dyn_epoch_begin, .has_parts = 1};
    run_stage(tr, &s, &meta);
    // the roadmap 1.3 checks and rollout.png, with the best weights, at temperature 0 (rank 0 writes)
    CkptMeta bm;
    if (dist_rank() == 0) {
        if (checkpoint_load(path_in_run(tr, "dyn_best.h5"), dynm_arena(&dyn), "dynamics", &bm, &err) < 0)
            die("%s", err.msg);
        dyn.temperature = 0;
        dyn_report(tr, &ae, &dyn, zs);
    }
    free(d.ztrue); free(d.a); free(d.feed); free(d.eps); free(zs); free(d.frames); free(d.drecon); free(d.dzs);
    sampler_free(&ts);
    sampler_free(&vs);
    dynm_free(&dyn);
    ae_free(&ae);
}


// Before any work: the train and the validation episodes each hold a K-step window
// (dynamics.rollout_steps = K needs an episode of K+1 frames; windows never cross an end).
void check_windows(const Trainer *tr) {
    const int K = tr->cfg.dynamics.rollout_steps;
    const int *sets[2] = {tr->split.train, tr->split.val}, ns[2] = {tr->split.n_train, tr->split.n_val};
    for (int i = 0; i < 2; i++) {
        int64_t longest = 0;
        for (int j = 0; j < ns[i]; j++) {
            int64_t f = dataset_ep_frames(&tr->ds, sets[i][j]);
            if (f > longest) longest = f;
        }
        if (longest < K + 1)
            die("dynamics.rollout_steps = %d needs %s episodes of at least %d frames; the longest of %s has %lld", K,
                i ? "validation" : "training", K + 1, tr->cfg.data.path, (long long)longest);
    }
}

void check_batch_size(const Trainer *tr) {
    const Config *c = &tr->cfg;
    const int K = c->dynamics.rollout_steps;
    int64_t frames = 0, windows = 0;
    for (int j = 0; j < tr->split.n_train; j++) {
        int64_t f = dataset_ep_frames(&tr->ds, tr->split.train[j]);
        frames += f;
        windows += f > K ? f - K : 0;
    }
    const char *at = config_source(c, "train.batch_size");
    if (c->train.stage != STAGE_DYNAMICS && c->train.batch_size > frames)
        die("train.batch_size = %d (%s) is larger than the autoencoder's training set (%lld frames in %d episodes); "
            "expected at most %lld", c->train.batch_size, at ? at : "default", (long long)frames, tr->split.n_train,
            (long long)frames);
    if (c->train.stage != STAGE_AUTOENCODER && c->train.batch_size > windows)
        die("train.batch_size = %d (%s) is larger than the dynamics' training set (%lld windows of %d steps in %d "
            "episodes); expected at most %lld", c->train.batch_size, at ? at : "default", (long long)windows, K,
            tr->split.n_train, (long long)windows);
}
