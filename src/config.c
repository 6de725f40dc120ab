/*
 * config.c - the strict INI config (see config.h). One table of keys, KEYS[], drives the
 * parser, the cross-key rules' messages, config_write() and the Markdown key table.
 *
 * Flow of config_load: defaults -> the file's lines in order (includes recurse, each file
 * tracks its own keys for the duplicate check) -> run.name from the file stem unless set
 * -> each --set -> finalize (dynamics.epochs/lr inherit train.* unless set) -> cross-key
 * rules. config_set re-runs finalize and the rules after each assignment.
 */
#include "src/config.h"
#include "base/err.h"
#include "base/alloc.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KT_INT, KT_U64, KT_REAL, KT_STR, KT_ENUM, KT_STEPS } KeyType;

enum {                      // value flags
    F_LO_OPEN = 1,          // real: lo excluded
    F_HI_OPEN = 2,          // real: hi excluded
    F_ONE_OR_THREE = 4,     // int: 1 or 3 only
    F_NAME = 8,             // str: run name (letters, digits, . _ -), not empty
    F_NONEMPTY = 16,        // str: not empty
};

typedef struct {
    const char *section, *key;
    KeyType type;
    const char *def;        // default as a config would write it
    const char *def_doc;    // default as the docs say it (NULL: def)
    double lo, hi;          // int/real range, inclusive unless F_*_OPEN
    int flags;
    const char *enums;      // enum: the values in order, '|'-separated (index = C enum)
    const char *help;
    size_t off;             // offset of the value in Config
} KeyDef;

enum {
    K_RUN_NAME, K_RUN_SEED, K_RUN_THREADS,
    K_DATA_PATH, K_DATA_GENERATE, K_DATA_HEIGHT, K_DATA_WIDTH, K_DATA_CHANNELS,
    K_DATA_TEST_EPISODES, K_DATA_VAL_SPLIT, K_DATA_GEN_EPISODES, K_DATA_GEN_STEPS,
    K_DATA_GEN_SEED, K_DATA_GEN_FRAME_SKIP,
    K_MODEL_LATENT, K_MODEL_LATENT_DIM, K_MODEL_LATENT_CHANNELS, K_MODEL_STAGES, K_MODEL_BASE_CHANNELS, K_MODEL_LATENT_NOISE, K_MODEL_OUTPUT_BIAS,
    K_MODEL_AUTOENCODER,
    K_TRAIN_STAGE, K_TRAIN_EPOCHS, K_TRAIN_BATCH_SIZE, K_TRAIN_LR, K_TRAIN_WEIGHT_DECAY,
    K_TRAIN_OPTIMIZER, K_TRAIN_MAX_GRAD_NORM, K_TRAIN_COLLAPSE_STOP, K_TRAIN_CHANGED_WEIGHT,
    K_DYN_TYPE, K_DYN_HIDDEN, K_DYN_BLOCKS, K_DYN_LOSS, K_DYN_CHANGED_WEIGHT, K_DYN_BETA, K_DYN_ROLLOUT_STEPS,
    K_DYN_SAMPLING_START,
    K_DYN_SAMPLING_END, K_DYN_EPOCHS, K_DYN_LR,
    K_EVAL_STEPS, K_EVAL_STARTS, K_EVAL_TEMPERATURE, K_EVAL_SAMPLES, K_EVAL_EPISODES,
    N_KEYS
};
_Static_assert(N_KEYS <= CFG_MAX_KEYS, "raise CFG_MAX_KEYS");
_Static_assert(sizeof(CfgStage) == sizeof(int) && sizeof(CfgGenerate) == sizeof(int) &&
               sizeof(CfgOptimizer) == sizeof(int) && sizeof(CfgDynType) == sizeof(int) &&
               sizeof(CfgLatent) == sizeof(int) && sizeof(CfgDynLoss) == sizeof(int),
               "enum fields are written through int*");

#define OFF(field) offsetof(Config, field)
#define BIG 1e300

static const char *const SECTIONS[] = {"run", "data", "model", "train", "dynamics", "eval"};
#define N_SECTIONS ((int)(sizeof SECTIONS / sizeof SECTIONS[0]))

