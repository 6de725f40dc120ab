/*
 * util.h - checked wrappers, always-on asserts, errors, timing and the seeded RNG.
 *
 * Two kinds of failure:
 *   CHECK(cond, fmt, ...)  an internal invariant; prints file:line and the message, exits 1.
 *                          Not removed by NDEBUG.
 *   die(fmt, ...)          a user-facing error (bad argument, config, file); prints one line
 *                          "<prog>: message" on stderr and exits 1.
 * Library code that validates user input prefers returning an error string (see Err) so
 * that callers and tests can see the message; programs turn it into die().
 */
#ifndef NEMU_UTIL_H
#define NEMU_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

void *xmalloc(size_t n);                 // dies on failure; n == 0 gives a valid pointer
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
float *xmalloc_floats(size_t n);         // 64-byte aligned (2 MB and huge pages from 4 MB), zeroed; free()
size_t floats_bytes(size_t n);           // the bytes xmalloc_floats(n) takes (for memory estimates)
char *xstrdup(const char *s);
FILE *xfopen(const char *path, const char *mode);   // dies with the path and strerror

double now_seconds(void);                // monotonic clock

// OpenMP's thread count and this thread's index; 1 and 0 in a build without OpenMP.
int omp_threads(void);
int omp_thread_id(void);
void omp_use_threads(int n);             // OpenMP's thread count for later parallel regions
int cpu_cores(void);                     // processors available to this process

// ---- RNG: xoshiro256** seeded by splitmix64. State is explicit; no globals, no rand().
typedef struct { uint64_t s[4]; } Rng;
void rng_seed(Rng *r, uint64_t seed);
uint64_t rng_u64(Rng *r);
uint32_t rng_below(Rng *r, uint32_t n);  // uniform in [0, n), unbiased; n > 0
double rng_uniform(Rng *r);              // uniform in [0, 1), 53 bits
float rng_uniformf(Rng *r, float lo, float hi);
float rng_normal(Rng *r);                // standard normal (Box-Muller, no cached spare)
void rng_shuffle_int(Rng *r, int *a, size_t n);   // Fisher-Yates

#endif
