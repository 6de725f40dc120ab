/*
 * health.c - training health measures and the collapse detector (see health.h).
 */
#include "nn/health.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

void health_init(Health *h, const ParamArena *a, int stop) {
    memset(h, 0, sizeof *h);
    h->stop = stop;
    h->arena = a;
    h->norm_sum = xcalloc((size_t)(a->n_tensors > 0 ? a->n_tensors : 1), sizeof(double));
    h->first = xcalloc((size_t)(a->n_tensors > 0 ? a->n_tensors : 1), sizeof(double));
    h->saturated = h->saturated_wrong = NAN;
}

void health_free(Health *h) {
    free(h->norm_sum), free(h->first);
    h->norm_sum = h->first = NULL;
}

void health_begin_epoch(Health *h) {
    for (int t = 0; t < h->arena->n_tensors; t++) h->norm_sum[t] = 0;
    h->global_sum = h->global_max = 0;
    h->batches = 0;
    h->n_layers = 0;
    h->out_layer = NULL;
    h->saturated = h->saturated_wrong = NAN;
    h->msg[0] = 0;
}

void health_add_grads(Health *h) {
    const ParamArena *a = h->arena;
    double total = 0;
    for (int t = 0; t < a->n_tensors; t++) {
        const float *g = a->grads + a->t[t].offset;
        double s = 0;
        for (size_t i = 0; i < a->t[t].n; i++) s += (double)g[i] * g[i];
        h->norm_sum[t] += sqrt(s);
        total += s;
    }
    double norm = sqrt(total);
    h->global_sum += norm;
    if (norm > h->global_max) h->global_max = norm;
    h->batches++;
}

__attribute__((format(printf, 2, 3))) static void add(Health *h, const char *fmt, ...) {
    size_t n = strlen(h->msg);
    if (n && n + 2 < sizeof h->msg) strcat(h->msg, "; "), n += 2;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->msg + n, sizeof h->msg - n, fmt, ap);
    va_end(ap);
}

// Name of tensor t without ".weight"/".bias" into buf.
static const char *layer_of(const char *tensor, char *buf, size_t cap) {
    snprintf(buf, cap, "%s", tensor);
    char *dot = strrchr(buf, '.');
    if (dot && (!strcmp(dot, ".weight") || !strcmp(dot, ".bias"))) *dot = 0;
    return buf;
}

int health_end_epoch(Health *h, double train_loss) {
    const ParamArena *a = h->arena;
    h->msg[0] = 0;
    h->grad_norm = h->batches ? h->global_sum / h->batches : NAN;
    if (h->batches) {
        if (h->global_max == 0) add(h, "gradient norm 0 in every batch and layer");
        else if (h->have_first && h->grad_norm < HEALTH_VANISH * h->first_global) {
            int worst = -1;
            double wr = INFINITY;
            for (int t = 0; t < a->n_tensors; t++) {
                double r = h->first[t] > 0 ? h->norm_sum[t] / h->batches / h->first[t] : INFINITY;
                if (r < wr) wr = r, worst = t;
            }
            char nm[64];
            add(h, "gradient vanished: norm %.3g, %.2g x the first epoch's; smallest in %s (%.2g x)", h->grad_norm,
                h->grad_norm / h->first_global, worst >= 0 ? layer_of(a->t[worst].name, nm, sizeof nm) : "?", wr);
        }
        if (!h->have_first && h->global_max > 0) {
            for (int t = 0; t < a->n_tensors; t++) h->first[t] = h->norm_sum[t] / h->batches;
            h->first_global = h->grad_norm;
            h->have_first = 1;
        }
    }
    if (h->have_prev && isfinite(train_loss) && fabs(train_loss - h->prev_loss) <= HEALTH_FLAT * fabs(h->prev_loss))
        add(h, "train loss unchanged (%.9g, relative change %.2g)", train_loss,
            h->prev_loss ? fabs(train_loss - h->prev_loss) / fabs(h->prev_loss) : 0.0);
    for (int i = 0; i < h->n_layers; i++)
        if (h->layers[i].dead >= 1) add(h, "ReLU of %s dead (every channel outputs 0)", h->layers[i].name);
    if (h->out_layer && h->saturated_wrong >= HEALTH_SATURATED)
        add(h, "output layer %s saturated against the data (%.1f%% of the pixels that are not black/white "
            "output as sigmoid < %g / > 1 - %g; %.2f%% of all outputs saturated)", h->out_layer,
            100 * h->saturated_wrong, HEALTH_SAT_EPS, HEALTH_SAT_EPS, 100 * h->saturated);
    if (isfinite(train_loss)) h->prev_loss = train_loss, h->have_prev = 1;
    int collapsed = h->msg[0] != 0;
    h->collapsed_run = collapsed ? h->collapsed_run + 1 : 0;
    return collapsed;
}

