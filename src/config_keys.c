/*
 * config_keys.c - the key table of the config (KEYS[]: section, key, type, default, range,
 * help, place in Config) and the per-value code it drives: parsing and range checks
 * (cfg_set_value), the text of a value (cfg_value_text) and of what it must look like
 * (cfg_expect_text), the defaults and the Markdown key table. The file parser, the
 * cross-key rules and config_write are in config.c.
 */
#include "src/config_keys.h"
#include "base/err.h"
#include "nn/dynamics.h"   // DYN_HIST_REACH

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define OFF(field) offsetof(Config, field)

const char *const SECTIONS[N_SECTIONS] = {"run", "data", "model", "train", "dynamics", "eval"};


const KeyDef KEYS[N_KEYS] = {
    [K_RUN_NAME] = {"run", "name", KT_STR, "", "config file stem", 0, 0, F_NAME, NULL,
        "the run folder is runs/NAME", OFF(run.name)},
    [K_RUN_SEED] = {"run", "seed", KT_U64, "42", NULL, 0, 0, 0, NULL,
        "seed of every random choice (init, splits, shuffling, noise)", OFF(run.seed)},
    [K_RUN_THREADS] = {"run", "threads", KT_INT, "0", NULL, 0, 4096, 0, NULL,
        "worker threads; 0 = all cores", OFF(run.threads)},

    [K_DATA_PATH] = {"data", "path", KT_STR, "data/tetris.h5", NULL, 0, 0, F_NONEMPTY, NULL,
        "episode dataset (HDF5, Minari layout), relative to the working directory; several games: a "
        "comma-separated list of files, one per game (split per file; the dynamics gets the game as input)",
        OFF(data.path)},
    [K_DATA_GENERATE] = {"data", "generate", KT_ENUM, "tetris", NULL, 0, 0, F_LIST, "tetris|scroller|maze|none",
        "when path is missing: record it with this built-in game (none = fail); several files in path: "
        "one per file, in order", OFF(data.generate)},
    [K_DATA_HEIGHT] = {"data", "height", KT_INT, "80", NULL, 16, 4096, 0, NULL,
        "frame height after resizing; divisible by 2^model.stages", OFF(data.height)},
    [K_DATA_WIDTH] = {"data", "width", KT_INT, "80", NULL, 16, 4096, 0, NULL,
        "frame width after resizing; divisible by 2^model.stages", OFF(data.width)},
    [K_DATA_CHANNELS] = {"data", "channels", KT_INT, "1", NULL, 1, 3, F_ONE_OR_THREE, NULL,
        "1 = grayscale (ITU-R 601 luma), 3 = RGB", OFF(data.channels)},
    [K_DATA_TEST_EPISODES] = {"data", "test_episodes", KT_INT, "20", NULL, 0, 1000000, 0, NULL,
        "episodes held out for ./eval, never seen in training", OFF(data.test_episodes)},
    [K_DATA_VAL_SPLIT] = {"data", "val_split", KT_REAL, "0.2", NULL, 0, 1, F_HI_OPEN, NULL,
        "fraction of the remaining episodes used for validation", OFF(data.val_split)},
    [K_DATA_GEN_EPISODES] = {"data", "gen_episodes", KT_INT, "0", NULL, 0, 1000000, 0, NULL,
        "generator: episodes to record; 0 = the recorder's default", OFF(data.gen_episodes)},
    [K_DATA_GEN_STEPS] = {"data", "gen_steps", KT_INT, "0", NULL, 0, 100000000, 0, NULL,
        "generator: steps per episode; 0 = the recorder's default", OFF(data.gen_steps)},
    [K_DATA_GEN_SEED] = {"data", "gen_seed", KT_U64, "0", NULL, 0, 0, 0, NULL,
        "generator: seed; 0 = the recorder's default", OFF(data.gen_seed)},
    [K_DATA_GEN_FRAME_SKIP] = {"data", "gen_frame_skip", KT_INT, "0", NULL, 0, 64, 0, NULL,
        "generator: game frames per step; 0 = the recorder's default",
        OFF(data.gen_frame_skip)},
    [K_DATA_ACCEPT_ODD] = {"data", "accept_odd", KT_ENUM, "no", NULL, 0, 0, 0, "no|yes",
        "yes: load an episode file of odd layout (gaps in the episode ids, total_episodes larger "
        "than the episodes present, root objects other than episode_<n>, skipped) and say what was "
        "odd; no: refuse it", OFF(data.accept_odd)},

    [K_MODEL_LATENT] = {"model", "latent", KT_ENUM, "flat", NULL, 0, 0, 0, "flat|spatial",
        "flat: z is a vector (fully connected to and from the last conv stage, gymemu); spatial: "
        "z is a grid of latent_channels x H/2^stages x W/2^stages (1x1 convs)", OFF(model.latent)},
    [K_MODEL_LATENT_DIM] = {"model", "latent_dim", KT_INT, "32", NULL, 1, 4096, 0, NULL,
        "size of the latent vector z (latent = flat)", OFF(model.latent_dim)},
    [K_MODEL_LATENT_CHANNELS] = {"model", "latent_channels", KT_INT, "16", NULL, 1, 4096, 0, NULL,
        "channels of the latent grid (latent = spatial)", OFF(model.latent_channels)},
    [K_MODEL_STAGES] = {"model", "stages", KT_INT, "3", NULL, 2, 4, 0, NULL,
        "conv stages in encoder and decoder, each halves/doubles H and W (2: a spatial latent cell of 4x4 pixels)",
        OFF(model.stages)},
    [K_MODEL_BASE_CHANNELS] = {"model", "base_channels", KT_INT, "32", NULL, 1, 1024, 0, NULL,
        "channels of the first conv stage", OFF(model.base_channels)},
    [K_MODEL_LATENT_NOISE] = {"model", "latent_noise", KT_REAL, "0", NULL, 0, BIG, 0, NULL,
        "std of N(0, s) noise added to z before decoding while training the autoencoder",
        OFF(model.latent_noise)},
    [K_MODEL_OUTPUT_BIAS] = {"model", "output_bias", KT_ENUM, "data_mean", NULL, 0, 0, 0, "data_mean|pytorch",
        "initial bias of the decoder's output layer: data_mean = logit of the training frames' mean pixel "
        "per channel (trains on dark games); pytorch = PyTorch's default init, as gymemu", OFF(model.output_bias)},
    [K_MODEL_AUTOENCODER] = {"model", "autoencoder", KT_STR, "", "(none)", 0, 0, 0, NULL,
        "autoencoder checkpoint the dynamics stage encodes with (train.stage = dynamics)",
        OFF(model.autoencoder)},

    [K_TRAIN_STAGE] = {"train", "stage", KT_ENUM, "autoencoder", NULL, 0, 0, 0,
        "autoencoder|dynamics|both", "what to train (both: the autoencoder, then dynamics on it)",
        OFF(train.stage)},
    [K_TRAIN_EPOCHS] = {"train", "epochs", KT_INT, "50", NULL, 0, 1000000, 0, NULL,
        "epochs of each stage (dynamics.epochs overrides for the dynamics stage)",
        OFF(train.epochs)},
    [K_TRAIN_BATCH_SIZE] = {"train", "batch_size", KT_INT, "128", NULL, 1, 65536, 0, NULL,
        "samples per batch", OFF(train.batch_size)},
    [K_TRAIN_LR] = {"train", "lr", KT_REAL, "0.001", NULL, 0, BIG, F_LO_OPEN, NULL,
        "learning rate of each stage (dynamics.lr overrides for the dynamics stage)",
        OFF(train.lr)},
    [K_TRAIN_WEIGHT_DECAY] = {"train", "weight_decay", KT_REAL, "0", NULL, 0, BIG, 0, NULL,
        "weight decay (adam: L2 added to the gradient; adamw: decoupled)",
        OFF(train.weight_decay)},
    [K_TRAIN_OPTIMIZER] = {"train", "optimizer", KT_ENUM, "adam", NULL, 0, 0, 0, "adam|adamw",
        "optimizer", OFF(train.optimizer)},
    [K_TRAIN_MAX_GRAD_NORM] = {"train", "max_grad_norm", KT_REAL, "0", NULL, 0, BIG, 0, NULL,
        "clip the global gradient norm to this; 0 = no clipping", OFF(train.max_grad_norm)},
    [K_TRAIN_COLLAPSE_STOP] = {"train", "collapse_stop", KT_INT, "2", NULL, 0, 1000000, 0, NULL,
        "stop a stage after this many collapsed epochs in a row (zero or vanished gradient, unchanged "
        "loss, a dead ReLU layer, a saturated output; each is warned about); 0 = warn only",
        OFF(train.collapse_stop)},
    [K_TRAIN_GRAD_CHUNKS] = {"train", "grad_chunks", KT_INT, "0", NULL, 0, 65536, 0, NULL,
        "C > 0: every batch is split into C fixed chunks whose gradients are computed apart and summed in "
        "one order, so mpirun -np N (N <= C) gives the bits of one process (same run.threads a process); "
        "0 = one pass over each rank's share of the batch", OFF(train.grad_chunks)},
    [K_TRAIN_CHANGED_WEIGHT] = {"train", "changed_weight", KT_REAL, "0", NULL, 0, BIG, 0, NULL,
        "autoencoder loss: L1 with weight 1 + this on the pixels that changed since the previous frame of "
        "the episode (the falling piece, the digits), 1 elsewhere; 0 = plain L1", OFF(train.changed_weight)},
    [K_TRAIN_PERCEPTUAL_WEIGHT] = {"train", "perceptual_weight", KT_REAL, "0", NULL, 0, BIG, 0, NULL,
        "autoencoder loss: L1 + this x perceptual, the mean squared distance between the conv features of "
        "the frame and of its reconstruction in the frozen encoder of train.perceptual_model; 0 = none",
        OFF(train.perceptual_weight)},
    [K_TRAIN_PERCEPTUAL_MODEL] = {"train", "perceptual_model", KT_STR, "", "(none)", 0, 0, 0, NULL,
        "autoencoder checkpoint trained earlier on the same frames (e.g. runs/sp_ae/ae_best.h5): its conv "
        "stages (not its latent layer) are the frozen feature extractor of train.perceptual_weight",
        OFF(train.perceptual_model)},
    [K_TRAIN_WEIGHT_MAP] = {"train", "weight_map", KT_STR, "", "(none)", 0, 0, 0, NULL,
        "autoencoder loss: a grey PNG the size of the data's frames as stored (e.g. configs/tetris_hud_mask.png), "
        "resized as the frames are; a pixel's L1 weight is 1 + train.weight_map_gain x its value (0 black .. 1 "
        "white), times the weight of train.changed_weight", OFF(train.weight_map)},
    [K_TRAIN_WEIGHT_MAP_GAIN] = {"train", "weight_map_gain", KT_REAL, "0", NULL, 0, BIG, 0, NULL,
        "autoencoder loss: the L1 weight of a white pixel of train.weight_map is 1 + this; 0 = no map",
        OFF(train.weight_map_gain)},

    [K_DYN_TYPE] = {"dynamics", "type", KT_ENUM, "deterministic", NULL, 0, 0, 0,
        "deterministic|vae", "deterministic: z' = z + f(z, a); vae: f outputs mean and log-variance",
        OFF(dynamics.type)},
    [K_DYN_HIDDEN] = {"dynamics", "hidden", KT_INT, "128", NULL, 1, 65536, 0, NULL,
        "width of the dynamics MLP's hidden layers (model.latent = spatial: channels of the conv dynamics' "
        "hidden layers)", OFF(dynamics.hidden)},
    [K_DYN_HYPOTHESES] = {"dynamics", "hypotheses", KT_INT, "1", NULL, 1, 16, 0, NULL,
        "M > 1: the conv dynamics predicts M candidate next latents and how likely each is; training fits "
        "the closest candidate (winner takes all) and the odds, a rollout draws one at eval.temperature "
        "(0 = the most likely), so an uncertain future stays sharp instead of averaged (model.latent = spatial, "
        "type = deterministic)", OFF(dynamics.hypotheses)},
    [K_DYN_HYP_FEED] = {"dynamics", "hyp_feed", KT_ENUM, "nearest", NULL, 0, 0, 0, "nearest|most_probable",
        "hypotheses, multi-step training (rollout_steps > 1): the candidate a rollout steps on from. nearest: "
        "the one nearest the truth, the one the loss fits (winner takes all); most_probable: the one ./eval "
        "and ./play take at T = 0, so that training sees the states its own choices lead to (the loss still "
        "fits the nearest; loss = latent)", OFF(dynamics.hyp_feed)},
    [K_DYN_HYP_CHOICE] = {"dynamics", "hyp_choice", KT_ENUM, "frame", NULL, 0, 0, 0, "frame|cell",
        "hypotheses: what chooses among the candidates. frame: one candidate for the whole step, by the "
        "means of the logit planes; cell: each cell of the latent grid takes its own candidate by its own "
        "logits (trained towards the candidate nearest the truth in that cell), so two things that move "
        "apart in one step (the falling piece, the score) need not share one guess", OFF(dynamics.hyp_choice)},
    [K_DYN_HISTORY] = {"dynamics", "history", KT_HISTORY, "0", NULL, 0, 32, 0, NULL,
        "N > 0: the conv dynamics also sees the latents of the N steps before, as N difference planes "
        "z - z_{-k}, so that it can time what one frame cannot show (Tetris' gravity falls every 12 steps "
        "at level 0); a list (1,2,3,4,6,8,12,16,24,32,48) names how many steps back each of them is, so that "
        "a few planes reach far: what the screen hides for a while (Tetris' pause blanks the well for up to "
        "43 steps) is still there when it comes back; training and ./eval's rollouts take the real frames "
        "before their start (an episode's first frame repeated before it), then a rollout its own; so does ./play "
        "from a recording's frame (--start FILE.h5:EPISODE:STEP), from a PNG the start frame repeated "
        "(model.latent = spatial)", OFF(dynamics.history)},
    [K_DYN_COMPOSE] = {"dynamics", "compose", KT_REAL, "0", NULL, 0, 1, 0, NULL,
        "how ./eval and ./play draw a predicted frame: > 0 keeps the real start frame's pixel wherever the "
        "decoded prediction differs from the decoded start frame by no more than this (the model repaints "
        "only what it changes; the static board stays sharp); 0 = the decoder draws every pixel. A drawing "
        "choice, not a training one: a trained run can be evaluated both ways (./eval --compose T)",
        OFF(dynamics.compose)},
    [K_DYN_DEADBAND] = {"dynamics", "deadband", KT_REAL, "0", NULL, 0, 5, F_ROLLOUT, NULL,
        "closed-loop rollouts of ./eval and ./play: after each step, a latent cell (a spatial latent's "
        "channels at one grid position; an element of a flat one) whose change has an RMS below this keeps "
        "its value, so the small deltas of what does not move do not add up into noise; 0 = off. A rollout "
        "choice, not a training one (./eval --deadband E, ./play --deadband E): not in the config hash, so a "
        "trained run's config.ini may set it", OFF(dynamics.deadband)},
    [K_DYN_REENCODE] = {"dynamics", "reencode", KT_INT, "0", NULL, 0, 100000, F_ROLLOUT, NULL,
        "closed-loop rollouts of ./eval and ./play: N > 0 replaces the latent, every N steps, by the "
        "encoding of its frame as drawn (with dynamics.compose > 0: the start frame's pixels where nothing "
        "moved), so that small errors cannot carry the latent off the encoder's range; 0 = off. A rollout "
        "choice, not a training one (./eval --reencode N, ./play --reencode N): not in the config hash, so a "
        "trained run's config.ini may set it", OFF(dynamics.reencode)},
    [K_DYN_LOSS] = {"dynamics", "loss", KT_ENUM, "latent", NULL, 0, 0, 0, "latent|pixel",
        "latent: MSE of each step's z against the encoded next frame; pixel: L1 of each step's "
        "prediction decoded by the frozen autoencoder against the real next frame", OFF(dynamics.loss)},
    [K_DYN_CHANGED_WEIGHT] = {"dynamics", "changed_weight", KT_REAL, "0", NULL, 0, BIG, 0, NULL,
        "pixel loss: pixels that differ from the frame before weigh 1 + this (loss = pixel)",
        OFF(dynamics.changed_weight)},
    [K_DYN_BLOCKS] = {"dynamics", "blocks", KT_INT, "2", NULL, 1, 16, 0, NULL,
        "3x3 conv layers after conv_in of the conv dynamics, the first with the pooled global context "
        "(model.latent = spatial)", OFF(dynamics.blocks)},
    [K_DYN_BETA] = {"dynamics", "beta", KT_REAL, "0", NULL, 0, BIG, 0, NULL,
        "weight of the KL term (type = vae)", OFF(dynamics.beta)},
    [K_DYN_ROLLOUT_STEPS] = {"dynamics", "rollout_steps", KT_INT, "1", NULL, 1, 1000, 0, NULL,
        "K: training windows of K steps, never across an episode end (loss summed over the steps, "
        "back-propagated through all; validation: K-step open loop)",
        OFF(dynamics.rollout_steps)},
    [K_DYN_EVENT_WEIGHT] = {"dynamics", "event_weight", KT_INT, "1", NULL, 1, 1000, 0, NULL,
        "W > 1: each epoch draws W times the training windows that hold one of the game's big events (a "
        "step whose latent change, RMS over the latent, is among the largest event_share of the training "
        "steps: Tetris' pause and its end, line clears, game over, a new game), once the others; so that "
        "what happens a few dozen times in a recording is not lost among the steps where a piece falls one "
        "cell. Validation stays unweighted", OFF(dynamics.event_weight)},
    [K_DYN_EVENT_SHARE] = {"dynamics", "event_share", KT_REAL, "0.02", NULL, 0, 1, F_LO_OPEN, NULL,
        "event_weight > 1: the share of the training steps, by the size of their latent change, that count as "
        "events", OFF(dynamics.event_share)},
    [K_DYN_SAMPLING_START] = {"dynamics", "sampling_start", KT_REAL, "0", NULL, 0, 1, 0, NULL,
        "scheduled sampling: probability of feeding back the prediction at the first epoch "
        "(rollout_steps > 1)", OFF(dynamics.sampling_start)},
    [K_DYN_SAMPLING_END] = {"dynamics", "sampling_end", KT_REAL, "0", NULL, 0, 1, 0, NULL,
        "scheduled sampling: that probability at the last epoch, annealed linearly "
        "(rollout_steps > 1)", OFF(dynamics.sampling_end)},
    [K_DYN_EPOCHS] = {"dynamics", "epochs", KT_INT, "50", "train.epochs", 0, 1000000, 0, NULL,
        "epochs of the dynamics stage", OFF(dynamics.epochs)},
    [K_DYN_LR] = {"dynamics", "lr", KT_REAL, "0.001", "train.lr", 0, BIG, F_LO_OPEN, NULL,
        "learning rate of the dynamics stage", OFF(dynamics.lr)},

    [K_EVAL_STEPS] = {"eval", "steps", KT_STEPS, "1,5,10,30,60", NULL, 1, 1000, 0, NULL,
        "rollout lengths at which ./eval compares with the real frames", OFF(eval.steps)},
    [K_EVAL_STARTS] = {"eval", "starts", KT_INT, "5", NULL, 1, 100000, 0, NULL,
        "start points per test episode", OFF(eval.starts)},
    [K_EVAL_TEMPERATURE] = {"eval", "temperature", KT_REAL, "0", NULL, 0, BIG, 0, NULL,
        "delta = mean + temperature * std * eps; 0 = the mean (dynamics.type = vae)",
        OFF(eval.temperature)},
    [K_EVAL_SAMPLES] = {"eval", "samples", KT_INT, "1", NULL, 1, 1000, 0, NULL,
        "sampled rollouts per start point (dynamics.type = vae, temperature > 0)",
        OFF(eval.samples)},
    [K_EVAL_EPISODES] = {"eval", "episodes", KT_INT, "0", NULL, 0, 1000000, 0, NULL,
        "test episodes to evaluate; 0 = all", OFF(eval.episodes)},
};

