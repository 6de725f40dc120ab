/*
 * health.h - a training stage that cannot die silently: per-epoch measures of a stage's
 * health and a collapse detector over them.
 *
 *   measures (cheap; no allocation after health_init):
 *     gradient norm     per parameter tensor and global, accumulated over the epoch's batches
 *                       (health_add_grads after each backward pass, before clipping)
 *     dead ReLU share   per ReLU layer: the share of its channels that output 0 at every
 *                       position for every sample of a batch (health_relu_dead)
 *     saturated output  the share of a sigmoid output layer's values below 1e-4 or above
 *                       1 - 1e-4 (health_saturated, logged), and the share saturated against
 *                       the data: the larger of (the share of values whose target is > 0.1
 *                       that are output < 1e-4) and (the share of those whose target is < 0.9
 *                       output > 1 - 1e-4) (health_saturated_wrong): one black frame drawn has
 *                       ~100%, a healthy one on a black background ~0
 *   collapse (health_end_epoch), any of:
 *     gradient zero     the global gradient norm was 0 in every batch of the epoch
 *     gradient vanished the epoch's mean global norm fell below HEALTH_VANISH x that of the
 *                       stage's first measured epoch (the layer named: the tensor whose own
 *                       norm fell the most)
 *     loss unchanged    the epoch's train loss equals the previous epoch's within a relative
 *                       HEALTH_FLAT (a model that outputs a constant repeats its loss to the
 *                       last digit: the data are the same each epoch)
 *     dead layer        a ReLU layer with every channel dead (nothing passes it)
 *     saturated output  >= HEALTH_SATURATED of the output values saturated against the data
 *   Each collapsed epoch gives one line naming the causes and layers; the caller warns with
 *   it, and stops when `stop` consecutive epochs collapsed (0: never stops).
 */
#ifndef NEMU_HEALTH_H
#define NEMU_HEALTH_H

#include <stddef.h>
#include "nn/model.h"

#define HEALTH_VANISH 1e-4
#define HEALTH_FLAT 1e-6
#define HEALTH_SATURATED 0.9
#define HEALTH_SAT_EPS 1e-4
#define HEALTH_MAX_LAYERS 16

typedef struct {
    const char *name;   // e.g. "decoder_conv.2" (borrowed)
    double dead;        // share of dead channels
} HealthLayer;

typedef struct {
    int stop;                               // consecutive collapsed epochs that stop; 0 = never
    const ParamArena *arena;
    double *norm_sum;                          // [n_tensors] per-epoch sum over batches of |g_t|^2
    double *first;                          // [n_tensors] mean |g_t| of the first measured epoch
    double global_sum, global_max, first_global;
    long batches;
    int have_first, have_prev, collapsed_run;
    double prev_loss;
    // filled per epoch by the stage's probe (may stay empty)
    HealthLayer layers[HEALTH_MAX_LAYERS];
    int n_layers;
    const char *out_layer;                  // sigmoid output layer name, NULL = none
    double saturated;                       // share; NaN when not measured
    double saturated_wrong;                 // share saturated against the data; NaN when not measured
    // results of the last health_end_epoch
    double grad_norm;                       // mean global norm over the epoch's batches
    char msg[512];                          // the collapse line ("" when healthy)
} Health;

void health_init(Health *h, const ParamArena *a, int stop);
void health_free(Health *h);
void health_begin_epoch(Health *h);     // resets the per-epoch sums and the probe results
void health_add_grads(Health *h);       // after a backward pass: norms of a->grads
// Returns 1 when the epoch collapsed (h->msg names causes and layers), else 0.
int health_end_epoch(Health *h, double train_loss);
// 1 when the collapse has lasted h->stop epochs in a row (never when stop = 0).
int health_should_stop(const Health *h);
// "name=share;name=share" of the probe's layers into buf ("" when none).
void health_dead_str(const Health *h, char *buf, size_t cap);

// act [B, ch, hw]: share of channels that are 0 everywhere in the batch.
double health_relu_dead(const float *act, int B, int ch, int hw);
// share of the n values outside [HEALTH_SAT_EPS, 1 - HEALTH_SAT_EPS]
double health_saturated(const float *out, size_t n);
// share of the outputs saturated at the end away from their target (see above); NaN when
// no target is away from either end
double health_saturated_wrong(const float *out, const float *target, size_t n);
// The autoencoder's probe on its last forward pass over B samples of x (the targets): dead
// share of every ReLU layer, saturation of the sigmoid output.
void health_probe_ae(Health *h, const AE *m, const float *x, int B);

#endif
