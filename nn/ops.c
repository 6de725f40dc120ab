/*
 * ops.c - layer kernels (see ops.h): conv2d / conv-transpose2d as im2col/col2im + gemm(),
 * linear, layernorm, relu, gelu (erf), sigmoid, L1 and MSE losses; forward and backward.
 *
 * Convolutions work on a chunk of Bc samples at a time so that each GEMM covers the whole
 * chunk: the column matrix is col [R, Bc*L] with R = channels*K*K rows and the columns of
 * sample b at b*L (L = spatial size of the conv's "output" grid). The chunk size depends
 * only on the shape and B (conv_chunk), so results are deterministic for a given B and
 * thread count. OpenMP loops write disjoint outputs and sum in a fixed order.
 */
#include "nn/ops.h"
#include "nn/gemm.h"
#include "nn/util.h"

#include <math.h>
#include <string.h>

// Parallel loop over independent outputs; nothing when built without OpenMP (NO_OMP=1).
#ifdef _OPENMP
#define OMP_FOR _Pragma("omp parallel for schedule(static)")
#else
#define OMP_FOR
#endif

// Soft cap on the floats one conv call uses as workspace: the batch is cut into chunks so
// that col + tmp stay below it (unless one sample alone is larger).
#define CONV_WORK_CAP ((size_t)1 << 24)

// ---------------------------------------------------------------- shapes and workspaces

ConvShape conv2d_shape(int C, int H, int W, int OC, int K, int S, int P) {
    CHECK(C > 0 && H > 0 && W > 0 && OC > 0 && K > 0 && S > 0 && P >= 0,
          "conv2d_shape: bad args C=%d H=%d W=%d OC=%d K=%d S=%d P=%d", C, H, W, OC, K, S, P);
    ConvShape s = {C, H, W, OC, 0, 0, K, S, P};
    CHECK(H + 2 * P >= K && W + 2 * P >= K, "conv2d_shape: kernel %d larger than padded input %dx%d (P=%d)",
          K, H, W, P);
    s.OH = (H + 2 * P - K) / S + 1;
    s.OW = (W + 2 * P - K) / S + 1;
    return s;
}

ConvShape convt2d_shape(int C, int H, int W, int OC, int K, int S, int P) {
    CHECK(C > 0 && H > 0 && W > 0 && OC > 0 && K > 0 && S > 0 && P >= 0,
          "convt2d_shape: bad args C=%d H=%d W=%d OC=%d K=%d S=%d P=%d", C, H, W, OC, K, S, P);
    ConvShape s = {C, H, W, OC, 0, 0, K, S, P};
    s.OH = (H - 1) * S - 2 * P + K;
    s.OW = (W - 1) * S - 2 * P + K;
    CHECK(s.OH > 0 && s.OW > 0, "convt2d_shape: empty output %dx%d", s.OH, s.OW);
    return s;
}

// Floats per sample: conv2d col [C*K*K, L] + tmp [OC, L], L = OH*OW.
static size_t conv2d_per_sample(const ConvShape *s) {
    return ((size_t)s->C * s->K * s->K + (size_t)s->OC) * (size_t)s->OH * s->OW;
}
// convt2d col [OC*K*K, L] + tmp [C, L], L = H*W (the input grid).
static size_t convt2d_per_sample(const ConvShape *s) {
    return ((size_t)s->OC * s->K * s->K + (size_t)s->C) * (size_t)s->H * s->W;
}

static int conv_chunk(size_t per_sample, int B) {
    size_t bc = per_sample ? CONV_WORK_CAP / per_sample : (size_t)B;
    if (bc < 1) bc = 1;
    if (bc > (size_t)B) bc = (size_t)B;
    return (int)bc;
}

size_t conv2d_workspace(const ConvShape *s, int B) {
    CHECK(B > 0, "conv2d_workspace: B=%d", B);
    size_t ps = conv2d_per_sample(s);
    return ps * (size_t)conv_chunk(ps, B);
}

