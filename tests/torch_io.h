/*
 * torch_io.h - the checkpoint interchange with PyTorch that test_checkpoint.c (flat models)
 * and test_spatial.c (spatial models) both drive from Python (--export DIR / --import DIR):
 *   write_io():        three named float datasets into one new .h5 (a model's inputs and outputs);
 *   export_ae():       an autoencoder checkpoint DIR/<name>.h5 and DIR/<name>_io.h5 (x, recon, z)
 *                      of a forward on uniform random frames;
 *   import_ae_check(): loads DIR/<name>.h5 written by PyTorch, runs DIR/<name>_io.h5's x through
 *                      it and compares recon and z.
 * Header-only, like tests/test.h; include after tests/fixture_h5.h.
 */
#ifndef NEMU_TESTS_TORCH_IO_H
#define NEMU_TESTS_TORCH_IO_H

#include <stdio.h>
#include "base/h5.h"
#include "base/rng.h"
#include "nn/checkpoint.h"
#include "nn/model.h"
#include "tests/fixture_h5.h"
#include "tests/test.h"

// dir/name into path [1024]; returns path.
static inline char *in_dir(char *path, const char *dir, const char *name) {
    snprintf(path, 1024, "%s/%s", dir, name);
    return path;
}

// dir/name opened for reading; dies when it cannot be.
static inline hid_t open_in(const char *dir, const char *name) {
    char path[1024];
    Err err;
    hid_t f = h5_open(in_dir(path, dir, name), 0, &err);
    CHECK(f >= 0, "%s", err.msg);
    return f;
}

// The checkpoint of a (with meta) as dir/name.
static inline void save_in(const char *dir, const char *name, const ParamArena *a, const CkptMeta *meta) {
    char path[1024];
    Err err;
    CHECK(checkpoint_save(in_dir(path, dir, name), a, meta, &err) == 0, "%s", err.msg);
}

static inline void write_io(const char *path, const char *n1, const float *x1, int r1, const hsize_t *d1,
                            const char *n2, const float *x2, int r2, const hsize_t *d2,
                            const char *n3, const float *x3, int r3, const hsize_t *d3) {
    Err err;
    hid_t f = h5_create(path, &err);
    CHECK(f >= 0, "%s", err.msg);
    CHECK(h5_write_floats(f, n1, x1, r1, d1, &err) == 0 && h5_write_floats(f, n2, x2, r2, d2, &err) == 0 &&
          h5_write_floats(f, n3, x3, r3, d3, &err) == 0, "%s", err.msg);
    h5_close(f);
}

// dz: the dims of z (rank 2 [B, Z] for a flat latent, 4 [B, C, h, w] for a spatial one).
static inline void export_ae(const char *dir, const char *name, const AEConfig *cfg, int B, Rng *rng, int rz,
                             const hsize_t *dz) {
    char path[1024];
    Err err;
    AE a;
    CHECK(ae_init(&a, cfg, B, rng, &err) == 0, "%s", err.msg);
    CkptMeta meta;
    ckpt_meta_init(&meta, NULL);
    ckpt_meta_ae(&meta, cfg);
    snprintf(path, sizeof path, "%s/%s.h5", dir, name);
    CHECK(checkpoint_save(path, &a.arena, &meta, &err) == 0, "%s", err.msg);
    size_t nx = (size_t)B * cfg->C * cfg->H * cfg->W;
    float *x = xmalloc_floats(nx);
    for (size_t i = 0; i < nx; i++) x[i] = (float)rng_uniform(rng);
    ae_forward(&a, x, B, NULL);
    hsize_t dx[4] = {(hsize_t)B, (hsize_t)cfg->C, (hsize_t)cfg->H, (hsize_t)cfg->W};
    snprintf(path, sizeof path, "%s/%s_io.h5", dir, name);
    write_io(path, "x", x, 4, dx, "recon", a.recon, 4, dx, "z", a.z, rz, dz);
    free(x);
    ae_free(&a);
}

// what: "autoencoder" or "spatial autoencoder", in the messages. Returns the checkpoint's config.
static inline AEConfig import_ae_check(const char *dir, const char *name, const char *what) {
    char path[1024], label[128];
    Err err;
    CkptMeta meta;
    Rng rng;
    rng_seed(&rng, 1);
    snprintf(path, sizeof path, "%s/%s.h5", dir, name);
    AEConfig c;
    CHECK(checkpoint_read_meta(path, &meta, &err) == 0 && ckpt_meta_to_ae_config(&meta, &c, &err) == 0,
          "torch %s attributes: %s", what, err.msg);
    snprintf(path, sizeof path, "%s/%s_io.h5", dir, name);
    hid_t f = h5_open(path, 0, &err);
    CHECK(f >= 0, "%s", err.msg);
    size_t nx, nr, nz;
    float *x = read_all(f, "x", &nx), *recon = read_all(f, "recon", &nr), *z = read_all(f, "z", &nz);
    h5_close(f);
    int B = (int)(nx / ((size_t)c.C * c.H * c.W));
    AE a;
    CHECK(ae_init(&a, &c, B, &rng, &err) == 0, "%s", err.msg);
    snprintf(path, sizeof path, "%s/%s.h5", dir, name);
    EXPECT(checkpoint_load(path, &a.arena, "autoencoder", &meta, &err) == 0, "load torch %s: %s", what, err.msg);
    ae_forward(&a, x, B, NULL);
    snprintf(label, sizeof label, "torch->nemu %s recon", what);
    expect_close(label, a.recon, recon, (long)nr, 1e-6, 1e-4);
    snprintf(label, sizeof label, "torch->nemu %s z", what);
    expect_close(label, a.z, z, (long)nz, 1e-6, 1e-4);
    free(x); free(recon); free(z);
    ae_free(&a);
    return c;
}

#endif
