// strbuf.c - see strbuf.h.
#include "base/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include "base/alloc.h"
#include "base/err.h"

void sb_printf(StrBuf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        CHECK(k >= 0, "vsnprintf failed");
        if (b->s && b->n + (size_t)k < b->cap) { b->n += (size_t)k; return; }
        size_t cap = b->cap ? b->cap : 1024;
        while (cap <= b->n + (size_t)k) cap *= 2;
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
        if (b->n == 0) b->s[0] = 0;
    }
}