size_t convt2d_workspace(const ConvShape *s, int B) {
    CHECK(B > 0, "convt2d_workspace: B=%d", B);
    size_t ps = convt2d_per_sample(s);
    return ps * (size_t)conv_chunk(ps, B);
}

// ---------------------------------------------------------------- im2col / col2im

// img [Bc, Cc, Hi, Wi] -> col [Cc*K*K, Bc*Ho*Wo]; zero where the window hits padding.
static void im2col(float *col, const float *img, int Bc, int Cc, int Hi, int Wi,
                   int K, int S, int P, int Ho, int Wo) {
    const int R = Cc * K * K;
    const size_t L = (size_t)Ho * Wo, N = (size_t)Bc * L;
OMP_FOR
    for (int r = 0; r < R; r++) {
        int c = r / (K * K), kh = (r / K) % K, kw = r % K;
        float *row = col + (size_t)r * N;
        for (int b = 0; b < Bc; b++) {
            const float *plane = img + ((size_t)b * Cc + c) * Hi * Wi;
            float *dst = row + (size_t)b * L;
            for (int oh = 0; oh < Ho; oh++) {
                int ih = oh * S - P + kh;
                float *d = dst + (size_t)oh * Wo;
                if (ih < 0 || ih >= Hi) { memset(d, 0, sizeof(float) * Wo); continue; }
                const float *src = plane + (size_t)ih * Wi;
                for (int ow = 0; ow < Wo; ow++) {
                    int iw = ow * S - P + kw;
                    d[ow] = (iw >= 0 && iw < Wi) ? src[iw] : 0.0f;
                }
            }
        }
    }
}

// Adjoint of im2col: img [Bc, Cc, Hi, Wi] += col2im(col [Cc*K*K, Bc*Ho*Wo]).
// Threads split the (b, c) planes, so each plane is summed by one thread in a fixed order.
static void col2im_add(float *img, const float *col, int Bc, int Cc, int Hi, int Wi,
                       int K, int S, int P, int Ho, int Wo) {
    const size_t L = (size_t)Ho * Wo, N = (size_t)Bc * L;
OMP_FOR
    for (int bcix = 0; bcix < Bc * Cc; bcix++) {
        int b = bcix / Cc, c = bcix % Cc;
        float *plane = img + (size_t)bcix * Hi * Wi;
        for (int kh = 0; kh < K; kh++)
            for (int kw = 0; kw < K; kw++) {
                const float *src = col + ((size_t)(c * K + kh) * K + kw) * N + (size_t)b * L;
                for (int oh = 0; oh < Ho; oh++) {
                    int ih = oh * S - P + kh;
                    if (ih < 0 || ih >= Hi) continue;
                    float *d = plane + (size_t)ih * Wi;
                    const float *sr = src + (size_t)oh * Wo;
                    for (int ow = 0; ow < Wo; ow++) {
                        int iw = ow * S - P + kw;
                        if (iw >= 0 && iw < Wi) d[iw] += sr[ow];
                    }
                }
            }
    }
}

// t [Ch, Bc*L] = x [Bc, Ch, L] (channel-major gather).
static void gather_cbl(float *t, const float *x, int Bc, int Ch, size_t L) {
OMP_FOR
    for (int c = 0; c < Ch; c++)
        for (int b = 0; b < Bc; b++)
            memcpy(t + ((size_t)c * Bc + b) * L, x + ((size_t)b * Ch + c) * L, sizeof(float) * L);
}

// x [Bc, Ch, L] (= or +=) t [Ch, Bc*L], plus bias[c] if given.
static void scatter_bcl(float *x, const float *t, const float *bias, int Bc, int Ch, size_t L,
                        int accumulate) {
OMP_FOR
    for (int bc = 0; bc < Bc * Ch; bc++) {
        int b = bc / Ch, c = bc % Ch;
        float *d = x + (size_t)bc * L;
        const float *sr = t + ((size_t)c * Bc + b) * L;
        float bv = bias ? bias[c] : 0.0f;
        if (accumulate) for (size_t i = 0; i < L; i++) d[i] += sr[i] + bv;
        else            for (size_t i = 0; i < L; i++) d[i] = sr[i] + bv;
    }
}

