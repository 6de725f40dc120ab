/*
 * dataset.h - an episode file loaded for training and evaluation: preprocessed uint8 frames
 * in one arena, actions as 0/1 bytes, seeded splits by episode, and batch samplers.
 *
 *   Dataset d;  dataset_load(&d, "data/tetris.h5", &(Preprocess){80, 80, 1}, &err);
 *   Split s;    dataset_split(&s, &d, test_episodes, val_split, seed, &err);
 *   Sampler sm; sampler_init(&sm, &d, s.train, s.n_train, SAMPLE_TRANSITIONS, 1);
 *   per epoch:  sampler_shuffle(&sm, &rng);
 *               for (i = 0; i < sampler_batches(&sm, B); i++) n = sampler_batch(&sm, i, B, x, a, y);
 *
 * Several games in one config (roadmap 5.3): dataset_load_games loads one file per game into
 * one Dataset, episodes of file 0 first; each action row then ends with one one-hot column
 * per game (A = buttons + n_games), so a dynamics model gets the game as input beside the
 * buttons; dataset_split_games splits each file on its own.
 *
 * Episode e has F_e frames and F_e - 1 transitions: step t = (frame t, action t) -> frame t+1
 * (a file with T observation rows keeps its last action unused). Episode indices e are
 * 0..n_episodes-1 in file order; ep_id[e] is the i of /episode_<i>.
 */
#ifndef NEMU_DATASET_H
#define NEMU_DATASET_H

#include <stdint.h>
#include "data/episodes.h"
#include "data/preprocess.h"
#include "base/err.h"
#include "base/rng.h"

#define DATASET_MAX_GAMES 8

typedef struct {
    char path[1024];           // the file (several: their names, ", " between)
    int n_episodes;
    int H, W, C, A;            // after preprocessing; A = action width
    int src_h, src_w, src_c;   // as stored
    int64_t n_frames, n_steps;
    int *ep_id;                // [n_episodes]
    int64_t *frame_off;        // [n_episodes+1] first frame of episode e
    int64_t *step_off;         // [n_episodes+1] first action row of episode e
    uint8_t *frames;           // [n_frames, C, H, W]
    uint8_t *actions;          // [n_steps, A] 0/1
    char action_names[512], game[64];
    char odd[256];             // the odd layout accept_odd let through ("": none; episodes.h)
    // games (dataset_load_games): n_games one-hot columns end each action row (0: a plain file)
    int n_games, buttons;      // buttons = A - n_games
    int *ep_game;              // [n_episodes] game of episode e (0 when n_games = 0)
    int n_files;               // files loaded: episodes file_ep0[i] .. file_ep0[i+1]-1 are file i's
    int file_ep0[DATASET_MAX_GAMES + 1];
    char files[DATASET_MAX_GAMES][256];   // their paths
    char games[DATASET_MAX_GAMES][64];    // game g's name: its file's attribute game, else the file's stem
} Dataset;

// Reads, validates and preprocesses the whole file, episode by episode in chunks of frames
// (OpenMP over frames). Returns -1 with one line in err on a bad file or setting.
int dataset_load(Dataset *d, const char *path, const Preprocess *p, Err *err);
// The same for a file whose odd layout the user accepts (data.accept_odd; episodes.h).
int dataset_load_odd(Dataset *d, const char *path, const Preprocess *p, int accept_odd, Err *err);
// Several files, one per game (roadmap 5.3): episodes of files[0], then files[1], ...; with
// n > 1 every action row gets n one-hot game columns (file i = game i). only >= 0: file `only`
// alone, its rows still with the n columns (game `only`): what ./eval reads for one game.
// Every file must have the same buttons (count and names); frames of any size are resized to p.
// Game names: each file's attribute game, else (absent, or two files of one game) its stem.
int dataset_load_games(Dataset *d, char files[][256], int n, int only, const Preprocess *p, int accept_odd,
                       Err *err);
void dataset_free(Dataset *d);

