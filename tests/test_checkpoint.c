/*
 * test_checkpoint.c - nn/checkpoint.c: bit-exact save/load round trips (params, Adam m and v,
 * step, epoch, RNG state, extra attributes) for both models; one-line errors for a wrong
 * shape, a missing or unexpected tensor, a wrong model kind, a truncated file, a file that
 * is not a checkpoint, an unwritable path.
 *
 * Modes used by tests/test_torch_checkpoint.py (PyTorch interchange):
 *   test_checkpoint --export DIR   writes nemu_{ae,dyn}.h5 checkpoints and nemu_{ae,dyn}_io.h5
 *                                  (inputs and nemu's outputs) for PyTorch to check
 *   test_checkpoint --import DIR   loads torch_{ae,dyn}.h5 (state_dicts written by PyTorch),
 *                                  runs nemu on torch_{ae,dyn}_io.h5 inputs and compares
 *                                  with PyTorch's outputs there
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/checkpoint.h"
#include "base/h5.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "nn/finite.h"
#include "nn/model.h"
#include "tests/fixture_h5.h"
#include "tests/torch_io.h"
#include "tests/test.h"

static const AEConfig AE_CFG = {.H = 32, .W = 48, .C = 3, .stages = 3, .base_channels = 8, .latent_dim = 16,
                                .latent_noise = 0.05f};
static const DynConfig DYN_CFG = {.latent_dim = 16, .n_actions = 8, .hidden = 32, .max_steps = 2};

static void fill(float *x, size_t n, Rng *rng, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = rng_uniformf(rng, lo, hi);
}

static int one_line(const char *s) { return s[0] && !strchr(s, '\n'); }

static void test_round_trip(const char *dir) {
    char path[1024], tmp[1100];
    snprintf(path, sizeof path, "%s/ae.h5", dir);
    Rng rng;
    rng_seed(&rng, 5);
    Err err = {{0}};
    AE a, b;
    CHECK(ae_init(&a, &AE_CFG, 2, &rng, &err) == 0, "%s", err.msg);
    CHECK(ae_init(&b, &AE_CFG, 2, &rng, &err) == 0, "%s", err.msg);   // other weights
    fill(a.arena.m, a.arena.n, &rng, -1, 1);
    fill(a.arena.v, a.arena.n, &rng, 0, 1);
    CkptMeta meta, got;
    ckpt_meta_init(&meta, NULL);
    ckpt_meta_ae(&meta, &AE_CFG);
    meta.step = 1234;
    meta.epoch = 7;
    meta.has_rng = 1;
    for (int i = 0; i < 3; i++) rng_u64(&rng);
    meta.rng = rng;
    ckpt_set_str(&meta, "config_hash", "9f3a77c1");
    ckpt_set_f64(&meta, "best_val_loss", 0.0123456789);
    ckpt_set_i64(&meta, "seed", 42);
    int rc = checkpoint_save(path, &a.arena, &meta, &err);
    EXPECT(rc == 0, "save: %s", err.msg);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    EXPECT(access(tmp, F_OK) != 0, "no .tmp file left after saving");
    rc = checkpoint_load(path, &b.arena, "autoencoder", &got, &err);
    EXPECT(rc == 0, "load: %s", err.msg);
    EXPECT(memcmp(a.arena.params, b.arena.params, a.arena.n * sizeof(float)) == 0, "params bit-exact");
    EXPECT(memcmp(a.arena.m, b.arena.m, a.arena.n * sizeof(float)) == 0, "Adam m bit-exact");
    EXPECT(memcmp(a.arena.v, b.arena.v, a.arena.n * sizeof(float)) == 0, "Adam v bit-exact");
    EXPECT(got.step == 1234 && got.epoch == 7 && got.has_optimizer, "step %ld epoch %ld", got.step, got.epoch);
    EXPECT(got.has_rng && memcmp(&got.rng, &rng, sizeof rng) == 0, "RNG state restored");
    Rng r1 = rng, r2 = got.rng;
    EXPECT(rng_u64(&r1) == rng_u64(&r2), "restored RNG continues the same stream");
    const CkptAttr *h = ckpt_get(&got, "config_hash"), *bv = ckpt_get(&got, "best_val_loss"), *sd = ckpt_get(&got, "seed");
    EXPECT(h && h->type == CKPT_STR && strcmp(h->s, "9f3a77c1") == 0, "string attribute");
    EXPECT(bv && bv->type == CKPT_F64 && bv->f == 0.0123456789, "float attribute");
    EXPECT(sd && sd->type == CKPT_I64 && sd->i == 42, "integer attribute");
    AEConfig c;
    EXPECT(ckpt_meta_to_ae_config(&got, &c, &err) == 0 && memcmp(&c, &AE_CFG, sizeof c) == 0,
           "config from checkpoint attributes: %s", err.msg);
    CkptMeta only;
    EXPECT(checkpoint_read_meta(path, &only, &err) == 0 && strcmp(only.model, "autoencoder") == 0 && only.step == 1234,
           "checkpoint_read_meta");

    // same outputs after loading (weights really in use)
    size_t nx = 2 * 3 * 32 * 48;
    float *x = xmalloc_floats(nx), *ra = xmalloc_floats(nx);
    fill(x, nx, &rng, 0, 1);
    ae_forward(&a, x, 2, NULL);
    memcpy(ra, a.recon, nx * sizeof(float));
    ae_forward(&b, x, 2, NULL);
    EXPECT(memcmp(ra, b.recon, nx * sizeof(float)) == 0, "loaded model gives identical reconstructions");
    free(x); free(ra);

    // saving again over an existing file replaces it atomically
    meta.epoch = 8;
    EXPECT(checkpoint_save(path, &a.arena, &meta, &err) == 0, "re-save: %s", err.msg);
    EXPECT(checkpoint_read_meta(path, &only, &err) == 0 && only.epoch == 8, "re-saved epoch 8");

    // dynamics round trip
    Dyn d, e;
    CHECK(dyn_init(&d, &DYN_CFG, 2, &rng, &err) == 0, "%s", err.msg);
    CHECK(dyn_init(&e, &DYN_CFG, 2, &rng, &err) == 0, "%s", err.msg);
    fill(d.arena.m, d.arena.n, &rng, -1, 1);
    fill(d.arena.v, d.arena.n, &rng, 0, 1);
    CkptMeta dm;
    ckpt_meta_init(&dm, NULL);
    ckpt_meta_dyn(&dm, &DYN_CFG);
    dm.step = 99;
    snprintf(path, sizeof path, "%s/dyn.h5", dir);
    EXPECT(checkpoint_save(path, &d.arena, &dm, &err) == 0, "dyn save: %s", err.msg);
    EXPECT(checkpoint_load(path, &e.arena, "dynamics", &got, &err) == 0, "dyn load: %s", err.msg);
    EXPECT(memcmp(d.arena.params, e.arena.params, d.arena.n * sizeof(float)) == 0 &&
           memcmp(d.arena.m, e.arena.m, d.arena.n * sizeof(float)) == 0 &&
           memcmp(d.arena.v, e.arena.v, d.arena.n * sizeof(float)) == 0 && got.step == 99 && !got.has_rng,
           "dynamics params, m, v, step bit-exact");
    DynConfig dc;
    EXPECT(ckpt_meta_to_dyn_config(&got, &dc, &err) == 0 && dc.latent_dim == 16 && dc.n_actions == 8 && dc.hidden == 32,
           "dynamics config from attributes");

    // loading the dynamics file as an autoencoder
    rc = checkpoint_load(path, &b.arena, "autoencoder", &got, &err);
    EXPECT(rc == -1 && strstr(err.msg, "'dynamics'") && one_line(err.msg), "wrong model kind: %s", err.msg);
    printf("  wrong kind:   %s\n", err.msg);
    dyn_free(&d); dyn_free(&e);
    ae_free(&a); ae_free(&b);
}

// A good checkpoint of arena saved as dir/name (its path in bad) and opened for writing, to be spoiled.
static hid_t saved_open(const char *dir, const char *name, char *bad, size_t cap, const ParamArena *arena,
                        const CkptMeta *meta) {
    Err err = {{0}};
    snprintf(bad, cap, "%s/%s", dir, name);
    CHECK(checkpoint_save(bad, arena, meta, &err) == 0, "%s", err.msg);
    hid_t f = h5_open(bad, 1, &err);
    CHECK(f >= 0, "%s", err.msg);
    return f;
}

static void test_errors(const char *dir) {
    char path[1024], bad[1100];
    snprintf(path, sizeof path, "%s/ae.h5", dir);   // written by test_round_trip
    Rng rng;
    rng_seed(&rng, 6);
    Err err = {{0}};
    CkptMeta got;
    // wrong shape: latent 8 instead of 16
    AEConfig c8 = AE_CFG;
    c8.latent_dim = 8;
    AE m;
    CHECK(ae_init(&m, &c8, 1, &rng, &err) == 0, "%s", err.msg);
    float *before = xmalloc_floats(m.arena.n);
    memcpy(before, m.arena.params, m.arena.n * sizeof(float));
    int rc = checkpoint_load(path, &m.arena, "autoencoder", &got, &err);
    EXPECT(rc == -1 && strstr(err.msg, "fc_enc.weight") && strstr(err.msg, "expected shape [8,768], found [16,768]") &&
           one_line(err.msg), "shape mismatch: %s", err.msg);
    printf("  shape:        %s\n", err.msg);
    EXPECT(memcmp(before, m.arena.params, m.arena.n * sizeof(float)) == 0, "a failed load leaves the weights alone");
    free(before);
    ae_free(&m);

    AE a;
    CHECK(ae_init(&a, &AE_CFG, 1, &rng, &err) == 0, "%s", err.msg);
    // missing tensor
    CkptMeta meta;
    ckpt_meta_init(&meta, NULL);
    ckpt_meta_ae(&meta, &AE_CFG);
    hid_t f = saved_open(dir, "missing.h5", bad, sizeof bad, &a.arena, &meta);
    H5Ldelete(f, "/state_dict/decoder_conv.2.bias", H5P_DEFAULT);
    h5_close(f);
    rc = checkpoint_load(bad, &a.arena, "autoencoder", &got, &err);
    EXPECT(rc == -1 && strstr(err.msg, "decoder_conv.2.bias") && strstr(err.msg, "missing") && one_line(err.msg),
           "missing tensor: %s", err.msg);
    printf("  missing:      %s\n", err.msg);

    // unexpected tensor
    f = saved_open(dir, "extra.h5", bad, sizeof bad, &a.arena, &meta);
    float one = 1;
    hsize_t d1 = 1;
    CHECK(h5_write_floats(f, "/state_dict/fc_mu.weight", &one, 1, &d1, &err) == 0, "%s", err.msg);
    h5_close(f);
    rc = checkpoint_load(bad, &a.arena, "autoencoder", &got, &err);
    EXPECT(rc == -1 && strstr(err.msg, "unexpected tensor") && strstr(err.msg, "fc_mu.weight") && one_line(err.msg),
           "unexpected tensor: %s", err.msg);
    printf("  unexpected:   %s\n", err.msg);

    // truncated file: the first half of a good checkpoint
    snprintf(bad, sizeof bad, "%s/truncated.h5", dir);
    FILE *in = xfopen(path, "rb"), *out = xfopen(bad, "wb");
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    fseek(in, 0, SEEK_SET);
    char *buf = xmalloc((size_t)size);
    CHECK(fread(buf, 1, (size_t)size, in) == (size_t)size, "read %s", path);
    fwrite(buf, 1, (size_t)size / 2, out);
    fclose(in);
    fclose(out);
    free(buf);
    rc = checkpoint_load(bad, &a.arena, "autoencoder", &got, &err);
    EXPECT(rc == -1 && strstr(err.msg, "truncated.h5") && one_line(err.msg), "truncated file: %s", err.msg);
    printf("  truncated:    %s\n", err.msg);

    // an HDF5 file that is not a checkpoint, and a file that is not HDF5
    fixture_path("model_dyn.h5", bad, sizeof bad);
    rc = checkpoint_load(bad, &a.arena, "autoencoder", &got, &err);
    EXPECT(rc == -1 && strstr(err.msg, "not a nemu checkpoint") && one_line(err.msg), "not a checkpoint: %s", err.msg);
    printf("  not ckpt:     %s\n", err.msg);
    snprintf(bad, sizeof bad, "%s/text.h5", dir);
    out = xfopen(bad, "w");
    fputs("hello\n", out);
    fclose(out);
    rc = checkpoint_load(bad, &a.arena, "autoencoder", &got, &err);
    EXPECT(rc == -1 && strstr(err.msg, "text.h5") && one_line(err.msg), "not HDF5: %s", err.msg);
    printf("  not hdf5:     %s\n", err.msg);

    // unwritable path: error, nothing left behind
    snprintf(bad, sizeof bad, "%s/no/such/dir/ae.h5", dir);
    rc = checkpoint_save(bad, &a.arena, &meta, &err);
    EXPECT(rc == -1 && strstr(err.msg, "no/such/dir") && one_line(err.msg), "unwritable: %s", err.msg);
    printf("  unwritable:   %s\n", err.msg);

    // a state_dict without optimizer state loads with m = v = 0 and step 0
    meta.step = 50;
    fill(a.arena.m, a.arena.n, &rng, -1, 1);
    f = saved_open(dir, "noopt.h5", bad, sizeof bad, &a.arena, &meta);
    H5Ldelete(f, "/optimizer", H5P_DEFAULT);
    h5_close(f);
    rc = checkpoint_load(bad, &a.arena, "autoencoder", &got, &err);
    EXPECT(rc == 0 && !got.has_optimizer && got.step == 0 && a.arena.m[0] == 0 && a.arena.v[a.arena.n - 1] == 0,
           "no /optimizer: fresh Adam state (%s)", err.msg);
    ae_free(&a);
}

// ---------------------------------------------------------------- PyTorch interchange

static int export_dir(const char *dir) {
    char path[1024];
    Rng rng;
    rng_seed(&rng, 77);
    Err err;
    hsize_t dz[2] = {2, 16};
    export_ae(dir, "nemu_ae", &AE_CFG, 2, &rng, 2, dz);
    CkptMeta meta;
    Dyn d;
    CHECK(dyn_init(&d, &DYN_CFG, 4, &rng, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < d.arena.n; i++) d.arena.params[i] += 0.05f * rng_normal(&rng);   // non-trivial LN, bias
    ckpt_meta_init(&meta, NULL);
    ckpt_meta_dyn(&meta, &DYN_CFG);
    save_in(dir, "nemu_dyn.h5", &d.arena, &meta);
    float z[4 * 16], act[4 * 8] = {0};
    for (int i = 0; i < 4 * 16; i++) z[i] = rng_normal(&rng);
    for (int b = 0; b < 4; b++) act[b * 8 + rng_below(&rng, 8)] = 1;
    dyn_forward_step(&d, 0, z, act, 4);
    hsize_t d16[2] = {4, 16}, d8[2] = {4, 8};
    write_io(in_dir(path, dir, "nemu_dyn_io.h5"), "z", z, 2, d16, "a", act, 2, d8, "delta", dyn_delta(&d, 0), 2, d16);
    dyn_free(&d);
    printf("exported nemu checkpoints to %s\n", dir);
    return 0;
}

static int import_dir(const char *dir) {
    AEConfig c = import_ae_check(dir, "torch_ae", "autoencoder");
    EXPECT(c.latent_channels == 0, "torch checkpoint read as flat");
    char path[1024];
    Err err;
    CkptMeta meta;
    Rng rng;
    rng_seed(&rng, 1);
    // dynamics
    snprintf(path, sizeof path, "%s/torch_dyn.h5", dir);
    DynConfig dc;
    EXPECT(checkpoint_read_meta(path, &meta, &err) == 0 && ckpt_meta_to_dyn_config(&meta, &dc, &err) == 0,
           "torch dynamics attributes: %s", err.msg);
    hid_t f = open_in(dir, "torch_dyn_io.h5");
    size_t nz, na, nd;
    float *zz = read_all(f, "z", &nz), *act = read_all(f, "a", &na), *delta = read_all(f, "delta", &nd);
    h5_close(f);
    int B = (int)(nz / (size_t)dc.latent_dim);
    Dyn d;
    CHECK(dyn_init(&d, &dc, B, &rng, &err) == 0, "%s", err.msg);
    snprintf(path, sizeof path, "%s/torch_dyn.h5", dir);
    EXPECT(checkpoint_load(path, &d.arena, "dynamics", &meta, &err) == 0, "load torch dynamics: %s", err.msg);
    dyn_forward_step(&d, 0, zz, act, B);
    expect_close("torch->nemu dynamics delta", dyn_delta(&d, 0), delta, (long)nd, 1e-6, 1e-4);
    free(zz); free(act); free(delta);
    dyn_free(&d);
    return test_summary();
}

// Issue #16 class 4: first_nonfinite finds the first NaN/Inf in any block; a checkpoint with a
// non-finite weight or Adam value is neither written (the old file stays) nor loaded.
static void test_nonfinite(const char *dir) {
    float x[3000];
    for (int i = 0; i < 3000; i++) x[i] = (float)i;
    EXPECT(first_nonfinite(x, 3000) == 3000, "all finite");
    const float bad[3] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++)
        for (size_t at = 0; at < 3000; at += 1023) {
            x[at] = bad[k];
            x[2999] = bad[(k + 1) % 3];
            EXPECT(first_nonfinite(x, 3000) == at, "non-finite %d at %zu found at %zu", k, at, first_nonfinite(x, 3000));
            x[at] = 1.0f, x[2999] = 1.0f;
        }
    x[5] = 3.4e38f * 10.0f;   // overflow to +Inf
    EXPECT(first_nonfinite(x, 6) == 5, "overflow to Inf");
    char path[1024];
    snprintf(path, sizeof path, "%s/ae.h5", dir);
    Rng rng;
    rng_seed(&rng, 9);
    Err err = {{0}};
    AE a;
    CHECK(ae_init(&a, &AE_CFG, 2, &rng, &err) == 0, "%s", err.msg);
    CkptMeta meta, got;
    ckpt_meta_init(&meta, NULL);
    ckpt_meta_ae(&meta, &AE_CFG);
    EXPECT(checkpoint_save(path, &a.arena, &meta, &err) == 0, "save a finite model: %s", err.msg);
    const TensorInfo *t = arena_find(&a.arena, "fc_enc.weight");
    a.arena.v[t->offset + 7] = NAN;
    EXPECT(checkpoint_save(path, &a.arena, &meta, &err) == -1 && one_line(err.msg) &&
           strstr(err.msg, "not writing") && strstr(err.msg, "optimizer/exp_avg_sq/fc_enc.weight") &&
           strstr(err.msg, "NaN at flat index 7"), "refuses to write a NaN in Adam's v: %s", err.msg);
    EXPECT(checkpoint_load(path, &a.arena, "autoencoder", &got, &err) == 0, "the earlier file is intact: %s", err.msg);
    // write a NaN weight into the file behind nemu's back: the load names file and tensor
    hid_t f = h5_open(path, 1, &err);
    CHECK(f >= 0, "%s", err.msg);
    hsize_t dims[4];
    int r = h5_shape(f, "/state_dict/fc_enc.weight", dims, &err);
    float *w = xmalloc_floats(t->n);
    CHECK(h5_read_floats(f, "/state_dict/fc_enc.weight", w, r, dims, &err) == 0, "%s", err.msg);
    w[3] = -INFINITY;
    CHECK(H5Ldelete(f, "/state_dict/fc_enc.weight", H5P_DEFAULT) >= 0, "unlink");
    CHECK(h5_write_floats(f, "/state_dict/fc_enc.weight", w, r, dims, &err) == 0, "%s", err.msg);
    h5_close(f);
    free(w);
    EXPECT(checkpoint_load(path, &a.arena, "autoencoder", &got, &err) == -1 && one_line(err.msg) &&
           strstr(err.msg, path) && strstr(err.msg, "state_dict/fc_enc.weight") && strstr(err.msg, "-Inf"),
           "load refuses a -Inf weight: %s", err.msg);
    ae_free(&a);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--export") == 0) return export_dir(argv[2]);
    if (argc == 3 && strcmp(argv[1], "--import") == 0) return import_dir(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--export DIR | --import DIR]\n", argv[0]);
        return 2;
    }
    char dir[] = "/tmp/nemu_test_ckpt_XXXXXX";
    CHECK(mkdtemp(dir), "mkdtemp");
    test_round_trip(dir);
    test_errors(dir);
    test_nonfinite(dir);
    const char *names[] = {"ae.h5", "dyn.h5", "missing.h5", "extra.h5", "truncated.h5", "text.h5", "noopt.h5"};
    char path[1100];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return test_summary();
}
