/*
 * cli.h - the command-line code ./eval, ./play and ./export share: options "--name VALUE" or
 * "--name=VALUE" checked against a list of known names, text options stored through a table,
 * and numeric values parsed whole and range-checked. Every error is one line (die) naming the option and the value, pointing
 * at "<prog> --help".
 */
#ifndef NEMU_CLI_H
#define NEMU_CLI_H

#include <stdint.h>

// Option i of argv: its name (without "=VALUE") into name, and its value: after '=', else
// the next argument (then i advances). flags[] name the options that take no value (*value
// is then NULL). Dies on a non-option, an unknown name, or a missing or empty value.
void cli_option(int argc, char **argv, int *i, const char *const *known, int n_known, const char *const *flags,
                int n_flags, const char *prog, char *name, int name_cap, const char **value);
// A text option and the field its value goes to.
typedef struct {
    const char *name;
    const char **dst;
} CliText;
// When name is one of t[0..n), stores value in its field and returns 1; else returns 0.
int cli_text(const CliText *t, int n, const char *name, const char *value);
long cli_long(const char *opt, const char *v, long lo, long hi);
uint64_t cli_u64(const char *opt, const char *v);
double cli_double(const char *opt, const char *v, double lo, double hi);

#endif
