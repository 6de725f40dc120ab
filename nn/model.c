/*
 * model.c - the autoencoder and dynamics models of model.h: parameter arenas with PyTorch
 * state_dict names, activation buffers sized at init, explicit forward and backward passes
 * (backward in reverse layer order), per-step rollouts with backpropagation through time.
 */
#include "nn/model.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nn/init.h"   // PyTorch default initialisations
#include "nn/ops.h"    // layer kernels
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/threads.h"

// ---------------------------------------------------------------- parameter arena

int arena_add(ParamArena *a, int rank, const int *dims, const char *fmt, ...) {
    CHECK(a->n_tensors < ARENA_MAX_TENSORS, "arena: more than %d tensors", ARENA_MAX_TENSORS);
    CHECK(rank >= 1 && rank <= TENSOR_MAX_RANK, "arena: rank %d", rank);
    TensorInfo *t = &a->t[a->n_tensors];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->rank = rank;
    t->n = 1;
    for (int i = 0; i < rank; i++) { t->dims[i] = dims[i]; t->n *= (size_t)dims[i]; }
    t->offset = a->n;
    a->n += t->n;
    return a->n_tensors++;
}

void arena_alloc(ParamArena *a) {
    a->params = xmalloc_floats(a->n);
    a->grads = xmalloc_floats(a->n);
    a->m = xmalloc_floats(a->n);
    a->v = xmalloc_floats(a->n);
}

void arena_free(ParamArena *a) {
    free(a->params); free(a->grads); free(a->m); free(a->v);
    a->params = a->grads = a->m = a->v = NULL;
}

void arena_zero_grad(ParamArena *a) { memset(a->grads, 0, a->n * sizeof(float)); }

void arena_zero_adam(ParamArena *a) {
    memset(a->m, 0, a->n * sizeof(float));
    memset(a->v, 0, a->n * sizeof(float));
}

const TensorInfo *arena_find(const ParamArena *a, const char *name) {
    for (int i = 0; i < a->n_tensors; i++)
        if (strcmp(a->t[i].name, name) == 0) return &a->t[i];
    return NULL;
}

void arena_shape_str(const TensorInfo *t, char *buf, size_t cap) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < t->rank && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%d", i ? "," : "", t->dims[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

static float *at(const ParamArena *a, float *base, int idx) { return base + a->t[idx].offset; }

static void zero(float *x, size_t n) { memset(x, 0, n * sizeof(float)); }

// ---------------------------------------------------------------- autoencoder

int ae_config_check(const AEConfig *c, Err *err) {
    if (c->H <= 0 || c->W <= 0 || (c->C != 1 && c->C != 3))
        return err_set(err, "autoencoder: frame must be H x W x C with C 1 or 3, got %dx%dx%d", c->H, c->W, c->C);
    if (c->stages < 1 || c->stages > AE_MAX_STAGES)
        return err_set(err, "autoencoder: stages must be 1..%d, got %d", AE_MAX_STAGES, c->stages);
    if (c->latent_channels < 0 || c->latent_channels > 65536)
        return err_set(err, "autoencoder: latent_channels must be 0 (flat) or 1..65536, got %d", c->latent_channels);
    if (c->base_channels < 1 || (c->latent_dim < 1 && !c->latent_channels))
        return err_set(err, "autoencoder: base_channels and latent_dim must be >= 1, got %d and %d",
                       c->base_channels, c->latent_dim);
    if ((long)c->base_channels << (c->stages - 1) > 65536)
        return err_set(err, "autoencoder: base_channels %d << %d stages is too wide", c->base_channels, c->stages);
    int q = 1 << c->stages;
    if (c->H % q || c->W % q)
        return err_set(err, "autoencoder: H and W must be divisible by 2^stages = %d, got %dx%d", q, c->H, c->W);
    if (!(c->latent_noise >= 0) || !isfinite(c->latent_noise))
        return err_set(err, "autoencoder: latent_noise must be >= 0, got %g", c->latent_noise);
    if (c->latent_channels) {
        long z = (long)c->latent_channels * (c->H / q) * (c->W / q);
        if (z > (1L << 30))
            return err_set(err, "autoencoder: spatial latent %d x %d x %d is too large", c->latent_channels,
                           c->H / q, c->W / q);
        if (c->latent_dim != 0 && c->latent_dim != z)
            return err_set(err, "autoencoder: a spatial latent of %d x %d x %d has %ld floats, but latent_dim is %d",
                           c->latent_channels, c->H / q, c->W / q, z, c->latent_dim);
    }
    return 0;
}

int ae_config_latent_dim(const AEConfig *c) {
    if (!c->latent_channels) return c->latent_dim;
    return c->latent_channels * (c->H >> c->stages) * (c->W >> c->stages);
}

static int ae_ch(const AEConfig *c, int i) { return i < 0 ? c->C : c->base_channels << i; }

// Sets the named views of one arena buffer (params or grads).
static void ae_point(AE *m, AEParams *p, float *base, const int *ienc, const int *idec, int ifc) {
    for (int i = 0; i < m->cfg.stages; i++) {
        p->enc_w[i] = at(&m->arena, base, ienc[i]);
        p->enc_b[i] = at(&m->arena, base, ienc[i] + 1);
        p->dec_w[i] = at(&m->arena, base, idec[i]);
        p->dec_b[i] = at(&m->arena, base, idec[i] + 1);
    }
    p->fc_enc_w = at(&m->arena, base, ifc);
    p->fc_enc_b = at(&m->arena, base, ifc + 1);
    p->fc_dec_w = at(&m->arena, base, ifc + 2);
    p->fc_dec_b = at(&m->arena, base, ifc + 3);
}