// ---------------------------------------------------------------- small helpers

static int *int_at(Config *c, int k) { return (int *)((char *)c + KEYS[k].off); }
static double *real_at(Config *c, int k) { return (double *)((char *)c + KEYS[k].off); }
static uint64_t *u64_at(Config *c, int k) { return (uint64_t *)((char *)c + KEYS[k].off); }
static const uint64_t *cu64_at(const Config *c, int k) { return (const uint64_t *)((const char *)c + KEYS[k].off); }
static char *str_at(Config *c, int k) { return (char *)c + KEYS[k].off; }
static const char *cstr_at(const Config *c, int k) { return (const char *)c + KEYS[k].off; }

char *cfg_trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int cfg_find_section(const char *name) {
    for (int i = 0; i < N_SECTIONS; i++)
        if (strcmp(SECTIONS[i], name) == 0) return i;
    return -1;
}

int cfg_find_key(const char *section, const char *key) {
    for (int k = 0; k < N_KEYS; k++)
        if (strcmp(KEYS[k].section, section) == 0 && strcmp(KEYS[k].key, key) == 0) return k;
    return -1;
}

// Enum value name i of key k into buf.
static const char *enum_name(int k, int i, char *buf, size_t cap) {
    const char *p = KEYS[k].enums;
    for (int j = 0; j < i && p; j++) {
        p = strchr(p, '|');
        if (p) p++;
    }
    CHECK(p, "enum index %d out of range for %s.%s", i, KEYS[k].section, KEYS[k].key);
    size_t n = strcspn(p, "|");
    if (n >= cap) n = cap - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

static int enum_index(int k, const char *val) {
    char buf[64];
    for (int i = 0;; i++) {
        const char *p = KEYS[k].enums;
        for (int j = 0; j < i && p; j++) {
            p = strchr(p, '|');
            if (p) p++;
        }
        if (!p) return -1;
        if (strcmp(enum_name(k, i, buf, sizeof buf), val) == 0) return i;
    }
}

// Shortest %g text that reads back as exactly v.
static void fmt_real(double v, char *buf, size_t cap) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

// What a value of key k must look like, e.g. "an integer in 1..4096".
const char *cfg_expect_text(int k, char *buf, size_t cap) {
    const KeyDef *d = &KEYS[k];
    char lo[32], hi[32];
    fmt_real(d->lo, lo, sizeof lo);
    fmt_real(d->hi, hi, sizeof hi);
    switch (d->type) {
    case KT_INT:
        if (d->flags & F_ONE_OR_THREE) snprintf(buf, cap, "1 or 3");
        else snprintf(buf, cap, "an integer in %ld..%ld", (long)d->lo, (long)d->hi);
        break;
    case KT_U64: snprintf(buf, cap, "an integer in 0..%llu", (unsigned long long)UINT64_MAX); break;
    case KT_REAL:
        if (d->hi >= BIG) snprintf(buf, cap, "a number %s %s", (d->flags & F_LO_OPEN) ? ">" : ">=", lo);
        else snprintf(buf, cap, "a number in %s%s, %s%s", (d->flags & F_LO_OPEN) ? "(" : "[", lo, hi,
                      (d->flags & F_HI_OPEN) ? ")" : "]");
        break;
    case KT_ENUM: {
        snprintf(buf, cap, "one of ");
        size_t n = strlen(buf);
        for (const char *p = d->enums; *p && n + 2 < cap; p++) {
            if (*p == '|') { buf[n++] = ','; buf[n++] = ' '; }
            else buf[n++] = *p;
        }
        buf[n < cap ? n : cap - 1] = '\0';
        if (d->flags & F_LIST) snprintf(buf + strlen(buf), cap - strlen(buf), " (or a comma-separated list, one per file of data.path)");
        break;
    }
    case KT_STR:
        if (d->flags & F_NAME)
            snprintf(buf, cap, "a name of letters, digits, '.', '_' and '-' (at most %d characters)",
                     CFG_STR / 2 - 1);
        else snprintf(buf, cap, "a%s path (at most %d characters)",
                      (d->flags & F_NONEMPTY) ? " non-empty" : "", CFG_STR - 1);
        break;
    case KT_STEPS:
        snprintf(buf, cap, "a comma-separated, strictly increasing list of integers in %ld..%ld "
                 "(at most %d)", (long)d->lo, (long)d->hi, CFG_MAX_STEPS);
        break;
    case KT_HISTORY:
        snprintf(buf, cap, "a number of steps in %ld..%ld, or a comma-separated, strictly increasing list of "
                 "steps back, each 1..%d (at most %ld)", (long)d->lo, (long)d->hi, DYN_HIST_REACH, (long)d->hi);
        break;
    }
    return buf;
}

static int bad_value(int k, const char *val, const char *where, Err *err) {
    char exp[160];
    return err_set(err, "%s: [%s] %s: expected %s, found '%s'", where, KEYS[k].section,
                   KEYS[k].key, cfg_expect_text(k, exp, sizeof exp), val);
}

static int parse_long(const char *s, long *out) {
    if (!*s) return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno == ERANGE) return 0;
    *out = v;
    return 1;
}

