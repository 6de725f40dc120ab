/*
 * cli.c - options and their values (see cli.h).
 */
#include "src/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

void cli_option(int argc, char **argv, int *i, const char *const *known, int n_known, const char *const *flags,
                int n_flags, const char *prog, char *name, int name_cap, const char **value) {
    const char *a = argv[*i];
    if (strncmp(a, "--", 2)) die("unexpected argument '%s' (see %s --help)", a, prog);
    const char *v = strchr(a, '=');
    size_t len = v ? (size_t)(v - a) : strlen(a);
    if (len >= (size_t)name_cap) die("unknown option '%s' (see %s --help)", a, prog);
    memcpy(name, a, len);
    name[len] = 0;
    for (int k = 0; k < n_flags; k++)
        if (!strcmp(name, flags[k])) {
            if (v) die("%s takes no value (see %s --help)", name, prog);
            *value = NULL;
            return;
        }
    int ok = 0;
    for (int k = 0; k < n_known; k++) ok |= !strcmp(name, known[k]);
    if (!ok) die("unknown option '%s' (see %s --help)", a, prog);
    if (v) v++;
    else if (*i + 1 < argc) v = argv[++*i];
    else die("%s needs a value (see %s --help)", name, prog);
    if (!*v) die("%s needs a value (see %s --help)", name, prog);
    *value = v;
}

int cli_text(const CliText *t, int n, const char *name, const char *value) {
    for (int k = 0; k < n; k++)
        if (!strcmp(name, t[k].name)) {
            *t[k].dst = value;
            return 1;
        }
    return 0;
}

long cli_long(const char *opt, const char *v, long lo, long hi) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno || x < lo || x > hi) die("%s expects an integer in %ld..%ld, got '%s'", opt, lo, hi, v);
    return x;
}

uint64_t cli_u64(const char *opt, const char *v) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-') die("%s expects a non-negative integer, got '%s'", opt, v);
    return (uint64_t)x;
}

double cli_double(const char *opt, const char *v, double lo, double hi) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || errno || !(x >= lo && x <= hi)) die("%s expects a number in %g..%g, got '%s'", opt, lo, hi, v);
    return x;
}
