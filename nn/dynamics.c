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

static void flat_forward(void *m, int t, const float *z, const float *a, int B) { dyn_forward_step(m, t, z, a, B); }
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
    return dynm_init(m, &DYN_FLAT_OPS, d, cfg->latent_dim, cfg->n_actions, max_B, cfg->max_steps, cfg->vae, err);
}

// ---------------------------------------------------------------- the wrapper

int dynm_init(DynModel *m, const DynOps *ops, void *impl, int Z, int A, int max_B, int max_steps, int vae,
              Err *err) {
    memset(m, 0, sizeof *m);
    if (Z < 1 || A < 1 || max_B < 1 || max_steps < 1) {
        ops->free(impl);
        return err_set(err, "dynamics: Z, A, max batch, max steps must be >= 1, got %d, %d, %d, %d", Z, A, max_B,
                       max_steps);
    }
    m->ops = ops, m->impl = impl;
    m->Z = Z, m->A = A, m->OUT = vae ? 2 * Z : Z, m->max_B = max_B, m->max_steps = max_steps, m->vae = !!vae;
    m->temperature = 1.0f;
    size_t TBZ = (size_t)max_steps * max_B * Z, BZ = (size_t)max_B * Z;
    m->mem_floats = (vae ? 3 * TBZ + 2 * BZ : 0) + TBZ + 4 * BZ;
    m->mem = xmalloc_floats(m->mem_floats);
    float *p = m->mem;
#define TAKE(n) (p += (n), p - (n))
    if (vae) {
        m->eps = TAKE(TBZ);
        m->delta = TAKE(TBZ);
        m->znext = TAKE(TBZ);
        m->dhead = TAKE(2 * BZ);
    }
    m->zin = TAKE(TBZ);
    m->dcarry[0] = TAKE(BZ);
    m->dcarry[1] = TAKE(BZ);
    m->dzin = TAKE(BZ);
    m->tgt = TAKE(BZ);
#undef TAKE
    CHECK(p == m->mem + m->mem_floats, "dynm_init: layout");
    return 0;
}

void dynm_free(DynModel *m) {
    if (m->ops) m->ops->free(m->impl);
    free(m->mem);
    memset(m, 0, sizeof *m);
}

static void check_step(const DynModel *m, int t, int B) {
    CHECK(t >= 0 && t < m->max_steps, "dynamics: step %d outside 0..%d (max_steps at init)", t, m->max_steps - 1);
    CHECK(B >= 1 && B <= m->max_B, "dynamics: batch %d outside 1..%d (max batch at init)", B, m->max_B);
}

float *dynm_head(DynModel *m, int t) { return m->ops->head(m->impl, t); }
float *dynm_delta(DynModel *m, int t) {
    return m->vae ? m->delta + (size_t)t * m->max_B * m->Z : m->ops->head(m->impl, t);
}
float *dynm_znext(DynModel *m, int t) {
    return m->vae ? m->znext + (size_t)t * m->max_B * m->Z : m->ops->znext(m->impl, t);
}
ParamArena *dynm_arena(DynModel *m) { return m->ops->arena(m->impl); }
size_t dynm_bytes(const DynModel *m) { return m->ops->bytes(m->impl) + floats_bytes(m->mem_floats); }
void dynm_print_table(const DynModel *m, FILE *f) {
    m->ops->print_table(m->impl, f);
    if (m->vae)
        fprintf(f, "  vae head: delta = mean + T * exp(logvar/2) * eps, %d + %d outputs per sample\n", m->Z, m->Z);
}

void dynm_forward_step(DynModel *m, int t, const float *z, const float *a, int B) {
    check_step(m, t, B);
    m->ops->forward_step(m->impl, t, z, a, B);
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

void dynm_backward_step(DynModel *m, int t, const float *ddelta, const float *dznext, float *dz, int B) {
    check_step(m, t, B);
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
    DynLoss L = {0, 0};
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
        dynm_forward_step(m, k, zin, a + (size_t)k * B * m->A, B);
        rollout_target(m, ztrue, k, B);
        L.mse += mse_loss_forward(dynm_delta(m, k), m->tgt, nz);
        L.kl += dynm_kl(m, k, B);
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
