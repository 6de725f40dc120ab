/*
 * bench_decode.c - decode speed of the roadmap 2.2 autoencoders (issue #14): ae_decode of one
 * latent at batch 1, the call ./play and ./eval make per drawn frame, at 1 thread and at all
 * threads. The weights are random (the time does not depend on their values):
 *   decode80_lat32_b1_fps    flat, 80x80 grey, 3 stages of 32/64/128, latent 32 (tetris_ae.ini)
 *   decode80_lat64_b1_fps    latent 64 (tetris_latent64.ini)
 *   decode80_lat128_b1_fps   latent 128 (tetris_latent128.ini)
 *   decode80_st4_b1_fps      4 stages (.../256), latent 32 (tetris_stages4.ini)
 *   decode80_spatial_b1_fps  spatial, latent grid 16x10x10 (tetris_spatial_ae.ini)
 * CSV rows `name,value,unit,threads` (best repeat; `name_median` the median), budget as
 * bench_models (NEMU_BENCH_BUDGET_S, `quick` halves it). Roadmap 2.2's criterion: >= 30 frames/s.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/rng.h"
#include "bench/ae_step.h"
#include "bench/measure.h"
#include "nn/model.h"

typedef struct { AE *m; const float *z; float *out; } Dec;

static void decode1(void *p) {
    Dec *c = p;
    ae_decode(c->m, c->z, 1, c->out);
}

int main(int argc, char **argv) {
    int nt;
    const double budget = bench_start(argc, argv, "bench_decode", &nt);
    static const struct { const char *name; AEConfig cfg; } rows[] = {
        {"decode80_lat32", {80, 80, 1, 3, 32, 32, 0.0f, 0}},
        {"decode80_lat64", {80, 80, 1, 3, 32, 64, 0.0f, 0}},
        {"decode80_lat128", {80, 80, 1, 3, 32, 128, 0.0f, 0}},
        {"decode80_st4", {80, 80, 1, 4, 32, 32, 0.0f, 0}},
        {"decode80_spatial", {80, 80, 1, 3, 32, 0, 0.0f, 16}},
    };
    Rng rng;
    rng_seed(&rng, 42);
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        Err err;
        AE ae;
        if (ae_init(&ae, &rows[r].cfg, 1, &rng, &err) < 0) die("%s", err.msg);
        const int Z = ae.cfg.latent_dim;
        float *z = xmalloc_floats((size_t)Z), *out = xmalloc_floats((size_t)80 * 80);
        for (int i = 0; i < Z; i++) z[i] = rng_normal(&rng);
        Dec d = {&ae, z, out};
        int tl[2] = {1, nt};
        for (int i = 0; i < (nt > 1 ? 2 : 1); i++) {
            set_threads(tl[i]);
            Stat s = measure(decode1, &d, 1, 3, budget);
            printf("%s_b1_fps,%.6g,frames/s,%d\n%s_b1_fps_median,%.6g,frames/s,%d\n", rows[r].name, s.best, tl[i],
                   rows[r].name, s.median, tl[i]);
            fflush(stdout);
        }
        set_threads(nt);
        free(z), free(out);
        ae_free(&ae);
    }
    return 0;
}