int ae_init(AE *m, const AEConfig *cfg, int max_B, Rng *rng, Err *err) {
    memset(m, 0, sizeof *m);
    if (ae_config_check(cfg, err) < 0) return -1;
    if (max_B < 1) return err_set(err, "autoencoder: batch size must be >= 1, got %d", max_B);
    m->cfg = *cfg;
    m->cfg.latent_dim = ae_config_latent_dim(cfg);
    m->max_B = max_B;
    const int S = cfg->stages, Z = m->cfg.latent_dim, K = 4, Lc = cfg->latent_channels;
    for (int i = 0; i < S; i++)
        m->enc[i] = conv2d_shape(ae_ch(cfg, i - 1), cfg->H >> i, cfg->W >> i, ae_ch(cfg, i), K, 2, 1);
    const int Hb = cfg->H >> S, Wb = cfg->W >> S;
    m->F = ae_ch(cfg, S - 1) * Hb * Wb;
    if (Lc) {
        m->lat_enc = conv2d_shape(ae_ch(cfg, S - 1), Hb, Wb, Lc, 1, 1, 0);
        m->lat_dec = conv2d_shape(Lc, Hb, Wb, ae_ch(cfg, S - 1), 1, 1, 0);
    }
    for (int i = 0; i < S; i++)   // decoder layer i: ch_{S-1-i} -> ch_{S-2-i} (C last)
        m->dec[i] = convt2d_shape(ae_ch(cfg, S - 1 - i), Hb << i, Wb << i, ae_ch(cfg, S - 2 - i), K, 2, 1);

    // parameter table, in state_dict order
    ParamArena *a = &m->arena;
    int ienc[AE_MAX_STAGES], idec[AE_MAX_STAGES];
    for (int i = 0; i < S; i++) {
        const ConvShape *s = &m->enc[i];
        ienc[i] = arena_add(a, 4, (int[]){s->OC, s->C, K, K}, "encoder_conv.%d.weight", 2 * i);
        arena_add(a, 1, (int[]){s->OC}, "encoder_conv.%d.bias", 2 * i);
    }
    int ifc;
    if (Lc) {   // spatial: 1x1 convs, the same views
        const int ch = ae_ch(cfg, S - 1);
        ifc = arena_add(a, 4, (int[]){Lc, ch, 1, 1}, "latent_enc.weight");
        arena_add(a, 1, (int[]){Lc}, "latent_enc.bias");
        arena_add(a, 4, (int[]){ch, Lc, 1, 1}, "latent_dec.weight");
        arena_add(a, 1, (int[]){ch}, "latent_dec.bias");
    } else {
        ifc = arena_add(a, 2, (int[]){Z, m->F}, "fc_enc.weight");
        arena_add(a, 1, (int[]){Z}, "fc_enc.bias");
        arena_add(a, 2, (int[]){m->F, Z}, "fc_dec.weight");
        arena_add(a, 1, (int[]){m->F}, "fc_dec.bias");
    }
    for (int i = 0; i < S; i++) {
        const ConvShape *s = &m->dec[i];
        idec[i] = arena_add(a, 4, (int[]){s->C, s->OC, K, K}, "decoder_conv.%d.weight", 2 * i);
        arena_add(a, 1, (int[]){s->OC}, "decoder_conv.%d.bias", 2 * i);
    }
    arena_alloc(a);
    ae_point(m, &m->w, a->params, ienc, idec, ifc);
    ae_point(m, &m->g, a->grads, ienc, idec, ifc);

    // PyTorch default init: fan_in = weight.size(1) * K * K (ConvTranspose2d: its OC)
    for (int i = 0; i < S; i++) {
        const ConvShape *e = &m->enc[i], *d = &m->dec[i];
        int fe = e->C * K * K, fd = d->OC * K * K;
        init_kaiming_uniform(m->w.enc_w[i], (size_t)e->OC * fe, fe, rng);
        init_bias_uniform(m->w.enc_b[i], (size_t)e->OC, fe, rng);
        init_kaiming_uniform(m->w.dec_w[i], (size_t)d->C * fd, fd, rng);
        init_bias_uniform(m->w.dec_b[i], (size_t)d->OC, fd, rng);
    }
    if (Lc) {   // fan_in of a 1x1 conv = its input channels
        const int ch = ae_ch(cfg, S - 1);
        init_kaiming_uniform(m->w.fc_enc_w, (size_t)Lc * ch, ch, rng);
        init_bias_uniform(m->w.fc_enc_b, (size_t)Lc, ch, rng);
        init_kaiming_uniform(m->w.fc_dec_w, (size_t)ch * Lc, Lc, rng);
        init_bias_uniform(m->w.fc_dec_b, (size_t)ch, Lc, rng);
    } else {
        init_kaiming_uniform(m->w.fc_enc_w, (size_t)Z * m->F, m->F, rng);
        init_bias_uniform(m->w.fc_enc_b, (size_t)Z, m->F, rng);
        init_kaiming_uniform(m->w.fc_dec_w, (size_t)m->F * Z, Z, rng);
        init_bias_uniform(m->w.fc_dec_b, (size_t)m->F, Z, rng);
    }

    // activations: per-sample sizes, then one allocation for max_B
    size_t per = 0, largest = (size_t)cfg->C * cfg->H * cfg->W;
    size_t enc_n[AE_MAX_STAGES], dec_n[AE_MAX_STAGES];
    for (int i = 0; i < S; i++) {
        enc_n[i] = (size_t)m->enc[i].OC * m->enc[i].OH * m->enc[i].OW;
        dec_n[i] = (size_t)m->dec[i].OC * m->dec[i].OH * m->dec[i].OW;
        per += enc_n[i] + dec_n[i];
        if (enc_n[i] > largest) largest = enc_n[i];
        if (dec_n[i] > largest) largest = dec_n[i];
    }
    if ((size_t)m->F > largest) largest = (size_t)m->F;
    if ((size_t)Z > largest) largest = (size_t)Z;
    per += 3 * (size_t)Z + (size_t)m->F + 2 * largest;
    m->acts_floats = per * (size_t)max_B;
    size_t work = 0;
    for (int i = 0; i < S; i++) {
        size_t we = conv2d_workspace(&m->enc[i], max_B), wd = convt2d_workspace(&m->dec[i], max_B);
        if (we > work) work = we;
        if (wd > work) work = wd;
    }
    if (Lc) {
        size_t we = conv2d_workspace(&m->lat_enc, max_B), wd = conv2d_workspace(&m->lat_dec, max_B);
        if (we > work) work = we;
        if (wd > work) work = wd;
    }
    m->work_floats = work;
    m->acts_mem = xmalloc_floats(m->acts_floats);
    m->work = xmalloc_floats(work);
    float *p = m->acts_mem;
#define TAKE(n) (p += (size_t)(n) * max_B, p - (size_t)(n) * max_B)
    for (int i = 0; i < S; i++) m->enc_out[i] = TAKE(enc_n[i]);
    m->z = TAKE(Z);
    m->zin = TAKE(Z);
    m->dz = TAKE(Z);
    m->h = TAKE(m->F);
    for (int i = 0; i < S; i++) m->dec_out[i] = TAKE(dec_n[i]);
    m->dbuf[0] = TAKE(largest);
    m->dbuf[1] = TAKE(largest);
#undef TAKE
    CHECK(p == m->acts_mem + m->acts_floats, "ae_init: activation layout");
    m->recon = m->dec_out[S - 1];
    return 0;
}

