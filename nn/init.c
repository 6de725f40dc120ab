/*
 * init.c - PyTorch's default initialisations on an explicit Rng (see init.h):
 * kaiming_uniform_(a=sqrt(5)), the matching bias rule, orthogonal_ (modified Gram-Schmidt
 * QR in double, which gives R a positive diagonal: torch's sign fix), constant.
 */
#include "nn/init.h"
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"

#include <math.h>
#include <stdlib.h>

// gain = sqrt(2/(1+a^2)) = sqrt(1/3); bound = sqrt(3) * gain / sqrt(fan_in) = 1/sqrt(fan_in)
void init_kaiming_uniform(float *w, size_t n, int fan_in, Rng *rng) {
    CHECK(fan_in > 0, "init_kaiming_uniform: fan_in=%d", fan_in);
    float bound = (float)(1.0 / sqrt((double)fan_in));
    for (size_t i = 0; i < n; i++) w[i] = rng_uniformf(rng, -bound, bound);
}

void init_bias_uniform(float *b, size_t n, int fan_in, Rng *rng) {
    CHECK(fan_in > 0, "init_bias_uniform: fan_in=%d", fan_in);
    float bound = (float)(1.0 / sqrt((double)fan_in));
    for (size_t i = 0; i < n; i++) b[i] = rng_uniformf(rng, -bound, bound);
}

// w [rows, cols]. A normal matrix of shape [m, k] (m = max, k = min) is factored A = QR;
// w = gain * Q (rows >= cols) or gain * Q^T (rows < cols).
void init_orthogonal(float *w, int rows, int cols, float gain, Rng *rng) {
    CHECK(rows > 0 && cols > 0, "init_orthogonal: %dx%d", rows, cols);
    int m = rows >= cols ? rows : cols, k = rows >= cols ? cols : rows;
    double *q = xmalloc(sizeof(double) * (size_t)m * k);   // column-major: column j at q + j*m
    for (size_t i = 0; i < (size_t)m * k; i++) q[i] = rng_normal(rng);
    // Modified Gram-Schmidt with one re-orthogonalisation pass per column.
    for (int j = 0; j < k; j++) {
        double *qj = q + (size_t)j * m;
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < j; i++) {
                const double *qi = q + (size_t)i * m;
                double dot = 0.0;
                for (int r = 0; r < m; r++) dot += qi[r] * qj[r];
                for (int r = 0; r < m; r++) qj[r] -= dot * qi[r];
            }
        double nrm = 0.0;
        for (int r = 0; r < m; r++) nrm += qj[r] * qj[r];
        nrm = sqrt(nrm);
        CHECK(nrm > 1e-12, "init_orthogonal: rank-deficient draw");
        for (int r = 0; r < m; r++) qj[r] /= nrm;
    }
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            // rows >= cols: w[r][c] = Q[r][c]; else w[r][c] = Q^T[r][c] = Q[c][r]
            double x = rows >= cols ? q[(size_t)c * m + r] : q[(size_t)r * m + c];
            w[(size_t)r * cols + c] = (float)(gain * x);
        }
    free(q);
}

void init_constant(float *x, size_t n, float value) {
    for (size_t i = 0; i < n; i++) x[i] = value;
}
