/*
 * path.h - what a path is before anything opens it (issue #16): a FIFO, a device or a folder
 * given where a file is read would block forever or read as "empty"; an output that is one of
 * the command's own inputs would destroy it.
 */
#ifndef NEMU_PATH_H
#define NEMU_PATH_H

#include "base/err.h"

// 0 when path is a regular file, or does not exist (the caller's open then reports errno);
// -1 with one line in err when it exists as something else:
//   "<path>: is a FIFO (named pipe); expected a regular <what>"
int path_check_file(const char *path, const char *what, Err *err);
// "a directory", "a FIFO (named pipe)", ... for a path that exists and is not a regular file;
// NULL for a regular file or a missing path.
const char *path_kind(const char *path);
// 1 when a and b both exist and are the same file (device and inode), else 0.
int path_same_file(const char *a, const char *b);
// Refuses an output path that is one of the command's inputs (n of them, NULL entries skipped)
// or that exists as something other than a regular file:
//   "<opt> <out>: is the same file as <input>, an input of this command; expected a new path"
int path_check_output(const char *opt, const char *out, const char *const *inputs, int n, Err *err);

// ---- temp files a killed run left (issue #16 class 10)
// Writers make "<out>.tmp" (and ./gen "<out>.part", "<out>.part.tmp") and rename them into
// place; a SIGKILL leaves them. These remove such files at the start of the next run of the
// same command, with one warning line each (name and size). A file another process still
// holds (HDF5 keeps an flock on a file it writes) is left alone.
// The stale "<out>.tmp", "<out>.part" and "<out>.part.tmp" of an output file.
void remove_stale_temps_of(const char *out);
// Every stale "*.tmp" regular file directly in dir (a run or results folder).
void remove_stale_temps_in(const char *dir);

#endif