// db [Ch] += sum over b, l of dout [B, Ch, L] (double accumulation, fixed order).
static void bias_backward(float *db, const float *dout, int B, int Ch, size_t L) {
OMP_FOR
    for (int c = 0; c < Ch; c++) {
        double acc = 0.0;
        for (int b = 0; b < B; b++) {
            const float *p = dout + ((size_t)b * Ch + c) * L;
            for (size_t i = 0; i < L; i++) acc += p[i];
        }
        db[c] += (float)acc;
    }
}

// ---------------------------------------------------------------- conv2d

// out [B,OC,OH,OW] = conv(inp [B,C,H,W], w [OC,C,K,K]) + b [OC] (b may be NULL)
// work: conv2d_workspace(s, B) floats
void conv2d_forward(float *out, const float *inp, const float *w, const float *b,
                    int B, const ConvShape *s, float *work) {
    const int R = s->C * s->K * s->K;
    const size_t L = (size_t)s->OH * s->OW;
    const size_t in_sz = (size_t)s->C * s->H * s->W, out_sz = (size_t)s->OC * L;
    const int bc = conv_chunk(conv2d_per_sample(s), B);
    for (int b0 = 0; b0 < B; b0 += bc) {
        int nb = B - b0 < bc ? B - b0 : bc;
        int N = (int)((size_t)nb * L);
        float *col = work, *tmp = work + (size_t)R * N;
        im2col(col, inp + (size_t)b0 * in_sz, nb, s->C, s->H, s->W, s->K, s->S, s->P, s->OH, s->OW);
        // tmp [OC, N] = w [OC, R] x col [R, N]
        gemm(0, 0, s->OC, N, R, 1.0f, w, R, col, N, 0.0f, tmp, N);
        scatter_bcl(out + (size_t)b0 * out_sz, tmp, b, nb, s->OC, L, 0);
    }
}

// dinp [B,C,H,W] +=, dw [OC,C,K,K] +=, db [OC] += ; dout [B,OC,OH,OW]; inp, w as forward.
void conv2d_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                     const float *w, int B, const ConvShape *s, float *work) {
    const int R = s->C * s->K * s->K;
    const size_t L = (size_t)s->OH * s->OW;
    const size_t in_sz = (size_t)s->C * s->H * s->W, out_sz = (size_t)s->OC * L;
    if (db) bias_backward(db, dout, B, s->OC, L);
    if (!dinp && !dw) return;
    const int bc = conv_chunk(conv2d_per_sample(s), B);
    for (int b0 = 0; b0 < B; b0 += bc) {
        int nb = B - b0 < bc ? B - b0 : bc;
        int N = (int)((size_t)nb * L);
        float *col = work, *tmp = work + (size_t)R * N;
        gather_cbl(tmp, dout + (size_t)b0 * out_sz, nb, s->OC, L);   // tmp [OC, N]
        if (dw) {
            im2col(col, inp + (size_t)b0 * in_sz, nb, s->C, s->H, s->W, s->K, s->S, s->P, s->OH, s->OW);
            // dw [OC, R] += tmp [OC, N] x col^T [N, R]
            gemm(0, 1, s->OC, R, N, 1.0f, tmp, N, col, N, 1.0f, dw, R);
        }
        if (dinp) {
            // col [R, N] = w^T [R, OC] x tmp [OC, N]; then fold back onto the input
            gemm(1, 0, R, N, s->OC, 1.0f, w, R, tmp, N, 0.0f, col, N);
            col2im_add(dinp + (size_t)b0 * in_sz, col, nb, s->C, s->H, s->W, s->K, s->S, s->P,
                       s->OH, s->OW);
        }
    }
}

