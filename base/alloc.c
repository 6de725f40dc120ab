/* alloc.c - see alloc.h. */
#include "base/alloc.h"
#include "base/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory allocating %zu bytes", n);
    return p;
}

void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) die("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) die("out of memory reallocating %zu bytes", n);
    return q;
}

// Arrays of 4 MB and more are 2 MB aligned and asked to sit on transparent huge pages
// (Debian's default THP mode is madvise): the 240x256 model's weights, gradients and Adam
// state (34M parameters each) are streamed every step, one TLB miss per 4 KB page otherwise.
#define HUGE_PAGE ((size_t)2 << 20)

size_t floats_bytes(size_t n) {
    size_t bytes = (n ? n : 1) * sizeof(float);
    size_t align = bytes >= 2 * HUGE_PAGE ? HUGE_PAGE : 64;
    return (bytes + align - 1) & ~(align - 1);
}

float *xmalloc_floats(size_t n) {
    void *p = NULL;
    size_t bytes = floats_bytes(n);
    size_t align = bytes >= 2 * HUGE_PAGE ? HUGE_PAGE : 64;
    if (posix_memalign(&p, align, bytes) != 0) die("out of memory allocating %zu floats", n);
#ifdef MADV_HUGEPAGE
    if (align == HUGE_PAGE) (void)madvise(p, bytes, MADV_HUGEPAGE);   // a hint: failure is harmless
#endif
    memset(p, 0, bytes);
    return p;
}

char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

FILE *xfopen(const char *path, const char *mode) {
    FILE *f = fopen(path, mode);
    if (!f) die("cannot open %s: %s", path, strerror(errno));
    return f;
}
