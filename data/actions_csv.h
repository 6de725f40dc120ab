/*
 * actions_csv.h - a CSV of button states, the format of `gen import` and `play --script`:
 * a header row of button names (e.g. A,B,SELECT,START,UP,DOWN,LEFT,RIGHT), then one row of
 * 0/1 values per step (row t: the buttons held during step t). Blank lines are skipped;
 * fields may carry spaces around them. Errors name the file and line.
 */
#ifndef NEMU_ACTIONS_CSV_H
#define NEMU_ACTIONS_CSV_H

#include <stdint.h>
#include "base/err.h"

#define ACTIONS_CSV_MAX_BUTTONS 64

typedef struct {
    int A, rows;
    char names[512];   // the header, comma-separated, trimmed
    uint8_t *act;      // [rows, A] 0/1 (malloc'ed; free it)
} ActionsCsv;

// Returns 0, or -1 with one line in err (nothing left allocated).
int actions_csv_read(const char *path, ActionsCsv *csv, Err *err);

#endif