// ---------------------------------------------------------------- conv-transpose2d
// ConvTranspose2d is the adjoint of a Conv2d from [OC,OH,OW] to [C,H,W] with the same
// weight viewed as [C, OC*K*K]: forward = W^T x inp then col2im; backward = im2col + gemm.

// out [B,OC,OH,OW] = convT(inp [B,C,H,W], w [C,OC,K,K]) + b [OC] (b may be NULL)
void convt2d_forward(float *out, const float *inp, const float *w, const float *b,
                     int B, const ConvShape *s, float *work) {
    const int R = s->OC * s->K * s->K;
    const size_t L = (size_t)s->H * s->W, OL = (size_t)s->OH * s->OW;
    const size_t in_sz = (size_t)s->C * L, out_sz = (size_t)s->OC * OL;
    const int bc = conv_chunk(convt2d_per_sample(s), B);
    for (int b0 = 0; b0 < B; b0 += bc) {
        int nb = B - b0 < bc ? B - b0 : bc;
        int N = (int)((size_t)nb * L);
        float *col = work, *tmp = work + (size_t)R * N;
        gather_cbl(tmp, inp + (size_t)b0 * in_sz, nb, s->C, L);      // tmp [C, N]
        // col [R, N] = w^T [R, C] x tmp [C, N]
        gemm(1, 0, R, N, s->C, 1.0f, w, R, tmp, N, 0.0f, col, N);
        float *o = out + (size_t)b0 * out_sz;
        memset(o, 0, sizeof(float) * (size_t)nb * out_sz);
        col2im_add(o, col, nb, s->OC, s->OH, s->OW, s->K, s->S, s->P, s->H, s->W);
        if (b) {
OMP_FOR
            for (int bc2 = 0; bc2 < nb * s->OC; bc2++) {
                float bv = b[bc2 % s->OC];
                float *d = o + (size_t)bc2 * OL;
                for (size_t i = 0; i < OL; i++) d[i] += bv;
            }
        }
    }
}

// dinp [B,C,H,W] +=, dw [C,OC,K,K] +=, db [OC] += ; dout [B,OC,OH,OW].
void convt2d_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                      const float *w, int B, const ConvShape *s, float *work) {
    const int R = s->OC * s->K * s->K;
    const size_t L = (size_t)s->H * s->W, OL = (size_t)s->OH * s->OW;
    const size_t in_sz = (size_t)s->C * L, out_sz = (size_t)s->OC * OL;
    if (db) bias_backward(db, dout, B, s->OC, OL);
    if (!dinp && !dw) return;
    const int bc = conv_chunk(convt2d_per_sample(s), B);
    for (int b0 = 0; b0 < B; b0 += bc) {
        int nb = B - b0 < bc ? B - b0 : bc;
        int N = (int)((size_t)nb * L);
        float *col = work, *tmp = work + (size_t)R * N;
        im2col(col, dout + (size_t)b0 * out_sz, nb, s->OC, s->OH, s->OW, s->K, s->S, s->P, s->H, s->W);
        if (dw) {
            gather_cbl(tmp, inp + (size_t)b0 * in_sz, nb, s->C, L);  // tmp [C, N]
            // dw [C, R] += tmp [C, N] x col^T [N, R]
            gemm(0, 1, s->C, R, N, 1.0f, tmp, N, col, N, 1.0f, dw, R);
        }
        if (dinp) {
            // tmp [C, N] = w [C, R] x col [R, N]
            gemm(0, 0, s->C, N, R, 1.0f, w, R, col, N, 0.0f, tmp, N);
            scatter_bcl(dinp + (size_t)b0 * in_sz, tmp, NULL, nb, s->C, L, 1);
        }
    }
}

// ---------------------------------------------------------------- naive references

