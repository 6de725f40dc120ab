/*
 * train.h - what ./train's stages share (src/train.c: the program, the epoch loop, the
 * autoencoder stage; src/train_dyn.c: the dynamics stage, roadmap 1.3 and phase 3).
 * Internal to ./train.
 */
#ifndef NEMU_TRAIN_H
#define NEMU_TRAIN_H

#include <stdint.h>
#include "data/dataset.h"
#include "nn/checkpoint.h"
#include "nn/health.h"
#include "nn/model.h"
#include "nn/perceptual.h"
#include "src/config.h"
#include "src/run.h"

typedef enum { ST_AE = 0, ST_DYN = 1 } StageId;

#define N_PARTS 5          // train_mse, train_kl, val_mse, val_kl, sampling_p (dynamics)
typedef struct {           // one row of log.csv
    int stage, epoch;
    double train, val, lr, seconds, rate;
    double parts[N_PARTS];   // NaN: not applicable (written empty)
    double grad_norm, saturated, sat_wrong;   // health (nn/health.h): mean global gradient norm, output
                                              // saturation, saturation against the data (NaN: not measured)
    char dead[320];          // "layer=share;..." dead ReLU channels per layer
} LogRow;

typedef struct {
    Config cfg;
    RunDir rd;
    Dataset ds;
    Split split;
    int threads;
    int resume;
    const char *init;         // --init FILE: weights the first trained stage starts from (NULL: none)
    double estimate_mb;       // memory estimate printed at start
    float *wmap;              // [C,H,W] train.weight_map's L1 weights (src/train_weight_map.c), NULL: none
    LogRow *log;
    int n_log, cap_log;
} Trainer;

// One training stage; run_stage() drives it, the model-specific parts are two callbacks.
typedef struct Stage Stage;
struct Stage {
    StageId id;
    ParamArena *arena;
    Sampler *train;          // items shuffled per epoch
    int epochs;
    int batch;               // samples per training and validation batch (train.batch_size)
    double lr;
    const char *loss_name;   // "L1", "MSE"
    // The batch that step() runs: epoch, and the index in the epoch's shuffled order of its
    // first sample (this rank's share of the global batch; set by dist_train_step). A step
    // that draws random numbers draws sample j's from sample_rng(.., epoch, first + j).
    int epoch;
    int64_t first;
    // Forward, loss and backward of training batch i (grads already zeroed): returns the
    // loss and sets *n to the batch's sample count.
    float (*step)(Stage *s, int64_t i, int *n);
    double (*validate)(Stage *s);   // validation loss; may write pictures
    void *ctx;
    void (*epoch_begin)(Stage *s, int epoch);   // NULL: none
    int has_parts;           // log the parts of the loss (train from part_sum, val from validate)
    double part_sum[2];      // step adds mse * n and kl * n of its batch
    double parts[N_PARTS];   // validate sets [2..4]
    // Health probe on the activations of the last training batch (NULL: gradients and loss only).
    void (*probe)(Stage *s, Health *h);
};

extern const char *const stage_name[2];     // "autoencoder", "dynamics" (by StageId)
extern const char *const stage_prefix[2];   // "ae", "dyn": <prefix>_last.h5, <prefix>_best.h5

// src/train_resume.c: a resumed stage's position. Loads <prefix>_last.h5 into s->arena and
// checks what it records against the stage (nb batches per epoch); dies (one line) on a value
// out of range, or on _last.h5 missing beside _best.h5. Writes _best.h5 from it when it records
// that its epoch is the best and _best.h5 is older (a kill between the two writes). Returns 1 if
// found, 0 when the stage has no checkpoint yet.
int resume_stage(const Trainer *tr, const Stage *s, long nb, CkptMeta *meta, int *epoch, long *batch,
                 double *loss_sum, long *samples, double part_sum[2]);

// --init: loads tr->init's /state_dict into a (the model of stage st) when st is the first stage
// the run trains; dies (one line: file, tensor, expected and found shape) when it does not fit.
void init_weights(const Trainer *tr, ParamArena *a, StageId st);

// runs/<name>/<file> of the run (a few results stay valid at once; main thread only).
const char *path_in_run(const Trainer *tr, const char *name);
// The seed of (stage, epoch): shuffles, inits and noise streams derive from run.seed by it.
uint64_t epoch_seed(uint64_t seed, int stage, int epoch);
// The random stream of one training sample: that of the sample at index (0-based, in the
// epoch's shuffled order) of an epoch, of the stage's noise stream (stream: a tag). Drawn
// per sample, the numbers do not depend on which rank of a data-parallel run holds the
// sample, nor on the batch, and a resumed run draws them again (src/train_dist.c).
void sample_rng(Rng *r, uint64_t seed, int stream, int epoch, int64_t index);
// eps [n][Z]: standard normals, sample j's from sample_rng(.., epoch, first + j).
void sample_normals(float *eps, int n, int Z, uint64_t seed, int stream, int epoch, int64_t first);
// Epochs of a stage with Adam, from the resume point (if any) to the end: progress, stop
// requests, NaN guard, validation, log.csv, loss.png, <stage>_last.h5 and _best.h5.
void run_stage(Trainer *tr, Stage *s, CkptMeta *meta);