void ae_free(AE *m) {
    arena_free(&m->arena);
    free(m->acts_mem);
    free(m->work);
    memset(m, 0, sizeof *m);
}

static void ae_encoder_forward(AE *m, const float *x, int B) {
    CHECK(B >= 1 && B <= m->max_B, "autoencoder: batch %d outside 1..%d (max_B at init)", B, m->max_B);
    const float *inp = x;
    for (int i = 0; i < m->cfg.stages; i++) {   // conv + bias + ReLU in one pass
        conv2d_forward_act(m->enc_out[i], inp, m->w.enc_w[i], m->w.enc_b[i], CONV_ACT_RELU, B, &m->enc[i],
                           m->work);
        inp = m->enc_out[i];
    }
    if (m->cfg.latent_channels)
        conv2d_forward_act(m->z, inp, m->w.fc_enc_w, m->w.fc_enc_b, CONV_ACT_NONE, B, &m->lat_enc, m->work);
    else
        linear_forward(m->z, inp, m->w.fc_enc_w, m->w.fc_enc_b, B, m->F, m->cfg.latent_dim);
}

// zin [B,Z] -> h -> ... -> recon
static void ae_decoder_forward(AE *m, int B) {
    const int S = m->cfg.stages;
    if (m->cfg.latent_channels)
        conv2d_forward_act(m->h, m->zin, m->w.fc_dec_w, m->w.fc_dec_b, CONV_ACT_RELU, B, &m->lat_dec, m->work);
    else
        linear_forward(m->h, m->zin, m->w.fc_dec_w, m->w.fc_dec_b, B, m->cfg.latent_dim, m->F);
    const float *inp = m->h;
    for (int i = 0; i < S; i++) {   // convT + bias + ReLU (Sigmoid last) in one pass
        convt2d_forward_act(m->dec_out[i], inp, m->w.dec_w[i], m->w.dec_b[i],
                            i < S - 1 ? CONV_ACT_RELU : CONV_ACT_SIGMOID, B, &m->dec[i], m->work);
        inp = m->dec_out[i];
    }
}

// z + latent_noise * (eps[i], or a draw from rng) into zin, then the decoder
static void ae_forward_noise(AE *m, const float *x, int B, Rng *rng, const float *eps) {
    ae_encoder_forward(m, x, B);
    size_t nz = (size_t)B * m->cfg.latent_dim;
    memcpy(m->zin, m->z, nz * sizeof(float));
    if ((rng || eps) && m->cfg.latent_noise > 0)
        for (size_t i = 0; i < nz; i++) m->zin[i] += m->cfg.latent_noise * (eps ? eps[i] : rng_normal(rng));
    ae_decoder_forward(m, B);
    m->x = x;
    m->last_B = B;
}

void ae_forward(AE *m, const float *x, int B, Rng *rng) { ae_forward_noise(m, x, B, rng, NULL); }

void ae_forward_eps(AE *m, const float *x, int B, const float *eps) { ae_forward_noise(m, x, B, NULL, eps); }

