/*
 * config.h - the strict INI config of ./train and ./eval (SPEC.md section 4).
 *
 * A config file has sections [run] [data] [model] [train] [dynamics] [eval], lines
 * "key = value", comments starting with # or ; (a whole line, or after whitespace at the
 * end of a line) and "include = other.ini" lines (path relative to the including file;
 * nested; cycles are errors). Lines are applied in order, so keys after an include
 * override the included file's values and keys before it are overridden by it. Any key
 * can also be set with "--set section.key=value" (applied after the file, in order).
 *
 * Everything is fatal, with "<file>:<line>: [section] key: message" (or "--set s.k=v: ..."):
 * unknown section or key, a line without '=', a key before any section, a key twice in one
 * file, a number that does not parse completely (or is NaN/inf), a value out of range, an
 * enum value not in the list, and a setting that has no effect under the rest of the
 * config (e.g. dynamics.beta while dynamics.type = deterministic). Cross-key rules run
 * after all includes and --set overrides, and cite where the offending key was set.
 *
 * One table of keys (src/config_keys.c) drives the parser, config_write() and the Markdown key
 * table (config_print_keys_markdown, used by the README and ./train --help-config).
 * Relative paths in values (data.path, model.autoencoder) are relative to the working
 * directory, not to the config file.
 */
#ifndef NEMU_CONFIG_H
#define NEMU_CONFIG_H

#include <stdint.h>
#include <stdio.h>
#include "base/err.h"

#define CFG_STR 256          // capacity of string values (name, paths), including the NUL
#define CFG_MAX_STEPS 32     // most entries in eval.steps
#define CFG_MAX_KEYS 64      // capacity of Config.src (>= number of keys in the table)
#define CFG_MAX_FILES 8      // most episode files (games) in data.path

typedef enum { GEN_TETRIS, GEN_SCROLLER, GEN_MAZE, GEN_NONE } CfgGenerate;   // order of data.generate's values
// The built-in game (data/game.h's name) data.generate records, or NULL for none.
static inline const char *cfg_generate_game(CfgGenerate g) {
    static const char *const NAMES[] = {"tetris", "scroller", "maze"};
    return g >= 0 && g < GEN_NONE ? NAMES[g] : (const char *)0;
}
typedef enum { STAGE_AUTOENCODER, STAGE_DYNAMICS, STAGE_BOTH } CfgStage;
typedef enum { OPT_ADAM, OPT_ADAMW } CfgOptimizer;
typedef enum { DYN_DETERMINISTIC, DYN_VAE } CfgDynType;
typedef enum { DYN_LOSS_LATENT, DYN_LOSS_PIXEL } CfgDynLoss;
typedef enum { HYP_FEED_NEAREST, HYP_FEED_MOST_PROBABLE } CfgHypFeed;
typedef enum { HYP_CHOICE_FRAME, HYP_CHOICE_CELL } CfgHypChoice;
typedef enum { LATENT_FLAT, LATENT_SPATIAL } CfgLatent;
typedef enum { OUTBIAS_DATA_MEAN, OUTBIAS_PYTORCH } CfgOutputBias;

// Where a key got its value: set == 0 means the default (or, for dynamics.epochs/lr, the
// value inherited from train.*). where is "file:line" or "--set section.key=value".
typedef struct {
    int set;
    char where[CFG_STR + 64];
} CfgSource;

