/*
 * test_init.c - initialisers (nn/init.c): kaiming / bias bounds and moments, orthogonal
 * W W^T = I (rows <= cols) or W^T W = I (rows >= cols) times gain^2, determinism, constant.
 */
#include <stdlib.h>
#include "nn/init.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "tests/test.h"

static void test_uniform(int bias) {
    const size_t n = 200000;
    const int fan_in = 48;
    float *w = xmalloc_floats(n);
    Rng r;
    rng_seed(&r, 11);
    if (bias) init_bias_uniform(w, n, fan_in, &r);
    else init_kaiming_uniform(w, n, fan_in, &r);
    double bound = 1.0 / sqrt(fan_in), s = 0, s2 = 0, mx = 0;
    int inside = 1;
    for (size_t i = 0; i < n; i++) {
        inside &= fabs(w[i]) <= bound;
        s += w[i];
        s2 += (double)w[i] * w[i];
        if (fabs(w[i]) > mx) mx = fabs(w[i]);
    }
    double mean = s / n, var = s2 / n - mean * mean, want = bound * bound / 3;
    const char *name = bias ? "bias_uniform" : "kaiming_uniform";
    printf("  %-16s fan_in=%d bound=%.5f max=%.5f mean=%.2g var/(bound^2/3)=%.4f\n", name, fan_in,
           bound, mx, mean, var / want);
    EXPECT(inside, "%s: all within 1/sqrt(fan_in) = %.5f", name, bound);
    EXPECT(mx > 0.99 * bound, "%s: reaches the bound (max %.5f)", name, mx);
    EXPECT(fabs(mean) < 0.01 * bound, "%s: mean %.3g ~ 0", name, mean);
    EXPECT(fabs(var / want - 1) < 0.02, "%s: var %.6g want bound^2/3 = %.6g", name, var, want);
    free(w);
}

// max |(W W^T or W^T W) - gain^2 I| over the smaller Gram matrix
static double ortho_err(const float *w, int rows, int cols, float gain) {
    int k = rows <= cols ? rows : cols;
    double err = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            double acc = 0;
            if (rows <= cols) for (int c = 0; c < cols; c++) acc += (double)w[i * cols + c] * w[j * cols + c];
            else for (int r = 0; r < rows; r++) acc += (double)w[r * cols + i] * w[r * cols + j];
            double want = i == j ? (double)gain * gain : 0.0;
            if (fabs(acc - want) > err) err = fabs(acc - want);
        }
    return err;
}

static void test_orthogonal(void) {
    static const int shapes[][2] = {{8, 20}, {20, 8}, {16, 16}, {1, 5}, {5, 1}, {64, 32}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int rows = shapes[s][0], cols = shapes[s][1];
        for (int gi = 0; gi < 2; gi++) {
            float gain = gi ? 2.0f : 1.0f;
            float *w = xmalloc_floats((size_t)rows * cols);
            Rng r;
            rng_seed(&r, 100 + s);
            init_orthogonal(w, rows, cols, gain, &r);
            double e = ortho_err(w, rows, cols, gain);
            printf("  orthogonal %3dx%-3d gain %g: max |Gram - gain^2 I| = %.3g\n", rows, cols, gain, e);
            EXPECT(e < 1e-5 * gain * gain, "orthogonal %dx%d gain %g: max |Gram - gain^2 I| = %.3g",
                   rows, cols, gain, e);
            free(w);
        }
    }
    // square: both W W^T and W^T W are I
    float w[36];
    Rng r;
    rng_seed(&r, 5);
    init_orthogonal(w, 6, 6, 1.0f, &r);
    double e1 = ortho_err(w, 6, 6, 1.0f);
    float wt[36];
    for (int i = 0; i < 6; i++) for (int j = 0; j < 6; j++) wt[i * 6 + j] = w[j * 6 + i];
    double e2 = ortho_err(wt, 6, 6, 1.0f);
    EXPECT(e1 < 1e-6 && e2 < 1e-6, "orthogonal 6x6: W W^T = W^T W = I (%.3g, %.3g)", e1, e2);
    // seeded: same seed same matrix, other seed differs
    float a[24], b[24], c[24];
    Rng ra, rb, rc;
    rng_seed(&ra, 9); rng_seed(&rb, 9); rng_seed(&rc, 10);
    init_orthogonal(a, 4, 6, 1.0f, &ra);
    init_orthogonal(b, 4, 6, 1.0f, &rb);
    init_orthogonal(c, 4, 6, 1.0f, &rc);
    int same = 1, differ = 0;
    for (int i = 0; i < 24; i++) { same &= a[i] == b[i]; differ |= a[i] != c[i]; }
    EXPECT(same && differ, "orthogonal is a function of the Rng state");
    // Haar distribution (sign fix): entries of a 1 x n orthogonal row have mean ~0 over draws
    double s = 0;
    Rng rr;
    rng_seed(&rr, 77);
    for (int k = 0; k < 2000; k++) { float x[3]; init_orthogonal(x, 3, 1, 1.0f, &rr); s += x[0]; }
    EXPECT(fabs(s / 2000) < 0.05, "orthogonal column entries are symmetric (mean %.3f)", s / 2000);
}

int main(void) {
    test_uniform(0);
    test_uniform(1);
    test_orthogonal();
    float x[7];
    init_constant(x, 7, 0.25f);
    int ok = 1;
    for (int i = 0; i < 7; i++) ok &= x[i] == 0.25f;
    EXPECT(ok, "init_constant");
    return test_summary();
}
