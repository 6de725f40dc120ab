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

// One message line on stderr: "<program>: <prefix><fmt...>" (stdout flushed first).
static void report(const char *prefix, const char *fmt, va_list ap) {
    fflush(stdout);
    fprintf(stderr, "%s: %s", g_progname, prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

noreturn void nemu_fail(const char *file, int line, const char *cond, const char *fmt, ...) {
    char prefix[512];
    snprintf(prefix, sizeof prefix, "internal error at %s:%d: %s: ", file, line, cond);
    va_list ap;
    va_start(ap, fmt);
    report(prefix, fmt, ap);
    va_end(ap);
    exit(EXIT_FAILURE);
}

noreturn void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report("", fmt, ap);
    va_end(ap);
    exit(EXIT_FAILURE);
}

void warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report("warning: ", fmt, ap);
    va_end(ap);
}

int err_set(Err *err, const char *fmt, ...) {
    if (err) {   // formatted aside first: an argument may be err->msg itself ("%s: %s", path, err->msg)
        char buf[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        memcpy(err->msg, buf, sizeof buf);
    }
    return -1;
}