int steps_parse(const char *v, int lo, int hi, int *steps, Err *err) {
    char buf[512];
    if (strlen(v) >= sizeof buf) return err_set(err, "'%s' is too long", v);
    strcpy(buf, v);
    int n = 0, commas = 0;
    for (const char *p = buf; *p; p++) commas += *p == ',';
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long x;
        if (!parse_long(cfg_trim(tok), &x) || x < lo || x > hi)
            return err_set(err, "expects comma-separated integers in %d..%d (e.g. 1,5,10,30,60), got '%s'", lo, hi, v);
        if (n == CFG_MAX_STEPS) return err_set(err, "takes at most %d steps, got '%s'", CFG_MAX_STEPS, v);
        if (n > 0 && x <= steps[n - 1]) return err_set(err, "must be strictly increasing, got '%s'", v);
        steps[n++] = (int)x;
    }
    if (n == 0 || commas != n - 1)   // "", "1,,5" or "5,"
        return err_set(err, "expects comma-separated integers in %d..%d (e.g. 1,5,10,30,60), got '%s'", lo, hi, v);
    return n;
}

int cfg_valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= CFG_STR / 2 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

// data.generate: one value, or a comma-separated list of them (one per file of data.path).
static int set_enum_list(Config *c, int k, const char *val, const char *w, Err *err) {
    char buf[CFG_STR];
    if (strlen(val) >= sizeof buf) return bad_value(k, val, w, err);
    strcpy(buf, val);
    int n = 0, commas = 0;
    CfgGenerate list[CFG_MAX_FILES];
    for (const char *p = buf; *p; p++) commas += *p == ',';
    if (commas >= CFG_MAX_FILES) return bad_value(k, val, w, err);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int i = enum_index(k, cfg_trim(tok));
        if (i < 0) return bad_value(k, val, w, err);
        list[n++] = (CfgGenerate)i;
    }
    if (n == 0 || commas != n - 1) return bad_value(k, val, w, err);   // "", "tetris,,maze", "maze,"
    memcpy(c->data.gen_list, list, sizeof list);
    c->data.n_gen = n;
    *int_at(c, k) = list[0];
    return 0;
}