void ae_backward(AE *m, const float *drecon, const float *dz_extra, int B) {
    CHECK(m->x && B == m->last_B, "ae_backward: batch %d does not match the last ae_forward (%d)", B, m->last_B);
    const int S = m->cfg.stages, Z = m->cfg.latent_dim, spatial = m->cfg.latent_channels > 0;
    float *d0 = m->dbuf[0], *d1 = m->dbuf[1];
    // Decoder, last layer first. The kernels fold the activations in: layer i's backward
    // takes dL/d(its output) (Sigmoid derivative applied inside for the last layer, which
    // gets drecon) or dL/d(its pre-activation), and writes dL/d(pre-activation of layer
    // i-1) through that layer's ReLU mask.
    const float *dcur = drecon;
    for (int i = S - 1; i >= 0; i--) {
        const ConvShape *s = &m->dec[i];
        const float *inp = i > 0 ? m->dec_out[i - 1] : m->h;
        float *dnext = dcur == d0 ? d1 : d0;   // overwritten (CONV_DINP_SET): no zeroing pass
        convt2d_backward_act(dnext, m->g.dec_w[i], m->g.dec_b[i], dcur, m->dec_out[i],
                             i == S - 1 ? CONV_ACT_SIGMOID : CONV_ACT_NONE,
                             CONV_DINP_SET | (i > 0 || spatial ? CONV_DINP_RELU : 0), inp, m->w.dec_w[i], B, s,
                             m->work);
        dcur = dnext;
    }
    // dcur = dL/dh (spatial: dL/d(latent_dec's pre-activation))
    float *dh = dcur == d0 ? d1 : d0;
    if (spatial) {
        conv2d_backward_act(m->dz, m->g.fc_dec_w, m->g.fc_dec_b, dcur, NULL, CONV_ACT_NONE, CONV_DINP_SET, m->zin,
                            m->w.fc_dec_w, B, &m->lat_dec, m->work);
        if (dz_extra)
            for (size_t k = 0; k < (size_t)B * Z; k++) m->dz[k] += dz_extra[k];
        // z -> encoder (the noise adds a constant, so dL/dz = dL/dzin); dh = dL/d(pre-ReLU of the top stage)
        conv2d_backward_act(dh, m->g.fc_enc_w, m->g.fc_enc_b, m->dz, NULL, CONV_ACT_NONE,
                            CONV_DINP_SET | CONV_DINP_RELU, m->enc_out[S - 1], m->w.fc_enc_w, B, &m->lat_enc, m->work);
    } else {
        zero(m->dz, (size_t)B * Z);
        if (dz_extra)
            for (size_t k = 0; k < (size_t)B * Z; k++) m->dz[k] = dz_extra[k];
        linear_backward(m->dz, m->g.fc_dec_w, m->g.fc_dec_b, dcur, m->zin, m->w.fc_dec_w, B, Z, m->F);
        // z -> encoder (the noise adds a constant, so dL/dz = dL/dzin); dh = dL/d(enc_out[S-1])
        zero(dh, (size_t)B * m->F);
        linear_backward(dh, m->g.fc_enc_w, m->g.fc_enc_b, m->dz, m->enc_out[S - 1], m->w.fc_enc_w, B, m->F, Z);
    }
    dcur = dh;
    for (int i = S - 1; i >= 0; i--) {
        const ConvShape *s = &m->enc[i];
        const float *inp = i > 0 ? m->enc_out[i - 1] : m->x;
        float *dinp = NULL;
        if (i > 0) dinp = dcur == d0 ? d1 : d0;
        // the top layer gets dL/d(its ReLU output); the others dL/d(pre-activation)
        conv2d_backward_act(dinp, m->g.enc_w[i], m->g.enc_b[i], dcur, m->enc_out[i],
                            i == S - 1 && !spatial ? CONV_ACT_RELU : CONV_ACT_NONE, CONV_DINP_SET | CONV_DINP_RELU, inp,
                            m->w.enc_w[i], B, s, m->work);
        dcur = dinp;
    }
}

void ae_encode(AE *m, const float *x, int B, float *z_out) {
    ae_encoder_forward(m, x, B);
    memcpy(z_out, m->z, (size_t)B * m->cfg.latent_dim * sizeof(float));
    m->x = NULL;
}

void ae_decode(AE *m, const float *z, int B, float *out) {
    CHECK(B >= 1 && B <= m->max_B, "autoencoder: batch %d outside 1..%d (max_B at init)", B, m->max_B);
    memcpy(m->zin, z, (size_t)B * m->cfg.latent_dim * sizeof(float));
    ae_decoder_forward(m, B);
    memcpy(out, m->recon, (size_t)B * m->cfg.C * m->cfg.H * m->cfg.W * sizeof(float));
    m->x = NULL;
}

void ae_decode_forward(AE *m, const float *z, int B) {
    CHECK(B >= 1 && B <= m->max_B, "autoencoder: batch %d outside 1..%d (max_B at init)", B, m->max_B);
    memcpy(m->zin, z, (size_t)B * m->cfg.latent_dim * sizeof(float));
    ae_decoder_forward(m, B);
    m->x = NULL;
    m->dec_B = B;
}

void ae_decode_backward(AE *m, const float *drecon, float *dz, int B) {
    CHECK(B == m->dec_B, "ae_decode_backward: batch %d does not match the last ae_decode_forward (%d)", B, m->dec_B);
    const int S = m->cfg.stages, Z = m->cfg.latent_dim, spatial = m->cfg.latent_channels > 0;
    float *d0 = m->dbuf[0], *d1 = m->dbuf[1];
    const float *dcur = drecon;
    for (int i = S - 1; i >= 0; i--) {   // as ae_backward's decoder part, without dw and db
        const float *inp = i > 0 ? m->dec_out[i - 1] : m->h;
        float *dnext = dcur == d0 ? d1 : d0;
        convt2d_backward_act(dnext, NULL, NULL, dcur, m->dec_out[i], i == S - 1 ? CONV_ACT_SIGMOID : CONV_ACT_NONE,
                             CONV_DINP_SET | (i > 0 || spatial ? CONV_DINP_RELU : 0), inp, m->w.dec_w[i], B,
                             &m->dec[i], m->work);
        dcur = dnext;
    }
    if (spatial) {
        conv2d_backward_act(dz, NULL, NULL, dcur, NULL, CONV_ACT_NONE, CONV_DINP_SET, m->zin, m->w.fc_dec_w, B,
                            &m->lat_dec, m->work);
    } else {
        zero(dz, (size_t)B * Z);
        linear_backward(dz, NULL, NULL, dcur, m->zin, m->w.fc_dec_w, B, Z, m->F);
    }
    m->dec_B = 0;
}

size_t ae_bytes(const AE *m) {   // as allocated (see floats_bytes)
    return 4 * floats_bytes(m->arena.n) + floats_bytes(m->acts_floats) + floats_bytes(m->work_floats);
}

static void print_row(FILE *f, const char *layer, const char *in, const char *out, size_t params, double flops) {
    fprintf(f, "  %-22s %-16s -> %-16s %10zu %10.2f\n", layer, in, out, params, flops / 1e6);
}