static const KeyDef KEYS[N_KEYS] = {
    [K_RUN_NAME] = {"run", "name", KT_STR, "", "config file stem", 0, 0, F_NAME, NULL,
        "the run folder is runs/NAME", OFF(run.name)},
    [K_RUN_SEED] = {"run", "seed", KT_U64, "42", NULL, 0, 0, 0, NULL,
        "seed of every random choice (init, splits, shuffling, noise)", OFF(run.seed)},
    [K_RUN_THREADS] = {"run", "threads", KT_INT, "0", NULL, 0, 4096, 0, NULL,
        "worker threads; 0 = all cores", OFF(run.threads)},

    [K_DATA_PATH] = {"data", "path", KT_STR, "data/tetris.h5", NULL, 0, 0, F_NONEMPTY, NULL,
        "episode dataset (HDF5, Minari layout), relative to the working directory",
        OFF(data.path)},
    [K_DATA_GENERATE] = {"data", "generate", KT_ENUM, "tetris", NULL, 0, 0, 0, "tetris|none",
        "when path is missing: record it with this built-in game (none = fail)",
        OFF(data.generate)},
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

    [K_MODEL_LATENT] = {"model", "latent", KT_ENUM, "flat", NULL, 0, 0, 0, "flat|spatial",
        "flat: z is a vector (fully connected to and from the last conv stage, gymemu); spatial: "
        "z is a grid of latent_channels x H/2^stages x W/2^stages (1x1 convs)", OFF(model.latent)},
    [K_MODEL_LATENT_DIM] = {"model", "latent_dim", KT_INT, "32", NULL, 1, 4096, 0, NULL,
        "size of the latent vector z (latent = flat)", OFF(model.latent_dim)},
    [K_MODEL_LATENT_CHANNELS] = {"model", "latent_channels", KT_INT, "16", NULL, 1, 4096, 0, NULL,
        "channels of the latent grid (latent = spatial)", OFF(model.latent_channels)},
    [K_MODEL_STAGES] = {"model", "stages", KT_INT, "3", NULL, 3, 4, 0, NULL,
        "conv stages in encoder and decoder, each halves/doubles H and W",
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
    [K_TRAIN_CHANGED_WEIGHT] = {"train", "changed_weight", KT_REAL, "0", NULL, 0, BIG, 0, NULL,
        "autoencoder loss: L1 with weight 1 + this on the pixels that changed since the previous frame of "
        "the episode (the falling piece, the digits), 1 elsewhere; 0 = plain L1", OFF(train.changed_weight)},

    [K_DYN_TYPE] = {"dynamics", "type", KT_ENUM, "deterministic", NULL, 0, 0, 0,
        "deterministic|vae", "deterministic: z' = z + f(z, a); vae: f outputs mean and log-variance",
        OFF(dynamics.type)},
    [K_DYN_HIDDEN] = {"dynamics", "hidden", KT_INT, "128", NULL, 1, 65536, 0, NULL,
        "width of the dynamics MLP's hidden layers (model.latent = spatial: channels of the conv dynamics' "
        "hidden layers)", OFF(dynamics.hidden)},
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
static const int *cint_at(const Config *c, int k) { return (const int *)((const char *)c + KEYS[k].off); }
static double *real_at(Config *c, int k) { return (double *)((char *)c + KEYS[k].off); }
static const double *creal_at(const Config *c, int k) { return (const double *)((const char *)c + KEYS[k].off); }
static uint64_t *u64_at(Config *c, int k) { return (uint64_t *)((char *)c + KEYS[k].off); }
static const uint64_t *cu64_at(const Config *c, int k) { return (const uint64_t *)((const char *)c + KEYS[k].off); }
static char *str_at(Config *c, int k) { return (char *)c + KEYS[k].off; }
static const char *cstr_at(const Config *c, int k) { return (const char *)c + KEYS[k].off; }

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int find_section(const char *name) {
    for (int i = 0; i < N_SECTIONS; i++)
        if (strcmp(SECTIONS[i], name) == 0) return i;
    return -1;
}

static int find_key(const char *section, const char *key) {
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
static const char *expect_text(int k, char *buf, size_t cap) {
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
    }
    return buf;
}

static int bad_value(int k, const char *val, const char *where, Err *err) {
    char exp[160];
    return err_set(err, "%s: [%s] %s: expected %s, found '%s'", where, KEYS[k].section,
                   KEYS[k].key, expect_text(k, exp, sizeof exp), val);
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
        if (!parse_long(trim(tok), &x) || x < lo || x > hi)
            return err_set(err, "expects comma-separated integers in %d..%d (e.g. 1,5,10,30,60), got '%s'", lo, hi, v);
        if (n == CFG_MAX_STEPS) return err_set(err, "takes at most %d steps, got '%s'", CFG_MAX_STEPS, v);
        if (n > 0 && x <= steps[n - 1]) return err_set(err, "must be strictly increasing, got '%s'", v);
        steps[n++] = (int)x;
    }
    if (n == 0 || commas != n - 1)   // "", "1,,5" or "5,"
        return err_set(err, "expects comma-separated integers in %d..%d (e.g. 1,5,10,30,60), got '%s'", lo, hi, v);
    return n;
}

static int valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= CFG_STR / 2 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

// Parses val as key k into cfg (range-checked). where == NULL: a default from the table.
static int set_value(Config *c, int k, const char *val, const char *where, Err *err) {
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
        if (*end || !isfinite(v) || errno == ERANGE) return bad_value(k, val, w, err);
        int lo_ok = (d->flags & F_LO_OPEN) ? v > d->lo : v >= d->lo;
        int hi_ok = (d->flags & F_HI_OPEN) ? v < d->hi : v <= d->hi;
        if (!lo_ok || !hi_ok) return bad_value(k, val, w, err);
        *real_at(c, k) = v;
        break;
    }
    case KT_ENUM: {
        int i = enum_index(k, val);
        if (i < 0) return bad_value(k, val, w, err);
        *int_at(c, k) = i;
        break;
    }
    case KT_STR:
        if (where) {   // defaults may be empty (run.name is filled in later)
            if ((d->flags & F_NAME) && !valid_name(val)) return bad_value(k, val, w, err);
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
    }
    if (where) {
        c->src[k].set = 1;
        snprintf(c->src[k].where, sizeof c->src[k].where, "%s", where);
    }
    return 0;
}

