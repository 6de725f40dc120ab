/*
 * report_fmt.h - the number and string formats the result files share (report.c writes
 * eval.md/.csv/.json, emu_report.c the emulation parts of them): a CSV cell, a JSON number
 * (null when not finite), a JSON string (escaped), a confidence interval as a JSON object.
 */
#ifndef NEMU_REPORT_FMT_H
#define NEMU_REPORT_FMT_H

#include <math.h>
#include "base/strbuf.h"
#include "evaluation/rollout.h"   // Interval

// ",v" with %.9g, or "," when v is not finite.
static inline void csv_num(StrBuf *b, double v) {
    if (isfinite(v)) sb_printf(b, ",%.9g", v);
    else sb_printf(b, ",");
}

static inline void json_num(StrBuf *b, double v) {
    if (isfinite(v)) sb_printf(b, "%.9g", v);
    else sb_printf(b, "null");
}

static inline void json_str(StrBuf *b, const char *s) {
    sb_printf(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') sb_printf(b, "\\%c", *p);
        else if (*p < 0x20) sb_printf(b, "\\u%04x", *p);
        else sb_printf(b, "%c", *p);
    }
    sb_printf(b, "\"");
}

enum { JSON_IV_N = 1, JSON_IV_SD = 2 };   // optional members of json_interval

// "name": {["n": N, ]"mean": m, ["sd": s, ]"ci95": h, "lo": l, "hi": u}
static inline void json_interval(StrBuf *b, const char *name, const Interval *iv, int members) {
    sb_printf(b, "\"%s\": {", name);
    if (members & JSON_IV_N) sb_printf(b, "\"n\": %d, ", iv->n);
    sb_printf(b, "\"mean\": ");
    json_num(b, iv->mean);
    if (members & JSON_IV_SD) {
        sb_printf(b, ", \"sd\": ");
        json_num(b, iv->sd);
    }
    sb_printf(b, ", \"ci95\": ");
    json_num(b, iv->half);
    sb_printf(b, ", \"lo\": ");
    json_num(b, iv->lo);
    sb_printf(b, ", \"hi\": ");
    json_num(b, iv->hi);
    sb_printf(b, "}");
}

#endif
