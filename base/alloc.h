/*
 * alloc.h - allocation that cannot fail quietly: every function dies (err.h) with the size
 * or the path when the system says no.
 */
#ifndef NEMU_ALLOC_H
#define NEMU_ALLOC_H

#include <stddef.h>
#include <stdio.h>

void *xmalloc(size_t n);                 // dies on failure; n == 0 gives a valid pointer
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
float *xmalloc_floats(size_t n);         // 64-byte aligned (2 MB and huge pages from 4 MB), zeroed; free()
size_t floats_bytes(size_t n);           // the bytes xmalloc_floats(n) takes (for memory estimates)
char *xstrdup(const char *s);
FILE *xfopen(const char *path, const char *mode);   // dies with the path and strerror

#endif