// src/train_dyn.c
// Loads an autoencoder checkpoint that must fit the dataset's frames, for batches <= max_B.
void load_autoencoder(const char *path, const Dataset *ds, AE *ae, int max_B);
// Records every missing file of data.path with its data.generate game (src/train_data.c); dies in
// one line when a missing file has none.
void ensure_data(const Config *c);
// Dies (one line) when the autoencoder at path is not of the config's model.latent family.
void check_latent_family(const Config *c, const AE *ae, const char *path);
// Dies (one line) when the config sets a model size (latent_dim or latent_channels, stages,
// base_channels) other than the autoencoder checkpoint's: the checkpoint decides, and the
// run's config.ini would otherwise record a model it does not have.
void check_model_keys(const Config *c, const AE *ae, const char *path);
// stage = dynamics: each size key above that the config leaves out takes the autoencoder
// checkpoint's value, so that the resolved config and config.ini say the model the run has
// (src/train_sizes.c). Does nothing when the checkpoint cannot be read (its load says why).
void adopt_autoencoder_sizes(Config *c);
// Before any work: the train and the validation episodes each hold a K-step window.
void check_windows(const Trainer *tr);
// Before any work: train.batch_size is no larger than a stage's training set (a batch is never
// bigger than the samples there are: buffers for more would be allocated for nothing).
void check_batch_size(const Trainer *tr);
// The dynamics stage: encode every frame with the frozen autoencoder, train, report.
void train_dynamics(Trainer *tr);
// The bytes the dynamics stage's closing checks and rollout.png allocate (frames of ds's size),
// on top of what training holds (./train's memory estimate).
size_t dyn_report_bytes(const Dataset *ds);

// src/train_perceptual.c: the perceptual term of the autoencoder loss (train.perceptual_weight).
// Before any work: the checkpoint train.perceptual_model is readable, an autoencoder, and takes
// the dataset's frames; dies with one line otherwise (nothing to check when the term is off).
void check_perceptual(const Trainer *tr);
// Its memory for batches <= max_B (0 when the term is off), printed as a line of the estimate.
size_t perceptual_estimate(const Trainer *tr, int max_B);
// The frozen feature extractor for batches <= max_B; returns 0 (p untouched) when the term is off.
int perceptual_open(const Trainer *tr, Perceptual *p, int max_B);

// src/train_weight_map.c: train.weight_map (a PNG that weighs the autoencoder's L1 per pixel).
// Before the data are loaded: the file is a readable PNG; dies with one line otherwise.
void check_weight_map_file(const Config *c);
// Once they are: the map, of the data's frame size as stored, converted and resized as the frames
// -> the weights 1 + gain x value / 255, [C,H,W] (xmalloc); dies in one line on another size.
// NULL when the map is off.
float *weight_map_build(const Config *c, const Dataset *ds);

// src/train_dist.c: data parallelism over the ranks of base/dist.h (one rank: as before).
// Batch i of the global batch B (grads already zeroed): this rank's share through s->step,
// gradients and loss summed over the ranks; *n = the global batch's samples. With
// train.grad_chunks = C > 0 the batch's C chunks, each its own step, summed in chunk order.
float dist_train_step(Stage *s, int64_t i, int B, int *n);
// The stop signal to act on before the next batch: with several ranks the one they agreed on
// in the last batch's sum (so all stop at the same batch), else signals_stop_requested().
int dist_stop_signal(void);
// Rank 0 of several: the gradient sums' bytes, time and share of the stage's steps.
void dist_print_stats(double train_secs, long steps);
// Dies (one line) on what data parallelism over dist_size() > 1 ranks cannot split, and on
// train.grad_chunks > train.batch_size.
void dist_check_config(const Config *c);
// The most samples one step() runs at once (the models' batch): a chunk's with
// train.grad_chunks = C > 0 (ceil(B / C)), else this rank's share (ceil(B / N)).
int dist_step_batch(const Config *c);
// Around a stage's epochs: train.grad_chunks' buffers (C x the stage's parameters), freed.
void dist_stage_begin(const Config *c, const Stage *s);
void dist_stage_end(void);
// The memory table's line on the split: N ranks, per-rank batch or chunks.
void dist_print_layout(const Config *c);
// train.grad_chunks' buffer for a stage of that many parameters (0: off).
size_t dist_chunk_bytes(const Config *c, size_t params);

#endif
