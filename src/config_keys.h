/*
 * config_keys.h - inside the config (src/config.c, src/config_keys.c), not an API: the
 * table of keys, KEYS[], and what a value of each key looks like (parse, range, text).
 * config_keys.c holds the table and the per-value code; config.c the file parser, the
 * cross-key rules and the output, which walk the table.
 */
#ifndef NEMU_CONFIG_KEYS_H
#define NEMU_CONFIG_KEYS_H

#include <stddef.h>
#include "src/config.h"
#include "base/err.h"


typedef enum { KT_INT, KT_U64, KT_REAL, KT_STR, KT_ENUM, KT_STEPS, KT_HISTORY } KeyType;

enum {                      // value flags
    F_LO_OPEN = 1,          // real: lo excluded
    F_HI_OPEN = 2,          // real: hi excluded
    F_ONE_OR_THREE = 4,     // int: 1 or 3 only
    F_NAME = 8,             // str: run name (letters, digits, . _ -), not empty
    F_NONEMPTY = 16,        // str: not empty
    F_LIST = 32,            // enum: also a comma-separated list (data.generate: one per file of data.path)
    F_ROLLOUT = 64,         // how ./eval and ./play draw a rollout, not what is trained: not in config_hash
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
    K_DATA_GEN_SEED, K_DATA_GEN_FRAME_SKIP, K_DATA_ACCEPT_ODD,
    K_MODEL_LATENT, K_MODEL_LATENT_DIM, K_MODEL_LATENT_CHANNELS, K_MODEL_STAGES, K_MODEL_BASE_CHANNELS, K_MODEL_LATENT_NOISE, K_MODEL_OUTPUT_BIAS,
    K_MODEL_AUTOENCODER,
    K_TRAIN_STAGE, K_TRAIN_EPOCHS, K_TRAIN_BATCH_SIZE, K_TRAIN_LR, K_TRAIN_WEIGHT_DECAY,
    K_TRAIN_OPTIMIZER, K_TRAIN_MAX_GRAD_NORM, K_TRAIN_COLLAPSE_STOP, K_TRAIN_GRAD_CHUNKS, K_TRAIN_CHANGED_WEIGHT,
    K_TRAIN_PERCEPTUAL_WEIGHT, K_TRAIN_PERCEPTUAL_MODEL, K_TRAIN_WEIGHT_MAP, K_TRAIN_WEIGHT_MAP_GAIN,
    K_DYN_TYPE, K_DYN_HIDDEN, K_DYN_BLOCKS, K_DYN_HYPOTHESES, K_DYN_HYP_FEED, K_DYN_HYP_CHOICE, K_DYN_HISTORY, K_DYN_COMPOSE, K_DYN_DEADBAND, K_DYN_REENCODE, K_DYN_LOSS, K_DYN_CHANGED_WEIGHT, K_DYN_BETA, K_DYN_ROLLOUT_STEPS,
    K_DYN_EVENT_WEIGHT, K_DYN_EVENT_SHARE,
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

#define BIG 1e300                // "no upper bound" in KeyDef.hi

extern const char *const SECTIONS[];
#define N_SECTIONS 6
extern const KeyDef KEYS[N_KEYS];

// Value access: the field of key k inside a Config.
static inline const int *cint_at(const Config *c, int k) { return (const int *)((const char *)c + KEYS[k].off); }
static inline const double *creal_at(const Config *c, int k) { return (const double *)((const char *)c + KEYS[k].off); }

char *cfg_trim(char *s);                                  // strips blanks (and CR/LF) at both ends, in place
int cfg_find_section(const char *name);                   // index in SECTIONS, or -1
int cfg_find_key(const char *section, const char *key);   // index in KEYS, or -1
int cfg_valid_name(const char *s);                        // a run name: letters, digits, . _ -
// What a value of key k must look like, e.g. "an integer in 1..4096".
const char *cfg_expect_text(int k, char *buf, size_t cap);
// Parses val as key k into c (range-checked) and records where it was set. where == NULL:
// a default from the table (not recorded as set). 0, or -1 with Err.
int cfg_set_value(Config *c, int k, const char *val, const char *where, Err *err);
// The value of key k as a config would write it.
const char *cfg_value_text(const Config *c, int k, char *buf, size_t cap);

#endif
