/*
 * perceptual.c - the perceptual term on a frozen encoder's conv features (see perceptual.h).
 * Sums in double, as the other losses.
 */
#include "nn/perceptual.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "nn/conv.h"

static size_t up16(size_t n) { return (n + 15) & ~(size_t)15; }

static size_t stage_floats(const ConvShape *s) { return (size_t)s->OC * s->OH * s->OW; }

void perc_init(Perceptual *p, const AE *frozen, int max_B) {
    CHECK(max_B > 0, "perc_init: max_B = %d", max_B);
    memset(p, 0, sizeof *p);
    const int S = frozen->cfg.stages;
    p->S = S, p->max_B = max_B, p->C = frozen->cfg.C, p->H = frozen->cfg.H, p->W = frozen->cfg.W;
    size_t total = 0, big = 0, work = 0;
    for (int s = 0; s < S; s++) {
        p->enc[s] = frozen->enc[s];
        const ConvShape *e = &p->enc[s];
        size_t f = stage_floats(e) * max_B;
        total += up16((size_t)e->OC * e->C * e->K * e->K) + up16((size_t)e->OC) + 2 * up16(f);
        if (f > big) big = f;
        size_t w = conv2d_workspace(e, max_B);
        if (w > work) work = w;
    }
    total += 2 * up16(big) + up16(work);
    p->floats = total;
    p->mem = xmalloc_floats(total);
    float *q = p->mem;
    for (int s = 0; s < S; s++) {
        const ConvShape *e = &p->enc[s];
        size_t nw = (size_t)e->OC * e->C * e->K * e->K, f = stage_floats(e) * max_B;
        p->w[s] = q, q += up16(nw);
        p->b[s] = q, q += up16((size_t)e->OC);
        memcpy(p->w[s], frozen->w.enc_w[s], nw * sizeof(float));
        memcpy(p->b[s], frozen->w.enc_b[s], (size_t)e->OC * sizeof(float));
        p->fr[s] = q, q += up16(f);
        p->fx[s] = q, q += up16(f);
    }
    p->d[0] = q, q += up16(big);
    p->d[1] = q, q += up16(big);
    p->work = q;
}

void perc_free(Perceptual *p) {
    free(p->mem);
    memset(p, 0, sizeof *p);
}

double perc_forward(Perceptual *p, const float *r, const float *x, int B) {
    CHECK(B > 0 && B <= p->max_B, "perc_forward: batch %d (max %d)", B, p->max_B);
    double loss = 0;
    for (int s = 0; s < p->S; s++) {
        const ConvShape *e = &p->enc[s];
        conv2d_forward_act(p->fr[s], s ? p->fr[s - 1] : r, p->w[s], p->b[s], CONV_ACT_RELU, B, e, p->work);
        conv2d_forward_act(p->fx[s], s ? p->fx[s - 1] : x, p->w[s], p->b[s], CONV_ACT_RELU, B, e, p->work);
        const size_t n = stage_floats(e) * B;
        double acc = 0;
        for (size_t i = 0; i < n; i++) {
            double d = (double)p->fr[s][i] - p->fx[s][i];
            acc += d * d;
        }
        loss += acc / (double)n;
    }
    p->r = r;
    p->last_B = B;
    return loss / p->S;
}

void perc_backward(Perceptual *p, float *drecon, int B, float scale) {
    CHECK(p->r && B == p->last_B, "perc_backward: batch %d does not match the last perc_forward (%d)", B, p->last_B);
    float *ds = p->d[0];   // dL/dphi_s (after the ReLU), from the stages above plus this stage's term
    for (int s = p->S - 1; s >= 0; s--) {
        const ConvShape *e = &p->enc[s];
        const size_t n = stage_floats(e) * B;
        const float c = (float)(2.0 * scale / ((double)p->S * (double)n));
        const float *fr = p->fr[s], *fx = p->fx[s];
        if (s == p->S - 1)
            for (size_t i = 0; i < n; i++) ds[i] = c * (fr[i] - fx[i]);
        else
            for (size_t i = 0; i < n; i++) ds[i] += c * (fr[i] - fx[i]);
        if (s > 0) {
            float *dn = ds == p->d[0] ? p->d[1] : p->d[0];   // dL/dphi_{s-1}, overwritten
            conv2d_backward_act(dn, NULL, NULL, ds, fr, CONV_ACT_RELU, CONV_DINP_SET, p->fr[s - 1], p->w[s], B, e,
                                p->work);
            ds = dn;
        } else {
            conv2d_backward_act(drecon, NULL, NULL, ds, fr, CONV_ACT_RELU, 0, p->r, p->w[0], B, e, p->work);
        }
    }
}

size_t perc_bytes(const Perceptual *p) { return floats_bytes(p->floats); }
