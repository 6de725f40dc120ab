/*
 * test_dyn_conv_il.c - the conv dynamics' hidden activations in conv_wino3.h's interleaved layout
 * (nn/dyn_conv.c keeps hs so at batches that run on Winograd F(4x4, 3x3)): two models with the
 * same weights, one forced to NCHW (no_interleave), step for step over 2 rollout steps (the second
 * step's slice of hs too), at 1 and 2 threads, batches of 17 (a partial group), 32 and 40 on
 * 10x10 with a delta head and a history of 2 and with a VAE head, and 17 on 30x32 (chunks of
 * tile rows): head, z', the parameter gradients and
 * dLoss/dz bit for bit (the biases of conv_in and the blocks within 1e-4: their output gradient
 * is interleaved, summed by sample instead of by position); and the interleaved layout is the
 * one in use (sample 1's first value sits at lane 1 of the group's plane).
 */
#include <stdlib.h>
#include <string.h>

#include "nn/dyn_conv.h"
#include "nn/model.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "tests/test.h"
#ifdef _OPENMP
#include <omp.h>
#endif

static void randn(float *x, size_t n, Rng *r, float s) {
    for (size_t i = 0; i < n; i++) x[i] = s * rng_normal(r);
}

static void run(ConvDyn *m, const float *z, const float *a, const float *dh, float *dz, int B, int T) {
    arena_zero_grad(&m->arena);
    for (int t = 0; t < T; t++) cdyn_forward_step(m, t, t == 0 || m->cfg.vae ? z : cdyn_znext(m, t - 1), a, B);
    memset(dz, 0, sizeof(float) * (size_t)B * m->Z);
    for (int t = T - 1; t >= 0; t--) cdyn_backward_step(m, t, dh + (size_t)t * B * m->OUT, NULL, dz, B);
}

static void compare(int vae, int history, int B, int nt, int h, int w) {
    Err err;
    ConvDynConfig c = {4, h, w, 3, 32, 2, 2, vae, 1, history, {0}, 0};
    const int T = 2;
    ConvDyn one, two;
    Rng r1, r2, rd;
    rng_seed(&r1, 7), rng_seed(&r2, 7), rng_seed(&rd, 11);
    CHECK(cdyn_init(&one, &c, 48, &r1, &err) == 0, "%s", err.msg);
    CHECK(cdyn_init(&two, &c, 48, &r2, &err) == 0, "%s", err.msg);
    two.no_interleave = 1;
    randn(one.arena.params + one.arena.t[one.i_out].offset, (size_t)one.OC * 32 * 9, &rd, 0.05f);   // not zero
    memcpy(two.arena.params, one.arena.params, sizeof(float) * one.arena.n);
    const size_t nz = (size_t)B * one.Z;
    float *z = xmalloc_floats(nz), *a = xmalloc_floats((size_t)B * 3), *dh = xmalloc_floats((size_t)T * B * one.OUT);
    float *hist = xmalloc_floats(nz * (history ? history : 1)), *dz1 = xmalloc_floats(nz), *dz2 = xmalloc_floats(nz);
    randn(z, nz, &rd, 1.0f), randn(a, (size_t)B * 3, &rd, 1.0f), randn(dh, (size_t)T * B * one.OUT, &rd, 1.0f);
    randn(hist, nz * (history ? history : 1), &rd, 1.0f);
    one.hist = two.hist = hist;
#ifdef _OPENMP
    omp_set_num_threads(nt);
#endif
    run(&one, z, a, dh, dz1, B, T);
    run(&two, z, a, dh, dz2, B, T);
    char name[96];
    snprintf(name, sizeof name, "%dx%d vae %d history %d B %d, %d threads", h, w, vae, history, B, nt);
    const size_t HH = (size_t)32 * one.HW;
    EXPECT(one.hs[0][1] == two.hs[0][HH] && one.hs[0][HH] != two.hs[0][HH],
           "%s: hs interleaved (sample 1 at lane 1) in one, NCHW in the other", name);
    for (int t = 0; t < T; t++) {
        EXPECT(memcmp(cdyn_head(&one, t), cdyn_head(&two, t), sizeof(float) * (size_t)B * one.OUT) == 0,
               "%s: head step %d bit for bit", name, t);
        if (!vae)
            EXPECT(memcmp(cdyn_znext(&one, t), cdyn_znext(&two, t), sizeof(float) * nz) == 0,
                   "%s: z' step %d bit for bit", name, t);
    }
    for (int i = 0; i < one.arena.n_tensors; i++) {   // the conv biases whose output gradient is interleaved: close
        const TensorInfo *at = &one.arena.t[i];
        const int db_il = i == one.i_in + 1 || (i > one.i_blk && i < one.i_out && (i - one.i_blk) % 2 == 1);
        if (db_il)
            expect_close(at->name, one.arena.grads + at->offset, two.arena.grads + at->offset, (long)at->n, 1e-4,
                         1e-4);
        else
            EXPECT(memcmp(one.arena.grads + at->offset, two.arena.grads + at->offset, sizeof(float) * at->n) == 0,
                   "%s: %s's gradient bit for bit", name, at->name);
    }
    EXPECT(memcmp(dz1, dz2, sizeof(float) * nz) == 0, "%s: dLoss/dz bit for bit", name);
    free(z), free(a), free(dh), free(hist), free(dz1), free(dz2);
    cdyn_free(&one), cdyn_free(&two);
}

int main(void) {
    printf("conv dynamics: hs interleaved (Winograd batches) == NCHW, bit for bit\n");
    for (int nt = 1; nt <= 2; nt++)
        for (int i = 0; i < 3; i++) {
            const int B = i == 0 ? 17 : i == 1 ? 32 : 40;
            compare(0, 2, B, nt, 10, 10);
            compare(1, 0, B, nt, 10, 10);
        }
    for (int nt = 1; nt <= 2; nt++) compare(0, 1, 17, nt, 30, 32);   // chunks of tile rows
    return test_summary();
}