// The value of key k as a config would write it.
static const char *value_text(const Config *c, int k, char *buf, size_t cap) {
    switch (KEYS[k].type) {
    case KT_INT: snprintf(buf, cap, "%d", *cint_at(c, k)); break;
    case KT_U64: snprintf(buf, cap, "%llu", (unsigned long long)*cu64_at(c, k)); break;
    case KT_REAL: fmt_real(*creal_at(c, k), buf, cap); break;
    case KT_ENUM: enum_name(k, *cint_at(c, k), buf, cap); break;
    case KT_STR: snprintf(buf, cap, "%s", cstr_at(c, k)); break;
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

// ---------------------------------------------------------------- defaults, rules

void config_defaults(Config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    Err err;
    for (int k = 0; k < N_KEYS; k++)
        CHECK(set_value(cfg, k, KEYS[k].def, NULL, &err) == 0, "bad default: %s", err.msg);
}

// dynamics.epochs/lr follow train.* unless set.
static void finalize(Config *c) {
    if (!c->src[K_DYN_EPOCHS].set) c->dynamics.epochs = c->train.epochs;
    if (!c->src[K_DYN_LR].set) c->dynamics.lr = c->train.lr;
}

static const char *stage_name(const Config *c) {
    static const char *const names[] = {"autoencoder", "dynamics", "both"};
    return names[c->train.stage];
}

// Why key k has no effect under c (NULL: it has one). Only rules that depend on other
// keys' values; train.epochs/lr vs dynamics.epochs/lr depend on what was set and are
// handled in check_rules and config_write.
static const char *no_effect(const Config *c, int k, char *buf, size_t cap) {
    const char *sec = KEYS[k].section;
    if (strcmp(sec, "dynamics") == 0 && c->train.stage == STAGE_AUTOENCODER)
        return "has no effect while train.stage = autoencoder";
    switch (k) {
    case K_DATA_GEN_EPISODES: case K_DATA_GEN_STEPS: case K_DATA_GEN_SEED: case K_DATA_GEN_FRAME_SKIP:
        if (c->data.generate == GEN_NONE) return "has no effect while data.generate = none";
        break;
    case K_MODEL_LATENT_DIM:
        if (c->model.latent == LATENT_SPATIAL)
            return "has no effect while model.latent = spatial (z has latent_channels x H/2^stages x "
                   "W/2^stages floats)";
        break;
    case K_MODEL_LATENT_CHANNELS:
        if (c->model.latent == LATENT_FLAT) return "has no effect while model.latent = flat (set latent_dim)";
        break;
    case K_MODEL_LATENT_NOISE: case K_MODEL_OUTPUT_BIAS: case K_TRAIN_CHANGED_WEIGHT:
        if (c->train.stage == STAGE_DYNAMICS)
            return "has no effect while train.stage = dynamics (it is used when training the autoencoder)";
        break;
    case K_MODEL_AUTOENCODER:
        if (c->train.stage != STAGE_DYNAMICS) {
            snprintf(buf, cap, "has no effect while train.stage = %s (%s)", stage_name(c),
                     c->train.stage == STAGE_BOTH ? "the dynamics stage uses the autoencoder trained in this run"
                                                  : "it names the autoencoder a dynamics stage encodes with");
            return buf;
        }
        break;
    case K_DYN_CHANGED_WEIGHT:
        if (c->dynamics.loss == DYN_LOSS_LATENT)
            return "has no effect while dynamics.loss = latent (it weighs the pixel loss)";
        break;
    case K_DYN_BLOCKS:
        if (c->model.latent == LATENT_FLAT)
            return "has no effect while model.latent = flat (the dynamics is the MLP; blocks are the conv "
                   "dynamics' of a spatial latent)";
        break;
    case K_DYN_BETA:
        if (c->dynamics.type == DYN_DETERMINISTIC)
            return "has no effect while dynamics.type = deterministic (it weighs the vae's KL term)";
        break;
    case K_DYN_SAMPLING_START: case K_DYN_SAMPLING_END:
        if (c->dynamics.rollout_steps == 1)
            return "has no effect while dynamics.rollout_steps = 1 (scheduled sampling feeds "
                   "predictions back within a multi-step rollout)";
        break;
    case K_EVAL_TEMPERATURE: case K_EVAL_SAMPLES:
        if (c->train.stage == STAGE_AUTOENCODER || c->dynamics.type == DYN_DETERMINISTIC)
            return "has no effect while dynamics.type = deterministic";
        break;
    }
    return NULL;
}

static const char *where_of(const Config *c, int k) {
    return c->src[k].set ? c->src[k].where : "default";
}

static int rule_err(const Config *c, int k, Err *err, const char *msg) {
    return err_set(err, "%s: [%s] %s: %s", where_of(c, k), KEYS[k].section, KEYS[k].key, msg);
}

static int check_rules(const Config *c, Err *err) {
    char buf[256], msg[512];
    for (int k = 0; k < N_KEYS; k++) {
        const char *why = c->src[k].set ? no_effect(c, k, buf, sizeof buf) : NULL;
        if (why) return rule_err(c, k, err, why);
    }
    // train.epochs/lr under stage = dynamics when dynamics.epochs/lr is set too
    static const int pairs[2][2] = {{K_TRAIN_EPOCHS, K_DYN_EPOCHS}, {K_TRAIN_LR, K_DYN_LR}};
    for (int i = 0; i < 2; i++) {
        int t = pairs[i][0], dk = pairs[i][1];
        if (c->train.stage == STAGE_DYNAMICS && c->src[t].set && c->src[dk].set) {
            snprintf(msg, sizeof msg, "has no effect while train.stage = dynamics and dynamics.%s "
                     "is set (at %s)", KEYS[dk].key, c->src[dk].where);
            return rule_err(c, t, err, msg);
        }
    }
    // H and W divisible by 2^stages: cite height/width if set there, else stages
    int f = 1 << c->model.stages;
    int hw[2] = {K_DATA_HEIGHT, K_DATA_WIDTH};
    for (int i = 0; i < 2; i++) {
        int v = *cint_at(c, hw[i]);
        if (v % f == 0) continue;
        int k = c->src[hw[i]].set ? hw[i] : K_MODEL_STAGES;
        snprintf(msg, sizeof msg, "data.%s = %d is not divisible by 2^model.stages = %d "
                 "(model.stages = %d at %s)", KEYS[hw[i]].key, v, f, c->model.stages,
                 where_of(c, K_MODEL_STAGES));
        return rule_err(c, k, err, msg);
    }
    if (c->train.stage == STAGE_DYNAMICS && !c->model.autoencoder[0])
        return rule_err(c, K_TRAIN_STAGE, err, "dynamics needs [model] autoencoder = <checkpoint "
                        "of the autoencoder to encode with> (or use stage = both)");
    if (c->dynamics.type == DYN_VAE && c->train.stage != STAGE_AUTOENCODER &&
        c->eval.samples > 1 && c->eval.temperature == 0) {
        snprintf(msg, sizeof msg, "%d samples have no effect while eval.temperature = 0 (at %s): "
                 "every sample is the mean", c->eval.samples, where_of(c, K_EVAL_TEMPERATURE));
        return rule_err(c, K_EVAL_SAMPLES, err, msg);
    }
    return 0;
}

// ---------------------------------------------------------------- the parser

#define MAX_DEPTH 16

typedef struct {
    Config *cfg;
    Err *err;
    char *real[MAX_DEPTH];   // realpath of each file being read, for cycle detection
    char *shown[MAX_DEPTH];  // the path as messages show it
    int depth;
} Parser;

// Reads one file; `from` is "file:line" of the include line (NULL for the top file).
static int parse_file(Parser *p, const char *path, const char *from) {
    char *real = realpath(path, NULL);
    FILE *f = real ? fopen(path, "r") : NULL;
    if (!f) {
        int e = errno;
        free(real);
        if (from) return err_set(p->err, "%s: include: cannot open '%s': %s", from, path, strerror(e));
        return err_set(p->err, "cannot open config '%s': %s", path, strerror(e));
    }
    for (int i = 0; i < p->depth; i++) {
        if (strcmp(p->real[i], real) != 0) continue;
        char chain[1024];
        size_t n = 0;
        chain[0] = '\0';
        for (int j = i; j < p->depth && n < sizeof chain; j++)
            n += (size_t)snprintf(chain + n, sizeof chain - n, "%s -> ", p->shown[j]);
        if (n < sizeof chain) snprintf(chain + n, sizeof chain - n, "%s", path);
        free(real);
        fclose(f);
        return err_set(p->err, "%s: include cycle: %s", from, chain);
    }
    if (p->depth == MAX_DEPTH) {
        free(real);
        fclose(f);
        return err_set(p->err, "%s: include: nested more than %d deep", from, MAX_DEPTH);
    }
    p->real[p->depth] = real;
    p->shown[p->depth] = xstrdup(path);
    p->depth++;

    int seen_line[N_KEYS] = {0};   // line where each key was set in this file (duplicates)
    int section = -1, lineno = 0, rc = 0;
    char *line = NULL, where[CFG_STR + 32];
    size_t cap = 0;
    while (rc == 0 && getline(&line, &cap, f) != -1) {
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        char *s = trim(line);
        if (*s == '#' || *s == ';' || *s == '\0') continue;
        for (char *q = s + 1; *q; q++)   // trailing comment: # or ; after whitespace
            if ((*q == '#' || *q == ';') && (q[-1] == ' ' || q[-1] == '\t')) { *q = '\0'; break; }
        s = trim(s);
        if (*s == '[') {
            size_t n = strlen(s);
            if (s[n - 1] != ']') { rc = err_set(p->err, "%s: expected '[section]', found '%s'", where, s); break; }
            s[n - 1] = '\0';
            char *name = trim(s + 1);
            section = find_section(name);
            if (section < 0)
                rc = err_set(p->err, "%s: unknown section [%s] (sections: run, data, model, train, "
                             "dynamics, eval)", where, name);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) { rc = err_set(p->err, "%s: expected 'key = value' or '[section]', found '%s'", where, s); break; }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        if (strcmp(key, "include") == 0) {
            if (!*val) { rc = err_set(p->err, "%s: include: expected a file name", where); break; }
            char inc[2 * CFG_STR];
            const char *slash = strrchr(path, '/');
            if (val[0] == '/' || !slash) snprintf(inc, sizeof inc, "%s", val);
            else snprintf(inc, sizeof inc, "%.*s/%s", (int)(slash - path), path, val);
            rc = parse_file(p, inc, where);
            continue;
        }
        if (section < 0) { rc = err_set(p->err, "%s: key '%s' before any [section]", where, key); break; }
        int k = find_key(SECTIONS[section], key);
        if (k < 0) {
            char keys[512];
            size_t n = 0;
            keys[0] = '\0';
            for (int j = 0; j < N_KEYS && n < sizeof keys; j++)
                if (strcmp(KEYS[j].section, SECTIONS[section]) == 0)
                    n += (size_t)snprintf(keys + n, sizeof keys - n, "%s%s", n ? ", " : "", KEYS[j].key);
            rc = err_set(p->err, "%s: [%s] unknown key '%s' (keys: %s)", where, SECTIONS[section], key, keys);
            break;
        }
        if (seen_line[k]) {
            rc = err_set(p->err, "%s: [%s] %s: set twice in this file (first at line %d)", where,
                         KEYS[k].section, KEYS[k].key, seen_line[k]);
            break;
        }
        seen_line[k] = lineno;
        rc = set_value(p->cfg, k, val, where, p->err);
    }
    if (rc == 0 && ferror(f)) rc = err_set(p->err, "%s: read error: %s", path, strerror(errno));
    free(line);
    fclose(f);
    p->depth--;
    free(p->real[p->depth]);
    free(p->shown[p->depth]);
    return rc;
}

static int apply_set(Config *c, const char *assignment, Err *err) {
    char buf[1024], where[CFG_STR + 64];
    snprintf(where, sizeof where, "--set %s", assignment);
    if (strlen(assignment) >= sizeof buf) return err_set(err, "--set: assignment too long");
    strcpy(buf, assignment);
    char *eq = strchr(buf, '=');
    char *dot = eq ? memchr(buf, '.', (size_t)(eq - buf)) : NULL;
    if (!eq || !dot) return err_set(err, "%s: expected section.key=value", where);
    *eq = '\0';
    *dot = '\0';
    char *sec = trim(buf), *key = trim(dot + 1), *val = trim(eq + 1);
    if (find_section(sec) < 0)
        return err_set(err, "%s: unknown section [%s] (sections: run, data, model, train, dynamics, eval)",
                       where, sec);
    int k = find_key(sec, key);
    if (k < 0) return err_set(err, "%s: [%s] unknown key '%s'", where, sec, key);
    return set_value(c, k, val, where, err);
}

int config_set(Config *cfg, const char *assignment, Err *err) {
    if (apply_set(cfg, assignment, err)) return -1;
    finalize(cfg);
    return check_rules(cfg, err);
}

int config_load(Config *cfg, const char *path, int n_sets, char **sets, Err *err) {
    config_defaults(cfg);
    if (path) {
        Parser p = {.cfg = cfg, .err = err};
        if (parse_file(&p, path, NULL)) return -1;
        if (!cfg->src[K_RUN_NAME].set) {   // the file's stem
            const char *base = strrchr(path, '/');
            base = base ? base + 1 : path;
            const char *ext = strrchr(base, '.');
            size_t n = ext && ext != base ? (size_t)(ext - base) : strlen(base);
            char stem[CFG_STR];
            snprintf(stem, sizeof stem, "%.*s", (int)n, base);
            if (!valid_name(stem))
                return err_set(err, "%s: [run] name: the file stem '%s' is not a valid run name "
                               "(letters, digits, '.', '_', '-'); set [run] name", path, stem);
            strcpy(cfg->run.name, stem);
        }
    } else {
        strcpy(cfg->run.name, "nemu");
    }
    for (int i = 0; i < n_sets; i++)
        if (apply_set(cfg, sets[i], err)) return -1;
    finalize(cfg);
    return check_rules(cfg, err);
}

// ---------------------------------------------------------------- output

// Why config_write comments key k out (NULL: written as a setting).
static const char *write_comment_reason(const Config *c, int k, char *buf, size_t cap) {
    const char *why = no_effect(c, k, buf, cap);
    if (why) return why;
    if (k == K_RUN_NAME && !c->run.name[0]) return "default: the config file's stem";
    // dynamics.x equal to train.x is written as inherited (so a later --set train.x moves
    // it too); under stage = dynamics an unequal train.x is at its default (load refuses
    // both set) and has no effect
    int same_e = c->dynamics.epochs == c->train.epochs, same_l = c->dynamics.lr == c->train.lr;
    if (k == K_DYN_EPOCHS && same_e) return "the same as train.epochs";
    if (k == K_DYN_LR && same_l) return "the same as train.lr";
    if (c->train.stage == STAGE_DYNAMICS) {
        if (k == K_TRAIN_EPOCHS && !same_e) return "has no effect: dynamics.epochs is set";
        if (k == K_TRAIN_LR && !same_l) return "has no effect: dynamics.lr is set";
    }
    return NULL;
}

void config_write(const Config *cfg, FILE *f) {
    char val[CFG_STR + 16], exp[160], why[256];
    fprintf(f, "# nemu config, resolved: every key with defaults filled in.\n"
               "# Keys written as comments have no effect under this config.\n");
    const char *sec = "";
    for (int k = 0; k < N_KEYS; k++) {
        const KeyDef *d = &KEYS[k];
        if (strcmp(sec, d->section) != 0) {
            sec = d->section;
            fprintf(f, "\n[%s]\n", sec);
        }
        fprintf(f, "# %s; %s; default %s\n", d->help, expect_text(k, exp, sizeof exp),
                d->def_doc ? d->def_doc : d->def);
        value_text(cfg, k, val, sizeof val);
        const char *r = write_comment_reason(cfg, k, why, sizeof why);
        if (r) fprintf(f, "# %s = %s    (%s)\n", d->key, val, r);
        else fprintf(f, "%s = %s\n", d->key, val);
    }
}

char *config_to_string(const Config *cfg) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    CHECK(f, "open_memstream failed");
    config_write(cfg, f);
    fclose(f);
    return buf;
}

uint64_t config_hash(const Config *cfg) {
    char *s = config_to_string(cfg);
    uint64_t h = 1469598103934665603ULL;   // FNV-1a 64
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    free(s);
    return h;
}

int config_equal(const Config *a, const Config *b) {
    char va[CFG_STR + 16], vb[CFG_STR + 16];
    for (int k = 0; k < N_KEYS; k++) {
        if (KEYS[k].type == KT_REAL) {
            if (*creal_at(a, k) != *creal_at(b, k)) return 0;
        } else if (strcmp(value_text(a, k, va, sizeof va), value_text(b, k, vb, sizeof vb)) != 0) {
            return 0;
        }
    }
    return 1;
}

const char *config_source(const Config *cfg, const char *section_dot_key) {
    const char *dot = strchr(section_dot_key, '.');
    CHECK(dot, "config_source: expected section.key, got '%s'", section_dot_key);
    char sec[32];
    snprintf(sec, sizeof sec, "%.*s", (int)(dot - section_dot_key), section_dot_key);
    int k = find_key(sec, dot + 1);
    CHECK(k >= 0, "config_source: unknown key '%s'", section_dot_key);
    return cfg->src[k].set ? cfg->src[k].where : NULL;
}

void config_print_keys_markdown(FILE *f) {
    char exp[160];
    fprintf(f, "| section | key | default | values | meaning |\n|---|---|---|---|---|\n");
    for (int k = 0; k < N_KEYS; k++) {
        const KeyDef *d = &KEYS[k];
        const char *def = d->def_doc ? d->def_doc : d->def;
        fprintf(f, "| %s | %s | %s | %s | %s |\n", d->section, d->key, def,
                expect_text(k, exp, sizeof exp), d->help);
    }
}
