/*
 * fixture_h5.h - reading the PyTorch parity fixtures (the .h5 files in tests/fixtures/) in the C tests:
 * whole datasets, root attributes, a state_dict group into a ParamArena, every gradient
 * against a group, and the parity
 * tolerance the model tests share (1e-4 relative per element, plus 1e-5 of the tensor's
 * largest magnitude). Header-only, like tests/test.h.
 */
#ifndef NEMU_TESTS_FIXTURE_H5_H
#define NEMU_TESTS_FIXTURE_H5_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/h5.h"
#include "nn/model.h"   // ParamArena
#include "tests/test.h"

static inline const char *fixture(const char *name) {
    static char buf[1024];   // single-threaded test helper
    return fixture_path(name, buf, sizeof buf);
}

// Opens tests/fixtures/<name> for a parity test, printing its name; dies when it cannot.
static inline hid_t fixture_h5(const char *name) {
    printf("%s\n", name);
    Err err;
    hid_t f = h5_open(fixture(name), 0, &err);
    CHECK(f >= 0, "%s", err.msg);
    return f;
}

// Opens tests/fixtures/<name>: one counted check, which names the generator script (maker,
// may be NULL) when the file cannot be opened; returns the file or a negative id.
static inline hid_t fixture_open(const char *name, const char *maker) {
    Err err = {{0}};
    hid_t f = h5_open(fixture(name), 0, &err);
    EXPECT(f >= 0, "PyTorch fixture: %s%s%s%s", err.msg, maker ? " (make it with /usr/bin/python3 tests/" : "",
           maker ? maker : "", maker ? ")" : "");
    return f;
}

// The whole float dataset `name` of f (malloc'ed); *n_out (may be NULL) gets its size.
static inline float *read_all(hid_t f, const char *name, size_t *n_out) {
    Err err;
    int rank;
    hsize_t dims[H5_MAX_RANK];
    float *x = h5_read_floats_alloc(f, name, &rank, dims, &err);
    CHECK(x, "fixture: %s", err.msg);
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    if (n_out) *n_out = n;
    return x;
}

static inline int64_t attr_i(hid_t f, const char *name) {
    Err err;
    int64_t v;
    CHECK(h5_attr_read_i64(f, "/", name, &v, &err) == 0, "fixture: %s", err.msg);
    return v;
}

static inline double maxabs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

// Parity tolerance: 1e-4 relative per element, plus 1e-5 of the tensor's largest magnitude.
static inline void compare(const char *name, const float *got, const float *want, size_t n) {
    expect_close(name, got, want, (long)n, 1e-5 * maxabs(want, n) + 1e-9, 1e-4);
}

// Every tensor of a's table from <group>/<name> of f into a->params, sizes checked.
static inline void load_state_dict(hid_t f, ParamArena *a, const char *group) {
    char name[160];
    for (int i = 0; i < a->n_tensors; i++) {
        snprintf(name, sizeof name, "%s/%s", group, a->t[i].name);
        size_t n;
        float *x = read_all(f, name, &n);
        CHECK(n == a->t[i].n, "fixture %s: %zu floats, model %zu", name, n, a->t[i].n);
        memcpy(a->params + a->t[i].offset, x, n * sizeof(float));
        free(x);
    }
}

// Every gradient of a's table against <group>/<name> of f (compare's tolerance), sizes checked.
static inline void compare_grads(const ParamArena *a, hid_t f, const char *group) {
    char name[160];
    for (int i = 0; i < a->n_tensors; i++) {
        size_t n;
        snprintf(name, sizeof name, "%s/%s", group, a->t[i].name);
        float *want = read_all(f, name, &n);
        CHECK(n == a->t[i].n, "fixture %s: %zu floats, model %zu", name, n, a->t[i].n);
        compare(name, a->grads + a->t[i].offset, want, n);
        free(want);
    }
}

// got against the whole dataset `name` of f (its size: the dataset's).
static inline void compare_with(hid_t f, const char *name, const float *got) {
    size_t n;
    float *want = read_all(f, name, &n);
    compare(name, got, want, n);
    free(want);
}

// One step against the fixture: the output ("delta"), the loss ("loss") and every gradient
// ("grads/<name>") of a.
static inline void compare_step(hid_t f, const float *delta, float loss, const ParamArena *a) {
    compare_with(f, "delta", delta);
    compare_with(f, "loss", &loss);
    compare_grads(a, f, "grads");
}

// The losses of `steps` Adam steps against the fixture's "adam_losses" (one check), printed.
static inline void compare_adam_losses(hid_t f, const float *losses, int steps, double atol) {
    size_t n;
    float *want = read_all(f, "adam_losses", &n);
    expect_close("adam_losses", losses, want, (long)n, atol, 1e-4);
    printf("  adam losses: %.6f -> %.6f (torch %.6f -> %.6f)\n", losses[0], losses[steps - 1], want[0],
           want[steps - 1]);
    free(want);
}

#endif
