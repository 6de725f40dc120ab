/*
 * test.h - the tiny test harness every tests/test_*.c uses.
 *
 *   EXPECT(cond, fmt, ...)      one check; prints "FAIL file:line: message" when false
 *   expect_close(name, got, want, n, atol, rtol)  element-wise |g-w| <= atol + rtol*|w|;
 *                                prints the max abs and rel difference either way
 *   return test_summary();      prints "N passed, N failed" and returns nonzero on failure
 * Each binary runs in its own process; tests/run.sh adds up the closing lines.
 */
#ifndef NEMU_TEST_H
#define NEMU_TEST_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int test_passed_, test_failed_;

static inline void test_fail_(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    printf("FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

#define EXPECT(cond, ...) \
    do { if (cond) test_passed_++; else { test_failed_++; test_fail_(__FILE__, __LINE__, __VA_ARGS__); } } while (0)

// Compares n floats; counts as one check. Returns 1 when they agree.
static inline int expect_close_(const char *file, int line, const char *name, const float *got,
                                const float *want, long n, double atol, double rtol) {
    double max_abs = 0, max_rel = 0;
    long bad = -1;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        double r = d / (fabs((double)want[i]) + 1e-12);
        if (d > max_abs) max_abs = d;
        if (r > max_rel && fabs((double)want[i]) > atol) max_rel = r;
        if (!(d <= atol + rtol * fabs((double)want[i])) && bad < 0) bad = i;
    }
    printf("  %-40s n=%-8ld max_abs=%.3g max_rel=%.3g %s\n", name, n, max_abs, max_rel,
           bad < 0 ? "ok" : "FAIL");
    if (bad < 0) { test_passed_++; return 1; }
    test_failed_++;
    test_fail_(file, line, "%s: element %ld got %.8g want %.8g", name, bad, got[bad], want[bad]);
    return 0;
}
#define expect_close(name, got, want, n, atol, rtol) \
    expect_close_(__FILE__, __LINE__, name, got, want, n, atol, rtol)

// Makes a fresh temp folder /tmp/nemu_test_<stem>_XXXXXX into buf; exits when it cannot.
static inline const char *test_mkdtemp(char *buf, size_t cap, const char *stem) {
    snprintf(buf, cap, "/tmp/nemu_test_%s_XXXXXX", stem);
    if (!mkdtemp(buf)) { printf("FAIL: mkdtemp %s\n", buf); exit(1); }
    return buf;
}

// Removes a test's temp folder (made with mkdtemp) and all in it; warns when it cannot.
static inline void test_rm_tree(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("warning: could not remove %s\n", dir);
}

// Path of a committed fixture, tests/fixtures/<name>, from $NEMU_ROOT (set by tests/run.sh)
// or the current folder.
static inline const char *fixture_path(const char *name, char *buf, size_t cap) {
    const char *root = getenv("NEMU_ROOT");
    snprintf(buf, cap, "%s/tests/fixtures/%s", root ? root : ".", name);
    return buf;
}

static inline int test_summary(void) {
    printf("%d passed, %d failed\n", test_passed_, test_failed_);
    return test_failed_ ? 1 : 0;
}

#endif