// A conv layer's row, with the paths conv_plan gives it at batch B: "forward/dinp/dw".
static void print_conv_row(FILE *f, const char *layer, const ConvShape *s, int transposed, int B) {
    char in[32], out[32], path[64];
    snprintf(in, sizeof in, "%dx%dx%d", s->C, s->H, s->W);
    snprintf(out, sizeof out, "%dx%dx%d", s->OC, s->OH, s->OW);
    const ConvPlan p = conv_plan(s, transposed, B, 0);
    const double flops = 2.0 * s->OC * s->C * s->K * s->K * (transposed ? s->H * s->W : s->OH * s->OW);
    fprintf(f, "  %-22s %-16s -> %-16s %10zu %10.2f  %s\n", layer, in, out,
            (size_t)s->OC * s->C * s->K * s->K + s->OC, flops / 1e6, conv_plan_str(&p, path, sizeof path));
}

void ae_print_table(const AE *m, FILE *f) {
    const AEConfig *c = &m->cfg;
    char in[32], out[32], name[32];
    if (c->latent_channels)
        fprintf(f, "autoencoder %dx%dx%d, %d stages, base %d, spatial latent %dx%dx%d (%d floats), max batch %d\n",
                c->H, c->W, c->C, c->stages, c->base_channels, c->latent_channels, c->H >> c->stages,
                c->W >> c->stages, c->latent_dim, m->max_B);
    else
        fprintf(f, "autoencoder %dx%dx%d, %d stages, base %d, latent %d, max batch %d\n", c->H, c->W, c->C,
                c->stages, c->base_channels, c->latent_dim, m->max_B);
    fprintf(f, "  %-22s %-16s    %-16s %10s %10s  %s\n", "layer", "in", "out", "params", "MFLOP/smp",
            "path fwd/dinp/dw");
    double total = 0;
    for (int i = 0; i < c->stages; i++) {
        const ConvShape *s = &m->enc[i];
        snprintf(name, sizeof name, "encoder_conv.%d+relu", 2 * i);
        double fl = 2.0 * s->OC * s->OH * s->OW * s->C * s->K * s->K;
        total += fl;
        print_conv_row(f, name, s, 0, m->max_B);
    }
    if (c->latent_channels) {
        const ConvShape *s = &m->lat_enc;
        print_conv_row(f, "latent_enc (z)", s, 0, m->max_B);
        print_conv_row(f, "latent_dec+relu", &m->lat_dec, 0, m->max_B);
        total += 2 * 2.0 * s->C * s->OC * s->H * s->W;
    } else {
        snprintf(in, sizeof in, "%d", m->F);
        snprintf(out, sizeof out, "%d", c->latent_dim);
        print_row(f, "fc_enc", in, out, (size_t)m->F * c->latent_dim + c->latent_dim, 2.0 * m->F * c->latent_dim);
        print_row(f, "fc_dec", out, in, (size_t)m->F * c->latent_dim + m->F, 2.0 * m->F * c->latent_dim);
        total += 4.0 * m->F * c->latent_dim;
    }
    for (int i = 0; i < c->stages; i++) {
        const ConvShape *s = &m->dec[i];
        snprintf(name, sizeof name, "decoder_conv.%d+%s", 2 * i, i < c->stages - 1 ? "relu" : "sigmoid");
        double fl = 2.0 * s->C * s->H * s->W * s->OC * s->K * s->K;
        total += fl;
        print_conv_row(f, name, s, 1, m->max_B);
    }
    fprintf(f, "  total params %zu, forward %.1f MFLOP/sample, memory %.1f MiB (params+grads+adam %.1f, "
               "activations %.1f, workspace %.1f)\n",
            m->arena.n, total / 1e6, ae_bytes(m) / 1048576.0, 16.0 * m->arena.n / 1048576.0,
            4.0 * m->acts_floats / 1048576.0, 4.0 * m->work_floats / 1048576.0);
}

// ---------------------------------------------------------------- dynamics

#define DYN_MAX_THREADS 64   // threads a step is split over at most (private gradient buffers)
#define DYN_ROWS_MIN 32      // rows each of them gets at least

int dyn_config_check(const DynConfig *c, Err *err) {
    if (c->latent_dim < 1 || c->n_actions < 1 || c->hidden < 1 || c->max_steps < 1)
        return err_set(err, "dynamics: latent_dim, n_actions, hidden, max_steps must be >= 1, got %d, %d, %d, %d",
                       c->latent_dim, c->n_actions, c->hidden, c->max_steps);
    if (c->latent_dim > 65536 || c->n_actions > 65536 || c->hidden > 65536 || c->max_steps > 100000)
        return err_set(err, "dynamics: sizes too large (latent_dim %d, n_actions %d, hidden %d, max_steps %d)",
                       c->latent_dim, c->n_actions, c->hidden, c->max_steps);
    return 0;
}

static void dyn_point(Dyn *m, DynParams *p, float *base) {
    float **views[] = {&p->ln_w, &p->ln_b, &p->fc1_w, &p->fc1_b, &p->fc2_w, &p->fc2_b, &p->fc3_w, &p->fc3_b};
    for (int i = 0; i < 8; i++) *views[i] = at(&m->arena, base, i);
}