typedef struct {
    struct {
        char name[CFG_STR];     // run folder runs/<name>; default: the config file's stem
        uint64_t seed;          // 42
        int threads;            // 0 = all cores
    } run;
    struct {
        char path[CFG_STR];     // "data/tetris.h5"; several games: "a.h5, b.h5" (cfg_data_files)
        CfgGenerate generate;   // tetris: record `path` with the built-in game when missing (a list: the first)
        CfgGenerate gen_list[CFG_MAX_FILES];   // data.generate as a list, one per file of data.path
        int n_gen;              // entries of gen_list (1 for a single value)
        int height, width;      // 80, 80: frames are resized to this
        int channels;           // 1 (grey) or 3 (RGB)
        int test_episodes;      // 20 held-out episodes
        double val_split;       // 0.2 of the remaining episodes
        int gen_episodes;       // generator settings; 0 = the recorder's default
        int gen_steps;
        uint64_t gen_seed;
        int gen_frame_skip;
        int accept_odd;         // 0 (no): refuse an odd layout; 1 (yes): load it, say what was odd
    } data;
    struct {
        CfgLatent latent;       // flat: a vector of latent_dim; spatial: a grid (latent_channels)
        int latent_dim;         // 32 (flat)
        int latent_channels;    // 16 (spatial): z is [latent_channels, H/2^stages, W/2^stages]
        int stages;             // 3 conv stages (each halves H and W)
        int base_channels;      // 32
        double latent_noise;    // 0: std of N(0, s) added to z before decoding (AE training)
        CfgOutputBias output_bias;  // data_mean: decoder output bias = logit(mean pixel); pytorch: gymemu's init
        char autoencoder[CFG_STR];  // AE checkpoint for stage = dynamics (required there)
    } model;
    struct {
        CfgStage stage;         // autoencoder
        int epochs;             // 50 (every stage; dynamics.epochs overrides for dynamics)
        int batch_size;         // 128
        double lr;              // 0.001 (every stage; dynamics.lr overrides for dynamics)
        double weight_decay;    // 0
        CfgOptimizer optimizer; // adam
        double max_grad_norm;   // 0 = no clipping
        int collapse_stop;      // 2: stop after this many collapsed epochs in a row; 0 = warn only
        int grad_chunks;        // 0; C > 0: gradients of C fixed chunks of a batch, summed in order (src/train_dist.c)
        double changed_weight;  // 0: autoencoder L1 weight 1 + this on pixels changed since the previous frame
        double perceptual_weight;          // 0: autoencoder loss L1 + this x perceptual (nn/perceptual.h)
        char perceptual_model[CFG_STR];    // the frozen autoencoder checkpoint whose conv stages it compares
        char weight_map[CFG_STR];          // a grey PNG: autoencoder L1 weight 1 + weight_map_gain x pixel (src/train_weight_map.c)
        double weight_map_gain;            // 0: no map
    } train;
    struct {
        CfgDynType type;        // deterministic
        int hidden;             // 128 (spatial latent: the conv dynamics' hidden channels)
        int blocks;             // 2: 3x3 conv blocks of the conv dynamics (spatial latent)
        int hypotheses;         // 1: candidate deltas of the conv dynamics' head (> 1: one is chosen per step)
        CfgHypFeed hyp_feed;    // nearest: a training rollout steps on from the candidate nearest the truth
        CfgHypChoice hyp_choice;   // frame: one candidate a step; cell: each grid cell chooses its own
        int history;            // 0: past latents the conv dynamics sees (difference planes)
        int history_off[CFG_MAX_STEPS];   // how many steps back each is (all 0: the `history` steps before)
        double compose;         // 0: predicted frames as decoded; > 0: emu_compose's threshold (./eval, ./play)
        double deadband;        // > 0: latent cells a rollout step changes by a smaller RMS keep their value (./eval, ./play)
        int reencode;           // N > 0: every N rollout steps, z = encode(the frame as drawn) (./eval, ./play)
        CfgDynLoss loss;        // latent: MSE on z; pixel: L1 of the decoded prediction on the next frame
        double changed_weight;  // 0: pixel loss weight 1 + this on pixels that change (loss = pixel)
        double beta;            // 0: KL weight (vae only)
        int rollout_steps;      // 1: steps unrolled per training sample
        int event_weight;       // 1: training windows with a step of the largest latent changes are drawn this often
        double event_share;     // 0.02: ...the largest changes: this share of the training steps
        double sampling_start;  // 0: scheduled-sampling probability at the first epoch...
        double sampling_end;    // 0: ...annealed linearly to this at the last epoch
        int epochs;             // resolved: train.epochs unless set
        double lr;              // resolved: train.lr unless set
    } dynamics;
    struct {
        int steps[CFG_MAX_STEPS];   // 1,5,10,30,60: strictly increasing, each 1..1000
        int n_steps;
        int starts;             // 5 start points per test episode
        double temperature;     // 0 = the mean (vae only)
        int samples;            // 1 sample per start (vae only)
        int episodes;           // 0 = all test episodes
    } eval;
    CfgSource src[CFG_MAX_KEYS];   // per key, in table order (see config_source)
} Config;

// The episode files of data.path (a comma-separated list: one file per game; spaces around
// each name trimmed) into files; returns how many (1 for a plain path). config_load has
// checked the list (no empty name, no file twice, at most CFG_MAX_FILES).
int cfg_data_files(const Config *cfg, char files[][CFG_STR]);
// The built-in game that records file i of data.path when it is missing: data.generate (one
// value for one file, a list of one per file for several), GEN_NONE when none is named.
CfgGenerate cfg_data_generate(const Config *cfg, int i);

// Every key at its default (run.name empty: config_load fills in the file stem).
void config_defaults(Config *cfg);

// Defaults, then the file at path (NULL: none; run.name then defaults to "nemu"), then
// sets[0..n_sets) as "section.key=value", then the cross-key rules. 0, or -1 with Err.
int config_load(Config *cfg, const char *path, int n_sets, char **sets, Err *err);

// Applies one "section.key=value" to an already loaded config and re-runs the cross-key
// rules (what config_load does for each --set). 0, or -1 with Err.
int config_set(Config *cfg, const char *assignment, Err *err);

// The resolved config as INI text: every key with a comment line giving its meaning; keys
// that have no effect under this config are written commented out. config_load of the
// output gives the same settings (config_equal).
void config_write(const Config *cfg, FILE *f);
char *config_to_string(const Config *cfg);   // the same text, malloc'ed

// FNV-1a 64 of the config_write text: equal settings <=> equal hash (up to collisions).
uint64_t config_hash(const Config *cfg);

// 1 when every setting is equal (provenance in src is not compared).
int config_equal(const Config *a, const Config *b);

// Where "section.key" was set ("file:line" or "--set ..."), or NULL when it has its
// default value. Dies (CHECK) on an unknown key name.
const char *config_source(const Config *cfg, const char *section_dot_key);

// The key table as Markdown: | section | key | default | values | meaning |.
void config_print_keys_markdown(FILE *f);
// A list of rollout steps, "1,5,10" (eval.steps, ./eval --steps): strictly increasing
// integers in lo..hi, at most CFG_MAX_STEPS, spaces around each allowed. Returns the count,
// or -1 with the reason in err (may be NULL).
int steps_parse(const char *v, int lo, int hi, int *steps, Err *err);

#endif
