/*
 * test_conv_same.c - the column blocks of the shifted-GEMM "same" conv (nn/conv_same.c, path
 * CONV_SHIFT) at batches that split into several blocks and threads:
 *   1. forward, input gradient, weight and bias gradients equal im2col + GEMM's (CONV_GEMM) to
 *      float rounding, for 3x3 on 10x10 (the conv dynamics' grid, 6 samples a block) and 30x32
 *      (one sample a block), 1x1 (the latent's convs), ReLU and none, dinp set / add / masked;
 *   2. the forward is bit-identical at 1 thread and at all threads (each output's sum runs over
 *      the channels and taps in one order whatever the blocks), the gradients agree to rounding;
 *   3. central differences of a scalar loss through forward (sigmoid) and backward at a batch of
 *      several blocks: every weight and bias, every 7th input.
 */
#include "nn/conv.h"
#include "nn/conv_same.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/threads.h"
#include "tests/test.h"
#include "tests/fixture_h5.h"
#include "tests/gradcheck.h"
#include "tests/conv_check.h"

#include <string.h>

static void test_against_gemm(int C, int OC, int H, int W, int K, int B, Rng *rng) {
    ConvShape s = conv2d_shape(C, H, W, OC, K, 1, K / 2);
    EXPECT(conv_same_fits(&s), "CONV_SHIFT takes %dx%d K%d", H, W, K);
    const size_t ni = (size_t)B * C * H * W, no = (size_t)B * OC * H * W, nw = (size_t)OC * C * K * K;
    float *x = randn(rng, ni, 1.0f), *w = randn(rng, nw, 0.2f), *b = randn(rng, OC, 0.5f), *g = randn(rng, no, 1.0f);
    float *work = xmalloc_floats(conv2d_workspace(&s, B));
    Grads ref = grads_new(no, ni, nw, OC), got = grads_new(no, ni, nw, OC), one = grads_new(no, ni, nw, OC);
    const ConvPlan gemm_plan = {CONV_GEMM, CONV_GEMM, CONV_GEMM}, shift = {CONV_SHIFT, CONV_SHIFT, CONV_SHIFT};
    const int nt = omp_threads();
    for (int act = 0; act < 2; act++)
        for (int flags = 0; flags < 4; flags++) {
            const int a = act ? CONV_ACT_RELU : CONV_ACT_NONE;
            conv_run(&ref, &gemm_plan, x, w, b, g, a, flags, B, &s, work);
            conv_run(&got, &shift, x, w, b, g, a, flags, B, &s, work);
            omp_use_threads(1);
            conv_run(&one, &shift, x, w, b, g, a, flags, B, &s, work);
            omp_use_threads(nt);
            char name[128];
            snprintf(name, sizeof name, "%dx%dx%d->%d K%d B%d act %d flags %d fwd", C, H, W, OC, K, B, act, flags);
            expect_close(name, got.y, ref.y, (long)no, 1e-5, 1e-5);
            EXPECT(memcmp(got.y, one.y, no * sizeof(float)) == 0, "%s: %d threads == 1 thread, bit for bit", name, nt);
            expect_close("  dinp", got.dx, ref.dx, (long)ni, 1e-5, 1e-5);
            expect_close("  dw", got.dw, ref.dw, (long)nw, 1e-4, 1e-5);
            expect_close("  db", got.db, ref.db, OC, 1e-4, 1e-5);
            expect_close("  dinp at 1 thread", one.dx, got.dx, (long)ni, 1e-5, 1e-5);
            expect_close("  dw at 1 thread", one.dw, got.dw, (long)nw, 1e-4, 1e-5);
        }
    grads_free(&ref), grads_free(&got), grads_free(&one);
    free(x), free(w), free(b), free(g), free(work);
}

// L = sum r * sigmoid(conv(x)) through CONV_SHIFT, in double (smooth: a ReLU's kinks among ~5000
// pre-activations would put a few inside any usable eps)
static void test_fd(Rng *rng) {
    const int B = 11, C = 6, OC = 5, H = 10, W = 10;   // 144 padded columns a sample: several blocks
    printf("CONV_SHIFT central differences, %dx%dx%d->%d K3 B%d\n", C, H, W, OC, B);
    const ConvPlan shift = {CONV_SHIFT, CONV_SHIFT, CONV_SHIFT};
    conv_fd_check(&shift, B, C, OC, H, W, 7, 1e-3, rng);
}

int main(void) {
    Rng rng;
    rng_seed(&rng, 23);
    printf("CONV_SHIFT column blocks vs im2col + GEMM (%d threads)\n", omp_threads());
    test_against_gemm(24, 64, 10, 10, 3, 13, &rng);   // conv dynamics' input layer, blocks of 6 samples
    test_against_gemm(64, 16, 10, 10, 3, 7, &rng);    // its output layer
    test_against_gemm(9, 12, 30, 32, 3, 3, &rng);     // a sample a block
    test_against_gemm(7, 10, 15, 16, 3, 5, &rng);     // the 240x256 model's latent grid (odd rows)
    test_against_gemm(3, 4, 9, 7, 5, 4, &rng);        // K = 5: two rows and columns of shared zeros
    test_against_gemm(32, 16, 10, 10, 1, 9, &rng);    // the latent's 1x1 conv
    test_against_gemm(8, 8, 10, 10, 3, 1, &rng);      // batch 1: one block on the calling thread
    test_fd(&rng);
    return test_summary();
}