static inline int64_t dataset_ep_frames(const Dataset *d, int e) { return d->frame_off[e + 1] - d->frame_off[e]; }
static inline int64_t dataset_ep_transitions(const Dataset *d, int e) { return dataset_ep_frames(d, e) - 1; }
// Frame t of episode e: [C,H,W] uint8, or as floats in [0,1] into out [C,H,W].
const uint8_t *dataset_frame_u8(const Dataset *d, int e, int64_t t);
void dataset_frame(const Dataset *d, int e, int64_t t, float *out);
// Action of step t of episode e: [A] 0/1 bytes, or floats into out [A].
const uint8_t *dataset_action_u8(const Dataset *d, int e, int64_t t);
void dataset_action(const Dataset *d, int e, int64_t t, float *out);
// No button held in episode e: zeros, and episode e's game column set (n_games > 0).
void dataset_action_none(const Dataset *d, int e, float *out);

// ---- Splits by episode. Seeded shuffle of all episodes: the first test_episodes are test,
// then round(val_split * rest) (at least 1 when val_split > 0) are val, the rest train.
// Each list is sorted ascending and holds episode indices e (not file ids).
typedef struct {
    int *train, *val, *test;
    int n_train, n_val, n_test;
} Split;

int dataset_split(Split *s, int n_episodes, int test_episodes, double val_split, uint64_t seed, Err *err);
// Each file of d on its own (dataset_split of its episodes, the same seed: a game's test episodes are
// those a run on its file alone holds out), as indices into d, ascending. One file: dataset_split.
int dataset_split_games(Split *s, const Dataset *d, int test_episodes, double val_split, uint64_t seed, Err *err);
void split_free(Split *s);
// Text file: "# nemu split of FILE" then lines "train: 0 3 ...", "val: ...", "test: ..." (file ids);
// several files: those four lines per file, in order.
int split_write(const Split *s, const Dataset *d, const char *path, Err *err);
// A run's split.txt against the split its config gives (--resume): -1 with the first line that
// differs, e.g. "runs/a/split.txt: found 'val: 9', expected 'val: 3 4' (...)".
int split_check(const Split *s, const Dataset *d, const char *path, Err *err);

// ---- Samplers. Items are built once at init; batches fill caller buffers, no allocation.
typedef enum {
    SAMPLE_FRAMES = 0,       // every frame (incl. each episode's last): x [B,C,H,W]
    SAMPLE_TRANSITIONS = 1,  // (frame t, action t, frame t+1): x [B,C,H,W], a [B,A], y [B,C,H,W]
    SAMPLE_WINDOWS = 2,      // frame t, actions t..t+K-1, frames t+1..t+K: x [B,C,H,W],
                             //   a [B,K,A], y [B,K,C,H,W]; never crosses an episode end
} SampleKind;

typedef struct { int32_t e; int32_t t; } SampleRef;

typedef struct {
    const Dataset *d;
    SampleKind kind;
    int K;                 // window length (1 for transitions, 0 for frames)
    int64_t n;             // items per epoch
    SampleRef *items;      // [n], in episode order until shuffled
} Sampler;

// episodes: indices e of the episodes to draw from (e.g. Split.train). Returns -1 with err
// when those episodes hold no item (e.g. all shorter than K+1 frames).
int sampler_init(Sampler *s, const Dataset *d, const int *episodes, int n_episodes, SampleKind kind, int K, Err *err);
void sampler_free(Sampler *s);
// Items i with flag[i] (flag [s->n], in item order, before any shuffle) appear `times` times,
// in place; the others once. Returns the new n.
int64_t sampler_repeat(Sampler *s, const uint8_t *flag, int times);
void sampler_shuffle(Sampler *s, Rng *rng);               // new order for the next epoch
int64_t sampler_batches(const Sampler *s, int B);          // ceil(n / B)
// Batch i: items [i*B, min((i+1)*B, n)); returns how many were filled. a, y may be NULL.
int sampler_batch(const Sampler *s, int64_t i, int B, float *x, float *a, float *y);

#endif