// Parses val as key k into cfg (range-checked). where == NULL: a default from the table.
int cfg_set_value(Config *c, int k, const char *val, const char *where, Err *err) {
    const KeyDef *d = &KEYS[k];
    const char *w = where ? where : "default";
    switch (d->type) {
    case KT_INT: {
        long v;
        if (!parse_long(val, &v) || v < d->lo || v > d->hi) return bad_value(k, val, w, err);
        if ((d->flags & F_ONE_OR_THREE) && v != 1 && v != 3) return bad_value(k, val, w, err);
        *int_at(c, k) = (int)v;
        break;
    }
    case KT_U64: {
        char *end;
        if (!(*val >= '0' && *val <= '9')) return bad_value(k, val, w, err);
        errno = 0;
        unsigned long long v = strtoull(val, &end, 10);
        if (*end || errno == ERANGE) return bad_value(k, val, w, err);
        *u64_at(c, k) = (uint64_t)v;
        break;
    }
    case KT_REAL: {
        char *end;
        if (!*val) return bad_value(k, val, w, err);
        errno = 0;
        double v = strtod(val, &end);
        // decimal only: strtod would also take hex floats (0x1p-10), which integers never are
        if (*end || !isfinite(v) || errno == ERANGE || strpbrk(val, "xX")) return bad_value(k, val, w, err);
        int lo_ok = (d->flags & F_LO_OPEN) ? v > d->lo : v >= d->lo;
        int hi_ok = (d->flags & F_HI_OPEN) ? v < d->hi : v <= d->hi;
        if (!lo_ok || !hi_ok) return bad_value(k, val, w, err);
        *real_at(c, k) = v;
        break;
    }
    case KT_ENUM: {
        if (d->flags & F_LIST) {
            if (set_enum_list(c, k, val, w, err) < 0) return -1;
            break;
        }
        int i = enum_index(k, val);
        if (i < 0) return bad_value(k, val, w, err);
        *int_at(c, k) = i;
        break;
    }
    case KT_STR:
        if (where) {   // defaults may be empty (run.name is filled in later)
            if ((d->flags & F_NAME) && !cfg_valid_name(val)) return bad_value(k, val, w, err);
            if ((d->flags & F_NONEMPTY) && !*val) return bad_value(k, val, w, err);
        }
        if (strlen(val) >= CFG_STR) return bad_value(k, val, w, err);
        strcpy(str_at(c, k), val);
        break;
    case KT_STEPS: {
        int steps[CFG_MAX_STEPS];
        const int n = steps_parse(val, (int)d->lo, (int)d->hi, steps, NULL);
        if (n < 0) return bad_value(k, val, w, err);
        memcpy(c->eval.steps, steps, sizeof steps);
        c->eval.n_steps = n;
        break;
    }
    case KT_HISTORY: {   // "N": the N steps before (offsets left 0); "a,b,...": those steps back
        int off[CFG_MAX_STEPS] = {0};
        const int n = steps_parse(val, 0, DYN_HIST_REACH, off, NULL);
        if (n < 0 || n > d->hi || (n == 1 && off[0] > d->hi) || (n > 1 && off[0] < 1)) return bad_value(k, val, w, err);
        c->dynamics.history = n == 1 ? off[0] : n;
        if (n == 1 || dyn_hist_offsets_dense(off, n)) memset(off, 0, sizeof off);
        memcpy(c->dynamics.history_off, off, sizeof off);
        break;
    }
    }
    if (where) {
        c->src[k].set = 1;
        snprintf(c->src[k].where, sizeof c->src[k].where, "%s", where);
    }
    return 0;
}

