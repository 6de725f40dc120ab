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
#include "nn/util.h"

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

#endif