int dyn_init(Dyn *m, const DynConfig *cfg, int max_B, Rng *rng, Err *err) {
    memset(m, 0, sizeof *m);
    if (dyn_config_check(cfg, err) < 0) return -1;
    if (max_B < 1) return err_set(err, "dynamics: batch size must be >= 1, got %d", max_B);
    m->cfg = *cfg;
    m->max_B = max_B;
    const int Z = cfg->latent_dim, Hd = cfg->hidden, T = cfg->max_steps;
    m->IN = Z + cfg->n_actions;
    m->OUT = cfg->vae ? 2 * Z : Z;
    ParamArena *a = &m->arena;
    arena_add(a, 1, (int[]){m->IN}, "net.0.weight");
    arena_add(a, 1, (int[]){m->IN}, "net.0.bias");
    arena_add(a, 2, (int[]){Hd, m->IN}, "net.1.weight");
    arena_add(a, 1, (int[]){Hd}, "net.1.bias");
    arena_add(a, 2, (int[]){Hd, Hd}, "net.3.weight");
    arena_add(a, 1, (int[]){Hd}, "net.3.bias");
    arena_add(a, 2, (int[]){m->OUT, Hd}, "net.5.weight");
    arena_add(a, 1, (int[]){m->OUT}, "net.5.bias");
    arena_alloc(a);
    dyn_point(m, &m->w, a->params);
    dyn_point(m, &m->g, a->grads);

    // gymemu: PyTorch defaults, then orthogonal_(net[1].weight) and zeros_(net[-1].bias)
    init_constant(m->w.ln_w, (size_t)m->IN, 1.0f);
    init_constant(m->w.ln_b, (size_t)m->IN, 0.0f);
    init_kaiming_uniform(m->w.fc1_w, (size_t)Hd * m->IN, m->IN, rng);
    init_bias_uniform(m->w.fc1_b, (size_t)Hd, m->IN, rng);
    init_kaiming_uniform(m->w.fc2_w, (size_t)Hd * Hd, Hd, rng);
    init_bias_uniform(m->w.fc2_b, (size_t)Hd, Hd, rng);
    init_kaiming_uniform(m->w.fc3_w, (size_t)m->OUT * Hd, Hd, rng);
    init_bias_uniform(m->w.fc3_b, (size_t)m->OUT, Hd, rng);
    init_orthogonal(m->w.fc1_w, Hd, m->IN, 1.0f, rng);
    init_constant(m->w.fc3_b, (size_t)m->OUT, 0.0f);
    if (cfg->vae) init_constant(m->w.fc3_b + Z, (size_t)Z, DYN_VAE_LOGVAR_INIT);

    size_t TB = (size_t)T * max_B, B = (size_t)max_B;
    size_t per_step = 2 * (size_t)m->IN + 2 + 6 * (size_t)Hd + m->OUT + Z;   // + 2 Hd: GELU'(h)
    size_t scratch = 2 * (size_t)m->IN + 2 * (size_t)Hd + m->OUT + 2 * (size_t)Z;
    m->acts_floats = per_step * TB + scratch * B;
    m->acts_mem = xmalloc_floats(m->acts_floats);
    float *p = m->acts_mem;
#define TAKE(n) (p += (n), p - (n))
    m->in = TAKE(TB * m->IN);
    m->ln = TAKE(TB * m->IN);
    m->ln_mean = TAKE(TB);
    m->ln_rstd = TAKE(TB);
    m->h1 = TAKE(TB * Hd);
    m->g1 = TAKE(TB * Hd);
    m->h2 = TAKE(TB * Hd);
    m->g2 = TAKE(TB * Hd);
    m->delta = TAKE(TB * m->OUT);
    m->znext = TAKE(TB * Z);
    m->d_in = TAKE(B * m->IN);
    m->d_ln = TAKE(B * m->IN);
    m->d_h = TAKE(B * Hd);
    m->d_g = TAKE(B * Hd);
    m->d_out = TAKE(B * m->OUT);
    m->dcarry[0] = TAKE(B * Z);
    m->dcarry[1] = TAKE(B * Z);
#undef TAKE
    p += 2 * TB * Hd;   // GELU derivatives of h1, h2 (see dyn_dgelu)
    CHECK(p == m->acts_mem + m->acts_floats, "dyn_init: activation layout");
    m->max_threads = cpu_cores() < DYN_MAX_THREADS ? cpu_cores() : DYN_MAX_THREADS;
    if (m->max_threads < 1) m->max_threads = 1;
    if (max_B < 2 * DYN_ROWS_MIN) m->max_threads = 1;   // never split: no private gradients
    if (m->max_threads > 1) m->grads_priv = xmalloc_floats((size_t)(m->max_threads - 1) * a->n);
    return 0;
}

void dyn_free(Dyn *m) {
    arena_free(&m->arena);
    free(m->acts_mem);
    free(m->grads_priv);
    memset(m, 0, sizeof *m);
}

static void dyn_check_step(const Dyn *m, int t, int B) {
    CHECK(t >= 0 && t < m->cfg.max_steps, "dynamics: step %d outside 0..%d (max_steps at init)", t, m->cfg.max_steps - 1);
    CHECK(B >= 1 && B <= m->max_B, "dynamics: batch %d outside 1..%d (max_B at init)", B, m->max_B);
}

float *dyn_delta(Dyn *m, int t) { return m->delta + (size_t)t * m->max_B * m->OUT; }
float *dyn_znext(Dyn *m, int t) { return m->znext + (size_t)t * m->max_B * m->cfg.latent_dim; }

// The dynamics MLP is small (gymemu: 128 hidden): below this many multiply-adds per step
// it runs on the calling thread, with no OpenMP fork/join or BLAS threads per op.
#define DYN_SERIAL_MACS ((size_t)1 << 26)

// GELU'(h1) (layer 0) or GELU'(h2) (layer 1) of step t, [B][hidden], saved by the forward pass
// at the end of acts_mem (after the backward scratch).
static float *dyn_dgelu(const Dyn *m, int t, int layer) {
    size_t TB = (size_t)m->cfg.max_steps * m->max_B, Hd = (size_t)m->cfg.hidden;
    return m->acts_mem + m->acts_floats - 2 * TB * Hd + ((size_t)layer * TB + (size_t)t * m->max_B) * Hd;
}

static int dyn_serial_begin(const Dyn *m, int B) {
    size_t macs = (size_t)B * m->cfg.hidden * ((size_t)m->IN + m->cfg.hidden + m->OUT);
    return macs < DYN_SERIAL_MACS ? threads_serial_begin() : -1;
}
static void dyn_serial_end(int saved) { if (saved >= 0) threads_serial_end(saved); }