int health_should_stop(const Health *h) { return h->stop > 0 && h->collapsed_run >= h->stop; }

void health_dead_str(const Health *h, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < h->n_layers && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s=%.4f", i ? ";" : "", h->layers[i].name, h->layers[i].dead);
}

double health_relu_dead(const float *act, int B, int ch, int hw) {
    if (ch <= 0) return NAN;
    int dead = 0;
    for (int c = 0; c < ch; c++) {
        int alive = 0;
        for (int b = 0; b < B && !alive; b++) {
            const float *p = act + ((size_t)b * ch + c) * hw;
            for (int i = 0; i < hw; i++)
                if (p[i] != 0) { alive = 1; break; }
        }
        dead += !alive;
    }
    return (double)dead / ch;
}

double health_saturated(const float *out, size_t n) {
    if (!n) return NAN;
    size_t s = 0;
    for (size_t i = 0; i < n; i++) s += out[i] < HEALTH_SAT_EPS || out[i] > 1 - HEALTH_SAT_EPS;
    return (double)s / n;
}

double health_saturated_wrong(const float *out, const float *target, size_t n) {
    size_t lo_c = 0, lo_w = 0, hi_c = 0, hi_w = 0;   // (target > 0.1, output saturated low), (< 0.9, high)
    for (size_t i = 0; i < n; i++) {
        if (target[i] > 0.1f) lo_c++, lo_w += out[i] < HEALTH_SAT_EPS;
        if (target[i] < 0.9f) hi_c++, hi_w += out[i] > 1 - HEALTH_SAT_EPS;
    }
    double lo = lo_c ? (double)lo_w / lo_c : NAN, hi = hi_c ? (double)hi_w / hi_c : NAN;
    return isnan(lo) ? hi : isnan(hi) ? lo : lo > hi ? lo : hi;
}

void health_probe_ae(Health *h, const AE *m, const float *x, int B) {
    static char names[2 * AE_MAX_STAGES + 1][32];
    const int S = m->cfg.stages;
    h->n_layers = 0;
    for (int i = 0; i < S && h->n_layers < HEALTH_MAX_LAYERS; i++) {
        snprintf(names[i], sizeof names[i], "encoder_conv.%d", 2 * i);
        const ConvShape *s = &m->enc[i];
        h->layers[h->n_layers++] = (HealthLayer){names[i], health_relu_dead(m->enc_out[i], B, s->OC, s->OH * s->OW)};
    }
    if (m->cfg.latent_channels > 0 && h->n_layers < HEALTH_MAX_LAYERS) {
        const ConvShape *s = &m->lat_dec;
        h->layers[h->n_layers++] = (HealthLayer){"latent_dec", health_relu_dead(m->h, B, s->OC, s->OH * s->OW)};
    }
    for (int i = 0; i < S - 1 && h->n_layers < HEALTH_MAX_LAYERS; i++) {
        snprintf(names[S + i], sizeof names[S + i], "decoder_conv.%d", 2 * i);
        const ConvShape *s = &m->dec[i];
        h->layers[h->n_layers++] =
            (HealthLayer){names[S + i], health_relu_dead(m->dec_out[i], B, s->OC, s->OH * s->OW)};
    }
    snprintf(names[2 * AE_MAX_STAGES], sizeof names[2 * AE_MAX_STAGES], "decoder_conv.%d", 2 * (S - 1));
    h->out_layer = names[2 * AE_MAX_STAGES];
    const ConvShape *o = &m->dec[S - 1];
    size_t n = (size_t)B * o->OC * o->OH * o->OW;
    h->saturated = health_saturated(m->recon, n);
    h->saturated_wrong = health_saturated_wrong(m->recon, x, n);
}
