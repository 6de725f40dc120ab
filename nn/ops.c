/*
 * ops.c - layer kernels other than the convolutions (see ops.h; those are in conv.c):
 * linear, layernorm, relu, gelu (erf), sigmoid, L1 and MSE losses; forward and backward.
 */
#include "nn/ops.h"
#include "nn/fastmath.h"
#include "nn/gemm.h"
#include "base/err.h"
#include "base/threads.h"

#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

// ---------------------------------------------------------------- linear

// Below this many multiply-adds a linear layer runs on the calling thread (no BLAS threads).
#define LINEAR_SERIAL_MACS ((size_t)1 << 22)

// out [B,OUT] = inp [B,IN] x w^T [IN,OUT] + b [OUT]
void linear_forward(float *out, const float *inp, const float *w, const float *b,
                    int B, int IN, int OUT) {
    if (B == 1) {   // a matrix-vector product: gemm() threads it by its own size; bias as beta
        if (b) memcpy(out, b, sizeof(float) * OUT);
        gemm(0, 1, 1, OUT, IN, 1.0f, inp, IN, w, IN, b ? 1.0f : 0.0f, out, OUT);
        return;
    }
    const int small = (size_t)B * IN * OUT < LINEAR_SERIAL_MACS;
    int saved = small ? threads_serial_begin() : 0;
    gemm(0, 1, B, OUT, IN, 1.0f, inp, IN, w, IN, 0.0f, out, OUT);
    if (b) {
        OMP_FOR_IF(!small && (size_t)B * OUT >= EW_PAR_MIN)
        for (int i = 0; i < B; i++) {
            float *o = out + (size_t)i * OUT;
            OMP_SIMD
            for (int j = 0; j < OUT; j++) o[j] += b[j];
        }
    }
    if (small) threads_serial_end(saved);
}

// dinp [B,IN] +=, dw [OUT,IN] +=, db [OUT] += ; dout [B,OUT]
void linear_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                     const float *w, int B, int IN, int OUT) {
    linear_backward_beta(dinp, 1.0f, dw, db, dout, inp, w, B, IN, OUT);
}

// As linear_backward, with dinp = beta_dinp * dinp + dout w (0: no need to zero dinp first).
void linear_backward_beta(float *dinp, float beta_dinp, float *dw, float *db, const float *dout,
                          const float *inp, const float *w, int B, int IN, int OUT) {
    const int small = (size_t)B * IN * OUT < LINEAR_SERIAL_MACS;
    int saved = small ? threads_serial_begin() : 0;
    if (dinp) gemm(0, 0, B, IN, OUT, 1.0f, dout, OUT, w, IN, beta_dinp, dinp, IN);
    if (dw) gemm(1, 0, OUT, IN, B, 1.0f, dout, OUT, inp, IN, 1.0f, dw, IN);
    if (db) {   // column sums of dout, rows in order (a block of columns at a time)
        for (int o0 = 0; o0 < OUT; o0 += 256) {
            const int no = OUT - o0 < 256 ? OUT - o0 : 256;
            double acc[256];
            for (int o = 0; o < no; o++) acc[o] = 0.0;
            for (int i = 0; i < B; i++) {
                const float *d = dout + (size_t)i * OUT + o0;
                OMP_SIMD
                for (int o = 0; o < no; o++) acc[o] += d[o];
            }
            for (int o = 0; o < no; o++) db[o0 + o] += (float)acc[o];
        }
    }
    if (small) threads_serial_end(saved);
}

// ---------------------------------------------------------------- layernorm