// The value of key k as a config would write it.
const char *cfg_value_text(const Config *c, int k, char *buf, size_t cap) {
    switch (KEYS[k].type) {
    case KT_INT: snprintf(buf, cap, "%d", *cint_at(c, k)); break;
    case KT_U64: snprintf(buf, cap, "%llu", (unsigned long long)*cu64_at(c, k)); break;
    case KT_REAL: fmt_real(*creal_at(c, k), buf, cap); break;
    case KT_ENUM:
        if ((KEYS[k].flags & F_LIST) && c->data.n_gen > 1) {
            size_t n = 0;
            char one[64];
            buf[0] = '\0';
            for (int i = 0; i < c->data.n_gen && n < cap; i++)
                n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", enum_name(k, c->data.gen_list[i], one, sizeof one));
        } else enum_name(k, *cint_at(c, k), buf, cap);
        break;
    case KT_STR: snprintf(buf, cap, "%s", cstr_at(c, k)); break;
    case KT_HISTORY: dyn_hist_offsets_text(c->dynamics.history_off, c->dynamics.history, buf, cap); break;
    case KT_STEPS: {
        size_t n = 0;
        buf[0] = '\0';
        for (int i = 0; i < c->eval.n_steps && n < cap; i++)
            n += (size_t)snprintf(buf + n, cap - n, "%s%d", i ? "," : "", c->eval.steps[i]);
        break;
    }
    }
    return buf;
}

// ---------------------------------------------------------------- defaults, key table

void config_defaults(Config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    Err err;
    for (int k = 0; k < N_KEYS; k++)
        CHECK(cfg_set_value(cfg, k, KEYS[k].def, NULL, &err) == 0, "bad default: %s", err.msg);
}

void config_print_keys_markdown(FILE *f) {
    char exp[160];
    fprintf(f, "| section | key | default | values | meaning |\n|---|---|---|---|---|\n");
    for (int k = 0; k < N_KEYS; k++) {
        const KeyDef *d = &KEYS[k];
        const char *def = d->def_doc ? d->def_doc : d->def;
        fprintf(f, "| %s | %s | %s | %s | %s |\n", d->section, d->key, def,
                cfg_expect_text(k, exp, sizeof exp), d->help);
    }
}
