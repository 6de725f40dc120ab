/*
 * rollout.h - open-loop N-step rollout evaluation (SPEC.md section 6): seeded start points
 * inside episodes, batched rollouts through the frozen autoencoder and dynamics model, the
 * per-step metrics of the model and of the two reference rows, and 95% intervals.
 *
 *   StartPoint *sp; int n;
 *   select_starts(d, test, n_test, starts, max_step, seed, &sp, &n, &err);
 *   RolloutResult r;
 *   rollout_eval(&ae, &dyn, d, sp, n, steps, n_steps, n_pic, samples, &loop, NULL, &r);
 *   Interval ssim1 = interval95_of(r.model[0..n), METRIC_SSIM) ...
 *
 * A start point (e, t) is frame t of episode e; a rollout of K steps uses actions t..t+K-1
 * and is compared with frames t+1..t+K, so it needs t + K <= transitions of e: start points
 * never cross an episode end.
 *
 * Rows, at each requested step k:
 *   model  decode(z_k) vs frame t+k, z_0 = encode(frame t), z_{i+1} = z_i + f(z_i, a_{t+i})
 *          (with S samples: each start's mean over them; every sample's in `samples`)
 *   copy   frame t (the start frame repeated) vs frame t+k
 *   recon  decode(encode(frame t+k)) vs frame t+k: the autoencoder's ceiling
 * Frames are the dataset's preprocessed uint8 frames scaled to [0,1], as in training.
 */
#ifndef NEMU_ROLLOUT_H
#define NEMU_ROLLOUT_H

#include <stdint.h>
#include "data/dataset.h"
#include "evaluation/closed_loop.h"
#include "evaluation/game_trace.h"
#include "evaluation/metrics.h"
#include "nn/dynamics.h"
#include "nn/model.h"
#include "base/err.h"

typedef struct { int e; int t; } StartPoint;   // episode index e (not file id), start frame t

// Picks up to `starts` distinct start points in each listed episode, uniformly among the
// t with t + max_step <= transitions(e), seeded by (seed, e) so an episode's choice does not
// depend on the other episodes listed. Episodes too short for max_step are skipped. The
// result lists episodes in the given order, t ascending within each; *out is malloc'ed.
// Returns -1 with one line in err when no listed episode is long enough (naming the longest).
int select_starts(const Dataset *d, const int *episodes, int n_episodes, int starts, int max_step,
                  uint64_t seed, StartPoint **out, int *n_out, Err *err);
// The N real frames before start point sp into out [N][C,H,W], slot k-1 = frame t-k (the
// episode's first frame repeated before it): a dynamics history's past, as training sees it.
void start_past_frames(const Dataset *d, StartPoint sp, int N, float *out);

// ---- statistics over start points
typedef struct {
    int n;
    double mean, sd;      // sd: sample standard deviation (n - 1); 0 when n == 1
    double half;          // half-width of the 95% Student-t interval; NaN when n < 2
    double lo, hi;        // mean -+ half
} Interval;

// Two-sided 95% interval of the mean: mean +- t_{0.975, n-1} * sd / sqrt(n).
Interval interval95(const double *x, int n);
// Quantile p (0 < p < 1) of Student's t with df >= 1 degrees of freedom (bisection on the
// CDF, which uses the regularised incomplete beta function); accurate to ~1e-9.
double student_t_quantile(double p, int df);
double student_t_cdf(double t, int df);

typedef enum { METRIC_L1, METRIC_SSIM, METRIC_PSNR } MetricKind;
// Interval of one metric over n Metrics.
Interval interval95_metric(const Metrics *m, int n, MetricKind kind);

// ---- the rollouts
typedef struct {
    int N, n_steps;
    int C, H, W;
    Metrics *model, *copy, *recon;   // [n_steps][N]; model: each start's mean over its samples
    int S;                           // samples per start (stochastic dynamics)
    Metrics *samples;                // [S][n_steps][N] every sampled rollout's metrics
    double *diversity;               // [n_steps][N] mean pairwise L1 between a start's S
                                     //   decoded frames (NaN when S == 1)
    double *div_enemy;               // [n_steps][N] the same inside the enemies' region (GameEval
                                     //   enemy_mask of the start frame's and frame t+k's states);
                                     //   NaN when S == 1, no trace, no enemy in play
    int n_pic;                       // start points kept for the picture (the first n_pic of
    int *pic_idx;                    //   an even spread over all N): indices into the start list
    float *pic_truth, *pic_pred;     // [n_pic][n_steps][C,H,W]
    float *pic_samples;              // [n_pic][S][n_steps][C,H,W] every sample (NULL when S == 1)
} RolloutResult;

// Runs every start point's rollout to steps[n_steps-1] (steps strictly increasing, >= 1) S
// times (S >= 1 samples, in lockstep as batch rows; they differ only when dyn is a VAE at a
// temperature > 0, drawing eps from dyn->rng), in batches of min(ae->max_B, dyn->max_B) >= S
// rows; dyn->max_steps may be 1 (the rollout reuses step slot 0). ae and dyn must fit the
// dataset (C,H,W and A; CHECKed). n_pic <= N; the picture shows sample 1. loop: how each
// rollout steps and draws, as ./play (evaluation/closed_loop.h): compose > 0 draws each
// predicted frame with emu_compose against its start frame; deadband > 0 applies
// latent_deadband after each step; reencode N > 0 re-encodes the drawn frame every N steps.
// g (NULL: none): the game's trace, for div_enemy when S > 1 and its game has an enemy_mask.
void rollout_eval(AE *ae, DynModel *dyn, const Dataset *d, const StartPoint *sp, int N, const int *steps,
                  int n_steps, int n_pic, int S, const ClosedLoop *loop, const GameTrace *g, RolloutResult *r);
// Mean pairwise L1 between S frames p [S][C][HW] over the pixels where mask [HW] is set (every
// channel; mask NULL: every pixel); NaN when S < 2 or the mask is empty.
double pairwise_l1(const float *p, int S, int C, int HW, const uint8_t *mask);
void rollout_result_free(RolloutResult *r);

#endif
