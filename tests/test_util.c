/* test_util.c - RNG and helpers: known properties (determinism, range, moments, shuffle); err_set may take
 * its own message as an argument (issue #16 class 9: the formatter never reads the buffer it writes). */
#include <stdlib.h>
#include <string.h>
#include "base/alloc.h"
#include "base/err.h"
#include "base/rng.h"
#include "tests/test.h"

static void test_err_set_self(void) {
    Err e;
    err_set(&e, "tensor 'x': cannot open: %s", "No such file or directory");
    err_set(&e, "%s: %s", "runs/a/ae_last.h5", e.msg);   // prefixing the path onto its own message
    EXPECT(strcmp(e.msg, "runs/a/ae_last.h5: tensor 'x': cannot open: No such file or directory") == 0, "got '%s'",
           e.msg);
    err_set(&e, "%s (and %d more)", e.msg, 2);
    EXPECT(strcmp(e.msg, "runs/a/ae_last.h5: tensor 'x': cannot open: No such file or directory (and 2 more)") == 0,
           "got '%s'", e.msg);
}

int main(void) {
    test_err_set_self();
    Rng a, b;
    rng_seed(&a, 42); rng_seed(&b, 42);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= rng_u64(&a) == rng_u64(&b);
    EXPECT(same, "same seed gives the same stream");
    rng_seed(&b, 43);
    EXPECT(rng_u64(&a) != rng_u64(&b), "different seeds differ");

    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) counts[rng_below(&a, 7)]++;
    int ok = 1;
    for (int i = 0; i < 7; i++) ok &= counts[i] > 9500 && counts[i] < 10500;
    EXPECT(ok, "rng_below(7) is roughly uniform");

    double s = 0, s2 = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) { double x = rng_normal(&a); s += x; s2 += x * x; }
    EXPECT(fabs(s / n) < 0.01 && fabs(s2 / n - 1) < 0.02, "normal mean %.4f var %.4f", s / n, s2 / n);

    int perm[100], seen[100] = {0};
    for (int i = 0; i < 100; i++) perm[i] = i;
    rng_shuffle_int(&a, perm, 100);
    int moved = 0, full = 1;
    for (int i = 0; i < 100; i++) { seen[perm[i]]++; moved += perm[i] != i; }
    for (int i = 0; i < 100; i++) full &= seen[i] == 1;
    EXPECT(full && moved > 80, "shuffle is a permutation that moves most items");

    float *f = xmalloc_floats(17);
    EXPECT(((uintptr_t)f & 63) == 0, "xmalloc_floats is 64-byte aligned");
    free(f);
    return test_summary();
}
