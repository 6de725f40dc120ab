/*
 * episodes.h - episode datasets in Farama Minari's main_data.hdf5 layout (SPEC.md §3).
 *
 *   /                          attrs total_episodes, total_steps, action_names, game, frame_skip
 *   /episode_<i>/observations  uint8 [T+1,H,W,C] (or [T,...])
 *   /episode_<i>/actions       uint8/int8/bool [T,A] multi-binary, or integer [T] discrete
 *   /episode_<i>/rewards, terminations, truncations  [T]
 *
 * Reading validates every shape and type before anything is allocated from it; a rejection
 * is one line in Err naming file, episode, dataset, expected and found.
 */
#ifndef NEMU_EPISODES_H
#define NEMU_EPISODES_H

#include <stdint.h>
#include "base/err.h"

#define NES_ACTION_NAMES "A,B,SELECT,START,UP,DOWN,LEFT,RIGHT"
#define NES_BUTTONS 8

// ---- Streaming writer: one episode at a time, one frame at a time (gzip, chunk = 1 frame).
// Writes to "<path>.tmp" and renames to path on a successful close, so a failed or
// interrupted run never leaves a half-written dataset under the final name.
typedef struct EpisodeWriter EpisodeWriter;

EpisodeWriter *episode_writer_open(const char *path, const char *game, const char *action_names,
                                   int frame_skip, Err *err);
// Start episode: frames are H x W x C uint8 (HWC, as Minari), actions A wide (0/1 bytes).
int episode_writer_begin(EpisodeWriter *w, int H, int W, int C, int A, Err *err);
// Frame of step t and the action held during step t, with its reward and flags.
int episode_writer_step(EpisodeWriter *w, const uint8_t *frame, const uint8_t *action,
                        float reward, int terminated, int truncated, Err *err);
// The final observation (T+1-th frame); ends the episode.
int episode_writer_end(EpisodeWriter *w, const uint8_t *last_frame, Err *err);
// Writes root attributes, closes, renames into place. Frees w even on error.
int episode_writer_close(EpisodeWriter *w, Err *err);
// Abandon: close and delete the temp file. Frees w.
void episode_writer_abort(EpisodeWriter *w);
// Frames (observation rows) written so far, all episodes; for progress reports.
int64_t episode_writer_frames(const EpisodeWriter *w);

// ---- Reader. episode_file_open validates the whole layout (every episode's datasets,
// ranks, dtypes, T consistency, equal H,W,C,A across episodes, sizes in range) before any
// allocation sized from the file, then keeps the file open for the read functions.
#define EPISODE_MIN_SIDE 16
#define EPISODE_MAX_SIDE 4096
#define EPISODE_MAX_ROWS 100000000     // rows per episode; more is treated as corrupt
#define EPISODE_MAX_ACTIONS 4096       // A (buttons, or discrete n)

typedef enum { ACTIONS_MULTIBINARY = 0, ACTIONS_DISCRETE = 1 } ActionKind;

typedef struct {
    int id;          // i of /episode_<i>
    int64_t steps;   // T = rows of actions
    int64_t frames;  // rows of observations: T+1, or T (last frame has no successor)
} EpisodeInfo;

typedef struct {
    char path[1024];
    int64_t file_bytes;
    int64_t file_handle;     // hid_t of the open file
    int n_episodes;
    EpisodeInfo *ep;         // [n_episodes], in numeric order of id
    int H, W, C;             // frame shape (HWC in the file)
    int A;                   // action width: buttons, or discrete n (one-hot width)
    ActionKind action_kind;
    char action_dtype[16];   // "uint8", "int8", "bool", "int64", ...
    int64_t total_steps, total_frames;
    char action_names[512];  // root attr, "" when absent
    char game[64];           // root attr, "" when absent
    int64_t frame_skip;      // root attr, 0 when absent
    int accept_odd;          // opened with episode_file_open_odd(..., 1, ...)
    char odd[256];           // what was odd and accepted (see below); "" when nothing
} EpisodeFile;

int episode_file_open(EpisodeFile *f, const char *path, Err *err);
// An odd layout that is refused by default (a file meant so gets an explicit option, not
// silence: data.accept_odd = yes, gen info --accept-odd): gaps in the episode ids (a subset of
// a recording), a total_episodes larger than the groups present, and root objects that are
// not episode_<n> (skipped). With accept_odd = 1 they load and f->odd says which were found.
int episode_file_open_odd(EpisodeFile *f, const char *path, int accept_odd, Err *err);
void episode_file_close(EpisodeFile *f);
// Rows [t0, t0+n) of episode e's observations: out [n,H,W,C] uint8 (HWC as stored).
int episode_file_read_frames(const EpisodeFile *f, int e, int64_t t0, int64_t n, uint8_t *out, Err *err);
// All actions of episode e as 0/1 bytes: out [steps, A] (discrete actions one-hot).
int episode_file_read_actions(const EpisodeFile *f, int e, uint8_t *out, Err *err);

// data/episodes_check.c: the file-level checks episode_file_open runs last (root names, gaps
// in the ids, total_episodes, action_names against the action width, 0/1 buttons, rows
// declared but not stored); -1 with one line naming file, episode, dataset or attribute,
// found and expected. Fills f->odd with what f->accept_odd let through.
int episode_file_check(EpisodeFile *f, Err *err);

#endif
