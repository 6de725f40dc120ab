/*
 * actions_csv.c - the button CSV of `gen import` and `play --script` (see actions_csv.h).
 */
#include "data/actions_csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "base/alloc.h"
#include "base/path.h"   // path_check_file

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) s[--n] = 0;
    return s;
}

// Splits line at commas into at most max fields (trimmed, in place); returns the count or -1.
static int split(char *line, char **field, int max) {
    int n = 0;
    char *s = line;
    for (;;) {
        char *c = strchr(s, ',');
        if (c) *c = 0;
        if (n == max) return -1;
        field[n++] = trim(s);
        if (!c) return n;
        s = c + 1;
    }
}

int actions_csv_read(const char *path, ActionsCsv *csv, Err *err) {
    memset(csv, 0, sizeof *csv);
    if (path_check_file(path, "CSV file", err) < 0) return -1;   // a FIFO would block
    FILE *f = fopen(path, "r");
    if (!f) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, cap_rows = 0, rc = 0;
    char *field[ACTIONS_CSV_MAX_BUTTONS + 1];
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char *l = trim(line);
        if (!*l) continue;   // blank lines (e.g. a trailing one) are skipped
        int n = split(l, field, ACTIONS_CSV_MAX_BUTTONS);
        if (n < 0) { rc = err_set(err, "%s:%d: more than %d columns", path, lineno, ACTIONS_CSV_MAX_BUTTONS); break; }
        if (!csv->A) {   // header
            size_t used = 0;
            for (int i = 0; i < n && !rc; i++) {
                if (!*field[i]) { rc = err_set(err, "%s:%d: header column %d has no name", path, lineno, i + 1); break; }
                if (strspn(field[i], "0123456789.-+") == strlen(field[i])) {
                    rc = err_set(err, "%s:%d: header column %d: expected a button name, found '%s' (no header row? "
                                 "the first line must name the buttons, e.g. A,B,SELECT,START,UP,DOWN,LEFT,RIGHT)",
                                 path, lineno, i + 1, field[i]);
                    break;
                }
                for (int j = 0; j < i; j++)
                    if (!strcmp(field[j], field[i]))
                        rc = err_set(err, "%s:%d: header: button name '%s' in columns %d and %d; expected each name "
                                     "once", path, lineno, field[i], j + 1, i + 1);
                if (rc) break;
                size_t fl = strlen(field[i]);
                if (used + fl + 2 > sizeof csv->names) { rc = err_set(err, "%s:%d: header too long", path, lineno); break; }
                if (i) csv->names[used++] = ',';
                memcpy(csv->names + used, field[i], fl + 1);
                used += fl;
            }
            if (rc) break;
            csv->A = n;
            continue;
        }
        if (n != csv->A) {
            rc = err_set(err, "%s:%d: expected %d values (one per header column), found %d", path, lineno, csv->A, n);
            break;
        }
        if (csv->rows == cap_rows) {
            cap_rows = cap_rows ? 2 * cap_rows : 256;
            csv->act = xrealloc(csv->act, (size_t)cap_rows * csv->A);
        }
        for (int i = 0; i < n; i++) {
            if (strcmp(field[i], "0") && strcmp(field[i], "1")) {
                rc = err_set(err, "%s:%d: column %d: expected 0 or 1, found '%s'", path, lineno, i + 1, field[i]);
                break;
            }
            csv->act[(size_t)csv->rows * csv->A + i] = (uint8_t)(field[i][0] - '0');
        }
        if (rc) break;
        csv->rows++;
    }
    free(line);
    fclose(f);
    if (!rc && !csv->A) rc = err_set(err, "%s: empty file (expected a header row of button names)", path);
    if (rc) { free(csv->act); csv->act = NULL; }
    return rc;
}