// Large batches are split over threads by samples (rows): each thread runs its rows through
// every op serially (one fork/join per step instead of one per op, and the GEMMs stay
// single-threaded, where OpenBLAS is at its best for these 128-wide layers); the weight
// gradients of threads > 0 go to private buffers, added in thread order (deterministic for a
// thread count). Every thread gets at least DYN_ROWS_MIN rows.

static int dyn_threads(const Dyn *m, int B) {
    int T = omp_threads(), rows = B / DYN_ROWS_MIN;
    if (T > m->max_threads) T = m->max_threads;
    if (T > rows) T = rows;
    return T < 1 ? 1 : T;
}

// Rows [b0, b0+B) of step t.
static void dyn_forward_rows(Dyn *m, int t, const float *z, const float *a, int b0, int B) {
    const int Z = m->cfg.latent_dim, A = m->cfg.n_actions, IN = m->IN, Hd = m->cfg.hidden;
    const size_t s = (size_t)t * m->max_B + b0;
    float *in = m->in + s * IN, *ln = m->ln + s * IN, *mean = m->ln_mean + s, *rstd = m->ln_rstd + s;
    float *h1 = m->h1 + s * Hd, *g1 = m->g1 + s * Hd, *h2 = m->h2 + s * Hd, *g2 = m->g2 + s * Hd;
    float *delta = dyn_delta(m, t) + (size_t)b0 * m->OUT, *zn = dyn_znext(m, t) + (size_t)b0 * Z;
    z += (size_t)b0 * Z, a += (size_t)b0 * A;
    for (int b = 0; b < B; b++) {
        memcpy(in + (size_t)b * IN, z + (size_t)b * Z, (size_t)Z * sizeof(float));
        memcpy(in + (size_t)b * IN + Z, a + (size_t)b * A, (size_t)A * sizeof(float));
    }
    layernorm_forward(ln, mean, rstd, in, m->w.ln_w, m->w.ln_b, B, IN);
    linear_forward(h1, ln, m->w.fc1_w, NULL, B, IN, Hd);   // bias added by the GELU pass
    gelu_forward_saved(g1, dyn_dgelu(m, t, 0) + (size_t)b0 * Hd, h1, m->w.fc1_b, (size_t)B * Hd, Hd);
    linear_forward(h2, g1, m->w.fc2_w, NULL, B, Hd, Hd);
    gelu_forward_saved(g2, dyn_dgelu(m, t, 1) + (size_t)b0 * Hd, h2, m->w.fc2_b, (size_t)B * Hd, Hd);
    linear_forward(delta, g2, m->w.fc3_w, m->w.fc3_b, B, Hd, m->OUT);
    if (m->cfg.vae) return;        // nn/dynamics.h samples delta from [mean | logvar]
    for (int b = 0; b < B; b++)    // z read back from in[t]: z may alias a znext slice
        for (int j = 0; j < Z; j++)
            zn[(size_t)b * Z + j] = in[(size_t)b * IN + j] + delta[(size_t)b * m->OUT + j];
}

void dyn_forward_step(Dyn *m, int t, const float *z, const float *a, int B) {
    dyn_check_step(m, t, B);
    const int T = dyn_threads(m, B);
    if (T == 1) {
        int serial = dyn_serial_begin(m, B);
        dyn_forward_rows(m, t, z, a, 0, B);
        dyn_serial_end(serial);
        return;
    }
    int saved = threads_serial_begin();
    #ifdef _OPENMP
    #pragma omp parallel num_threads(T)
    #endif
    {
        int k = omp_thread_id(), b0 = (int)((long)B * k / T), b1 = (int)((long)B * (k + 1) / T);
        dyn_forward_rows(m, t, z, a, b0, b1 - b0);
    }
    threads_serial_end(saved);
}

// Rows [b0, b0+B) of the backward of step t; weight gradients accumulate into g.
static void dyn_backward_rows(Dyn *m, int t, const float *ddelta, const float *dznext, float *dz, int b0, int B,
                              const DynParams *g) {
    const int Z = m->cfg.latent_dim, IN = m->IN, Hd = m->cfg.hidden;
    const size_t s = (size_t)t * m->max_B + b0, nz = (size_t)B * Z, nh = (size_t)B * Hd, no = (size_t)B * m->OUT;
    const float *in = m->in + s * IN, *ln = m->ln + s * IN, *mean = m->ln_mean + s, *rstd = m->ln_rstd + s;
    const float *g1 = m->g1 + s * Hd, *g2 = m->g2 + s * Hd;
    float *d_out = m->d_out + (size_t)b0 * m->OUT, *d_g = m->d_g + (size_t)b0 * Hd, *d_h = m->d_h + (size_t)b0 * Hd;
    float *d_ln = m->d_ln + (size_t)b0 * IN;
    if (ddelta) ddelta += (size_t)b0 * m->OUT;
    if (dznext) dznext += (size_t)b0 * Z;
    if (dz) dz += (size_t)b0 * Z;
    // z' = z + delta: dL/ddelta = ddelta + dznext, dL/dz gets dznext directly (no znext with vae)
    for (size_t k = 0; k < no; k++) d_out[k] = ddelta ? ddelta[k] : 0.0f;
    if (dznext)
        for (size_t k = 0; k < nz; k++) d_out[k] += dznext[k];
    if (dz && dznext)
        for (size_t k = 0; k < nz; k++) dz[k] += dznext[k];
    // GELU backward in place: d_g, then d_h, hold dL/dh2, then dL/dh1
    linear_backward_beta(d_g, 0.0f, g->fc3_w, g->fc3_b, d_out, g2, m->w.fc3_w, B, Hd, m->OUT);
    gelu_backward_saved(d_g, d_g, dyn_dgelu(m, t, 1) + (size_t)b0 * Hd, nh);
    linear_backward_beta(d_h, 0.0f, g->fc2_w, g->fc2_b, d_g, g1, m->w.fc2_w, B, Hd, Hd);
    gelu_backward_saved(d_h, d_h, dyn_dgelu(m, t, 0) + (size_t)b0 * Hd, nh);
    linear_backward_beta(d_ln, 0.0f, g->fc1_w, g->fc1_b, d_h, ln, m->w.fc1_w, B, IN, Hd);
    float *d_in = NULL;
    if (dz) { d_in = m->d_in + (size_t)b0 * IN; zero(d_in, (size_t)B * IN); }
    layernorm_backward(d_in, g->ln_w, g->ln_b, d_ln, in, mean, rstd, m->w.ln_w, B, IN);
    if (dz)
        for (int b = 0; b < B; b++)
            for (int j = 0; j < Z; j++) dz[(size_t)b * Z + j] += d_in[(size_t)b * IN + j];
}