#define LN_EPS 1e-5

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *w, const float *b, int B, int N) {
OMP_FOR_IF((size_t)B * N >= EW_PAR_MIN)
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
    const int par = (size_t)B * N >= EW_PAR_MIN;
    (void)par;
    if (dinp) {
OMP_FOR_IF(par)
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
OMP_FOR_IF(par)
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
OMP_FOR_IF(n >= EW_PAR_MIN)
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

// PyTorch: grad passes where out > 0 (0 at the kink).
void relu_backward(float *dinp, const float *dout, const float *out, size_t n) {
OMP_FOR_IF(n >= EW_PAR_MIN)
    for (size_t i = 0; i < n; i++) dinp[i] += out[i] > 0.0f ? dout[i] : 0.0f;
}

#define INV_SQRT2PI 0.39894228040143267794f

// x Phi(x), Phi from a float erfc with relative error < 7.5e-7 for |x| < 5 (see phi_cdf_e)
void gelu_forward(float *out, const float *inp, size_t n) {
OMP_FOR_IF(n >= EW_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = x * phi_cdf(x);
    }
}

// d/dx [x Phi(x)] = Phi(x) + x phi(x)
void gelu_backward(float *dinp, const float *dout, const float *inp, size_t n) {
OMP_FOR_IF(n >= EW_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float e = exp_approx(-0.5f * x * x);
        float d = phi_cdf_e(x, e) + x * INV_SQRT2PI * e;
        dinp[i] += d * dout[i];
    }
}

// gelu_forward plus its derivative Phi(x) + x phi(x) saved in dgelu (as gelu_backward computes
// it), for gelu_backward_saved. With b != NULL, inp [n/N, N] gets the bias b [N] added first
// (in place: inp is then the pre-activation, as linear_forward with bias would leave it).
void gelu_forward_saved(float *out, float *dgelu, float *inp, const float *b, size_t n, int N) {
    const size_t rows = b ? n / (size_t)N : 1, cols = b ? (size_t)N : n;
OMP_FOR_IF(n >= EW_PAR_MIN)
    for (size_t r = 0; r < rows; r++) {
        float *x_ = inp + r * cols, *o = out + r * cols, *d = dgelu + r * cols;
        OMP_SIMD
        for (size_t i = 0; i < cols; i++) {
            float x = b ? x_[i] + b[i] : x_[i];
            x_[i] = x;
            float e = exp_approx(-0.5f * x * x);
            float p = phi_cdf_e(x, e);
            o[i] = x * p;
            d[i] = p + x * INV_SQRT2PI * e;
        }
    }
}

// dinp [n] = dout * dgelu (written, not accumulated); dgelu from gelu_forward_saved
void gelu_backward_saved(float *dinp, const float *dout, const float *dgelu, size_t n) {
OMP_FOR_IF(n >= EW_PAR_MIN)
    for (size_t i = 0; i < n; i++) dinp[i] = dgelu[i] * dout[i];
}

void sigmoid_forward(float *out, const float *inp, size_t n) {
OMP_FOR_IF(n >= EW_PAR_MIN)
    for (size_t i = 0; i < n; i++) out[i] = sigmoid1(inp[i]);
}

void sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n) {
OMP_FOR_IF(n >= EW_PAR_MIN)
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * out[i] * (1.0f - out[i]);
}

// ---------------------------------------------------------------- losses
// Sums run in double, in a fixed (SIMD-lane) order: deterministic.

float l1_loss_forward(const float *pred, const float *target, size_t n) {
    CHECK(n > 0, "l1_loss_forward: n = 0");
    double acc = 0.0;
    OMP_SIMD_SUM(acc)
    for (size_t i = 0; i < n; i++) acc += fabs((double)pred[i] - target[i]);
    return (float)(acc / (double)n);
}

void l1_loss_backward(float *dpred, const float *pred, const float *target, size_t n, float scale) {
    CHECK(n > 0, "l1_loss_backward: n = 0");
    float g = (float)((double)scale / (double)n);
    OMP_SIMD
    for (size_t i = 0; i < n; i++) {
        float d = pred[i] - target[i];
        dpred[i] += d > 0.0f ? g : d < 0.0f ? -g : 0.0f;
    }
}

float mse_loss_forward(const float *pred, const float *target, size_t n) {
    CHECK(n > 0, "mse_loss_forward: n = 0");
    double acc = 0.0;
    OMP_SIMD_SUM(acc)
    for (size_t i = 0; i < n; i++) { double d = (double)pred[i] - target[i]; acc += d * d; }
    return (float)(acc / (double)n);
}

void mse_loss_backward(float *dpred, const float *pred, const float *target, size_t n, float scale) {
    CHECK(n > 0, "mse_loss_backward: n = 0");
    float g = (float)(2.0 * (double)scale / (double)n);
    OMP_SIMD
    for (size_t i = 0; i < n; i++) dpred[i] += g * (pred[i] - target[i]);
}