void conv2d_forward_naive(float *out, const float *inp, const float *w, const float *b,
                          int B, const ConvShape *s) {
    for (int n = 0; n < B; n++)
        for (int oc = 0; oc < s->OC; oc++)
            for (int oh = 0; oh < s->OH; oh++)
                for (int ow = 0; ow < s->OW; ow++) {
                    double acc = b ? b[oc] : 0.0;
                    for (int c = 0; c < s->C; c++)
                        for (int kh = 0; kh < s->K; kh++)
                            for (int kw = 0; kw < s->K; kw++) {
                                int ih = oh * s->S - s->P + kh, iw = ow * s->S - s->P + kw;
                                if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W) continue;
                                acc += (double)inp[(((size_t)n * s->C + c) * s->H + ih) * s->W + iw] *
                                       w[(((size_t)oc * s->C + c) * s->K + kh) * s->K + kw];
                            }
                    out[(((size_t)n * s->OC + oc) * s->OH + oh) * s->OW + ow] = (float)acc;
                }
}

// Gather form: out[oh,ow] sums inp[ih,iw] * w[c,oc,kh,kw] over oh = ih*S - P + kh.
void convt2d_forward_naive(float *out, const float *inp, const float *w, const float *b,
                           int B, const ConvShape *s) {
    for (int n = 0; n < B; n++)
        for (int oc = 0; oc < s->OC; oc++)
            for (int oh = 0; oh < s->OH; oh++)
                for (int ow = 0; ow < s->OW; ow++) {
                    double acc = b ? b[oc] : 0.0;
                    for (int c = 0; c < s->C; c++)
                        for (int kh = 0; kh < s->K; kh++)
                            for (int kw = 0; kw < s->K; kw++) {
                                int th = oh + s->P - kh, tw = ow + s->P - kw;
                                if (th < 0 || tw < 0 || th % s->S || tw % s->S) continue;
                                int ih = th / s->S, iw = tw / s->S;
                                if (ih >= s->H || iw >= s->W) continue;
                                acc += (double)inp[(((size_t)n * s->C + c) * s->H + ih) * s->W + iw] *
                                       w[(((size_t)c * s->OC + oc) * s->K + kh) * s->K + kw];
                            }
                    out[(((size_t)n * s->OC + oc) * s->OH + oh) * s->OW + ow] = (float)acc;
                }
}

// ---------------------------------------------------------------- linear

// out [B,OUT] = inp [B,IN] x w^T [IN,OUT] + b [OUT]
void linear_forward(float *out, const float *inp, const float *w, const float *b,
                    int B, int IN, int OUT) {
    gemm(0, 1, B, OUT, IN, 1.0f, inp, IN, w, IN, 0.0f, out, OUT);
    if (b) {
OMP_FOR
        for (int i = 0; i < B; i++)
            for (int o = 0; o < OUT; o++) out[(size_t)i * OUT + o] += b[o];
    }
}

// dinp [B,IN] +=, dw [OUT,IN] +=, db [OUT] += ; dout [B,OUT]
void linear_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                     const float *w, int B, int IN, int OUT) {
    if (dinp) gemm(0, 0, B, IN, OUT, 1.0f, dout, OUT, w, IN, 1.0f, dinp, IN);
    if (dw) gemm(1, 0, OUT, IN, B, 1.0f, dout, OUT, inp, IN, 1.0f, dw, IN);
    if (db) {
        for (int o = 0; o < OUT; o++) {
            double acc = 0.0;
            for (int i = 0; i < B; i++) acc += dout[(size_t)i * OUT + o];
            db[o] += (float)acc;
        }
    }
}

// ---------------------------------------------------------------- layernorm

#define LN_EPS 1e-5

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *w, const float *b, int B, int N) {
OMP_FOR
    for (int i = 0; i < B; i++) {
        const float *x = inp + (size_t)i * N;
        float *y = out + (size_t)i * N;
        double m = 0.0, v = 0.0;
        for (int j = 0; j < N; j++) m += x[j];
        m /= N;
        for (int j = 0; j < N; j++) { double d = x[j] - m; v += d * d; }
        v /= N;                                  // biased variance, as PyTorch
        double rs = 1.0 / sqrt(v + LN_EPS);
        for (int j = 0; j < N; j++) {
            float xh = (float)((x[j] - m) * rs);
            y[j] = xh * (w ? w[j] : 1.0f) + (b ? b[j] : 0.0f);
        }
        mean[i] = (float)m;
        rstd[i] = (float)rs;
    }
}