void dyn_backward_step(Dyn *m, int t, const float *ddelta, const float *dznext, float *dz, int B) {
    dyn_check_step(m, t, B);
    CHECK(!(m->cfg.vae && dznext), "dynamics: dznext with a vae head (see nn/dynamics.h)");
    const int T = dyn_threads(m, B);
    if (T == 1) {
        int serial = dyn_serial_begin(m, B);
        dyn_backward_rows(m, t, ddelta, dznext, dz, 0, B, &m->g);
        dyn_serial_end(serial);
        return;
    }
    const size_t n = m->arena.n;
    int saved = threads_serial_begin();
    #ifdef _OPENMP
    #pragma omp parallel num_threads(T)
    #endif
    {
        int k = omp_thread_id(), b0 = (int)((long)B * k / T), b1 = (int)((long)B * (k + 1) / T);
        DynParams gp = m->g;
        if (k > 0) {
            float *priv = m->grads_priv + (size_t)(k - 1) * n;
            zero(priv, n);
            dyn_point(m, &gp, priv);
        }
        dyn_backward_rows(m, t, ddelta, dznext, dz, b0, b1 - b0, &gp);
    }
    threads_serial_end(saved);
    float *g = m->arena.grads;
    for (int k = 1; k < T; k++) {
        const float *priv = m->grads_priv + (size_t)(k - 1) * n;
        for (size_t i = 0; i < n; i++) g[i] += priv[i];
    }
}

void dyn_rollout_forward(Dyn *m, const float *z0, const float *a, int K, int B) {
    CHECK(!m->cfg.vae, "dyn_rollout_forward: a vae head samples its delta (see nn/dynamics.h)");
    CHECK(K >= 1 && K <= m->cfg.max_steps, "dynamics: rollout of %d steps, max_steps is %d", K, m->cfg.max_steps);
    for (int t = 0; t < K; t++)
        dyn_forward_step(m, t, t ? dyn_znext(m, t - 1) : z0, a + (size_t)t * B * m->cfg.n_actions, B);
}

void dyn_rollout_backward(Dyn *m, const float *dzs, int K, int B, float *dz0) {
    CHECK(K >= 1 && K <= m->cfg.max_steps, "dynamics: rollout of %d steps, max_steps is %d", K, m->cfg.max_steps);
    const size_t nz = (size_t)B * m->cfg.latent_dim;
    int cur = 0;
    zero(m->dcarry[cur], nz);     // dL/dz_{t+1} through steps after t
    for (int t = K - 1; t >= 0; t--) {
        float *g = m->dcarry[cur], *next = m->dcarry[1 - cur];
        for (size_t k = 0; k < nz; k++) g[k] += dzs[(size_t)t * nz + k];
        zero(next, nz);
        dyn_backward_step(m, t, NULL, g, next, B);
        cur = 1 - cur;
    }
    if (dz0)
        for (size_t k = 0; k < nz; k++) dz0[k] += m->dcarry[cur][k];
}

size_t dyn_bytes(const Dyn *m) {   // as allocated (see floats_bytes)
    return 4 * floats_bytes(m->arena.n) + floats_bytes(m->acts_floats) +
           (m->max_threads > 1 ? floats_bytes((size_t)(m->max_threads - 1) * m->arena.n) : 0);
}

void dyn_print_table(const Dyn *m, FILE *f) {
    const DynConfig *c = &m->cfg;
    const int Hd = c->hidden;
    char a[32], b[32];
    fprintf(f, "dynamics%s latent %d + actions %d, hidden %d, max batch %d, max steps %d\n", c->vae ? " (vae)" : "",
            c->latent_dim, c->n_actions, Hd, m->max_B, c->max_steps);
    fprintf(f, "  %-22s %-16s    %-16s %10s %10s\n", "layer", "in", "out", "params", "MFLOP/smp");
    snprintf(a, sizeof a, "%d", m->IN);
    print_row(f, "net.0 layernorm", a, a, 2 * (size_t)m->IN, 8.0 * m->IN);
    snprintf(b, sizeof b, "%d", Hd);
    print_row(f, "net.1+gelu", a, b, (size_t)Hd * m->IN + Hd, 2.0 * Hd * m->IN);
    print_row(f, "net.3+gelu", b, b, (size_t)Hd * Hd + Hd, 2.0 * Hd * Hd);
    snprintf(a, sizeof a, "%d", m->OUT);
    print_row(f, c->vae ? "net.5 (mean,logvar)" : "net.5 (delta)", b, a, (size_t)m->OUT * Hd + m->OUT, 2.0 * m->OUT * Hd);
    fprintf(f, "  total params %zu, memory %.2f MiB (params+grads+adam %.2f, activations %.2f)\n", m->arena.n,
            dyn_bytes(m) / 1048576.0, 16.0 * m->arena.n / 1048576.0, 4.0 * m->acts_floats / 1048576.0);
}
