/*
 * err.h - always-on asserts and errors.
 *
 * Two kinds of failure:
 *   CHECK(cond, fmt, ...)  an internal invariant; prints file:line and the message, exits 1.
 *                          Not removed by NDEBUG.
 *   die(fmt, ...)          a user-facing error (bad argument, config, file); prints one line
 *                          "<prog>: message" on stderr and exits 1.
 * Library code that validates user input prefers returning an error string (see Err) so
 * that callers and tests can see the message; programs turn it into die().
 */
#ifndef NEMU_ERR_H
#define NEMU_ERR_H

#include <stdnoreturn.h>

#define CHECK(cond, ...) \
    do { if (!(cond)) nemu_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); } while (0)

noreturn void nemu_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void set_progname(const char *argv0);   // the "<prog>" of die() and warn()
const char *progname(void);
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// Error message buffer for library functions that validate user input.
// Functions take `Err *err`, fill err->msg with one line (no trailing newline) and return -1.
typedef struct { char msg[512]; } Err;
int err_set(Err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));  // returns -1

#endif
