/* err.c - see err.h. */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *g_progname = "nemu";   // set once at start-up by set_progname()

void set_progname(const char *argv0) {
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    g_progname = slash ? slash + 1 : (argv0 ? argv0 : "nemu");
}

const char *progname(void) { return g_progname; }

noreturn void nemu_fail(const char *file, int line, const char *cond, const char *fmt, ...) {
    fflush(stdout);
    fprintf(stderr, "%s: internal error at %s:%d: %s: ", g_progname, file, line, cond);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(EXIT_FAILURE);
}

noreturn void die(const char *fmt, ...) {
    fflush(stdout);
    fprintf(stderr, "%s: ", g_progname);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(EXIT_FAILURE);
}

void warn(const char *fmt, ...) {
    fflush(stdout);
    fprintf(stderr, "%s: warning: ", g_progname);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int err_set(Err *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}
