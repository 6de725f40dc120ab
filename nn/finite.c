/* finite.c - see finite.h. */
#include "nn/finite.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

// Blocks of 1024 floats OR a branch-free flag (exponent bits all ones: NaN or Inf), which the
// compiler vectorises; only a flagged block is searched for its first bad value.
size_t first_nonfinite(const float *x, size_t n) {
    for (size_t i0 = 0; i0 < n; i0 += 1024) {
        size_t e = n - i0 < 1024 ? n : i0 + 1024;
        uint32_t bad = 0;
        for (size_t i = i0; i < e; i++) {
            uint32_t u;
            memcpy(&u, x + i, sizeof u);
            bad |= (u & 0x7f800000u) == 0x7f800000u;
        }
        if (bad)
            for (size_t i = i0; i < e; i++)
                if (!isfinite(x[i])) return i;
    }
    return n;
}

static int check_group(const ParamArena *a, const float *base, const char *group, const char *where, Err *err) {
    for (int k = 0; k < a->n_tensors; k++) {
        const TensorInfo *t = &a->t[k];
        const float *x = base + t->offset;
        size_t i = first_nonfinite(x, t->n);
        if (i == t->n) continue;
        size_t count = 0;
        for (size_t j = i; j < t->n; j++) count += !isfinite(x[j]);
        char shape[64];
        arena_shape_str(t, shape, sizeof shape);
        return err_set(err, "%s: tensor '%s%s' %s holds %zu non-finite value%s (first: %s at flat index %zu); "
                       "expected finite numbers", where, group, t->name, shape, count, count == 1 ? "" : "s",
                       isnan(x[i]) ? "NaN" : x[i] > 0 ? "+Inf" : "-Inf", i);
    }
    return 0;
}

int arena_check_finite(const ParamArena *a, int with_adam, const char *where, Err *err) {
    if (check_group(a, a->params, "state_dict/", where, err) < 0) return -1;
    if (!with_adam) return 0;
    if (check_group(a, a->m, "optimizer/exp_avg/", where, err) < 0) return -1;
    return check_group(a, a->v, "optimizer/exp_avg_sq/", where, err);
}