// dinp [B,N] += rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dout * w
void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                        const float *mean, const float *rstd, const float *w, int B, int N) {
    if (dinp) {
OMP_FOR
        for (int i = 0; i < B; i++) {
            const float *x = inp + (size_t)i * N, *dy = dout + (size_t)i * N;
            float *dx = dinp + (size_t)i * N;
            double m = mean[i], rs = rstd[i], sg = 0.0, sgx = 0.0;
            for (int j = 0; j < N; j++) {
                double g = (double)dy[j] * (w ? w[j] : 1.0f);
                sg += g;
                sgx += g * (x[j] - m) * rs;
            }
            sg /= N;
            sgx /= N;
            for (int j = 0; j < N; j++) {
                double xh = (x[j] - m) * rs;
                double g = (double)dy[j] * (w ? w[j] : 1.0f);
                dx[j] += (float)(rs * (g - sg - xh * sgx));
            }
        }
    }
    if (dw || db) {
OMP_FOR
        for (int j = 0; j < N; j++) {
            double aw = 0.0, ab = 0.0;
            for (int i = 0; i < B; i++) {
                double dy = dout[(size_t)i * N + j];
                aw += dy * ((inp[(size_t)i * N + j] - (double)mean[i]) * rstd[i]);
                ab += dy;
            }
            if (dw) dw[j] += (float)aw;
            if (db) db[j] += (float)ab;
        }
    }
}

// ---------------------------------------------------------------- activations

void relu_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

// PyTorch: grad passes where out > 0 (0 at the kink).
void relu_backward(float *dinp, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) if (out[i] > 0.0f) dinp[i] += dout[i];
}

#define INV_SQRT2 0.70710678118654752440
#define INV_SQRT2PI 0.39894228040143267794

void gelu_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double x = inp[i];
        out[i] = (float)(0.5 * x * (1.0 + erf(x * INV_SQRT2)));
    }
}

// d/dx [x Phi(x)] = Phi(x) + x phi(x)
void gelu_backward(float *dinp, const float *dout, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double x = inp[i];
        double d = 0.5 * (1.0 + erf(x * INV_SQRT2)) + x * exp(-0.5 * x * x) * INV_SQRT2PI;
        dinp[i] += (float)(d * dout[i]);
    }
}

void sigmoid_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        if (x >= 0.0f) out[i] = 1.0f / (1.0f + expf(-x));
        else { float e = expf(x); out[i] = e / (1.0f + e); }
    }
}

void sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * out[i] * (1.0f - out[i]);
}

// ---------------------------------------------------------------- losses

float l1_loss_forward(const float *pred, const float *target, size_t n) {
    CHECK(n > 0, "l1_loss_forward: n = 0");
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) acc += fabs((double)pred[i] - target[i]);
    return (float)(acc / (double)n);
}

void l1_loss_backward(float *dpred, const float *pred, const float *target, size_t n, float scale) {
    CHECK(n > 0, "l1_loss_backward: n = 0");
    float g = (float)((double)scale / (double)n);
    for (size_t i = 0; i < n; i++) {
        float d = pred[i] - target[i];
        dpred[i] += d > 0.0f ? g : d < 0.0f ? -g : 0.0f;
    }
}

float mse_loss_forward(const float *pred, const float *target, size_t n) {
    CHECK(n > 0, "mse_loss_forward: n = 0");
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) { double d = (double)pred[i] - target[i]; acc += d * d; }
    return (float)(acc / (double)n);
}

void mse_loss_backward(float *dpred, const float *pred, const float *target, size_t n, float scale) {
    CHECK(n > 0, "mse_loss_backward: n = 0");
    float g = (float)(2.0 * (double)scale / (double)n);
    for (size_t i = 0; i < n; i++) dpred[i] += g * (pred[i] - target[i]);
}
