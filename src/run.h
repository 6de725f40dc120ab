/*
 * run.h - what a long batch job needs around the training loop: the run folder (created
 * whole or not at all), signal handling (SIGINT/SIGTERM ask for a clean stop), a progress
 * display (a bar with rate and ETA on a terminal, one plain line per epoch otherwise) and
 * small atomic text-file writes.
 */
#ifndef NEMU_RUN_H
#define NEMU_RUN_H

#include <signal.h>
#include <stdio.h>
#include "base/err.h"

// ---- run folder
// A new run is assembled in "<dir>.tmp.<pid>" and renamed to dir by run_dir_commit(), so a
// failed start leaves nothing behind and an existing run is never touched unless force.
// With force, the old run is moved aside to "<dir>.old.<pid>" and removed only once the new
// one has written its first checkpoint (run_dir_drop_old); a run that stops before that puts
// the old one back (run_dir_restore_old). A "<dir>.old.<pid>" whose process is gone (killed)
// is reported, never removed.
typedef struct {
    char final[1024];   // runs/<name>
    char path[1024];    // where files go now (the tmp dir until committed, then final)
    char old[1100];     // the run --force replaced, kept aside until the first checkpoint ("": none)
    int committed;
} RunDir;

// Fails (Err) if dir exists and !force. Creates the parent (runs/) if needed.
int run_dir_create(RunDir *rd, const char *dir, int force, Err *err);
// Renames tmp -> final (moving an old run aside when force); path becomes final.
int run_dir_commit(RunDir *rd, Err *err);
// Removes the tmp dir and everything in it (nothing if committed).
void run_dir_abort(RunDir *rd);
// The new run has a checkpoint: the run it replaced is removed.
void run_dir_drop_old(RunDir *rd);
// The new run ends without a checkpoint: it is removed and the replaced run put back.
void run_dir_restore_old(RunDir *rd);
// An existing run, for --resume; fails when the folder is not writable (checked before work).
int run_dir_open(RunDir *rd, const char *dir, Err *err);
// Joins rd->path and a file name into buf.
const char *run_file(const RunDir *rd, const char *name, char *buf, size_t cap);

// Writes text to path atomically (tmp + rename).
int write_file_atomic(const char *path, const char *text, size_t n, Err *err);
int remove_tree(const char *path);
int mkdir_p(const char *dir);   // mkdir -p; 0 when dir exists as a folder afterwards

// ---- signals: after signals_install(), signals_stop_requested() turns 1 on SIGINT/SIGTERM.
void signals_install(void);
int signals_stop_requested(void);   // 0, or the signal number
void signals_reset(void);

// ---- progress
typedef struct {
    int tty;            // stderr is a terminal: redraw a bar; else one line per epoch
    double t_start, t_last_draw;
    const char *stage;
    int epoch, epochs;
    long step, steps;   // batches in this epoch
} Progress;

void progress_init(Progress *p, const char *stage, int epochs);
void progress_epoch_start(Progress *p, int epoch, long steps);
// Called after each batch; redraws at most 10 times a second on a terminal.
void progress_update(Progress *p, long step, float loss, long samples);
void progress_clear(Progress *p);   // erase the bar before printing other lines

#endif
