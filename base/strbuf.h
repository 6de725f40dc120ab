/*
 * strbuf.h - a growing string for the reports (Markdown, CSV, JSON) built in memory before
 * one atomic write: sb_printf appends printf-style, the string stays NUL-terminated, and the
 * caller owns (and frees) b.s. Start from StrBuf b = {0}.
 */
#ifndef NEMU_STRBUF_H
#define NEMU_STRBUF_H

#include <stddef.h>

typedef struct { char *s; size_t n, cap; } StrBuf;

__attribute__((format(printf, 2, 3))) void sb_printf(StrBuf *b, const char *fmt, ...);

#endif
