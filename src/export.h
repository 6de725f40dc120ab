/*
 * export.h - what ./export's files share (issue #24): a trained run read into a list of
 * layers (src/export_model.c), written as one dependency-free C99 file in float, Q16.16 or
 * int8 (src/export_emit.c, runtime text from src/export_rt/), checked against nemu's own
 * float model through the compiled file (src/export_check.c).
 *
 * Every model the exporter takes is a chain of Conv2d / ConvTranspose2d layers (a Linear is a
 * 1x1 conv on a 1x1 grid) plus a few steps of its own (action planes, pooled context,
 * residual, VAE sampling, LayerNorm + GELU of the flat dynamics).
 */
#ifndef NEMU_EXPORT_H
#define NEMU_EXPORT_H

#include <stdint.h>
#include <stdio.h>
#include "nn/conv.h"
#include "nn/dynamics.h"
#include "nn/model.h"
#include "data/dataset.h"
#include "base/err.h"
#include "src/config.h"
#include "src/emu_run.h"

typedef enum { FMT_FLOAT = 0, FMT_Q16, FMT_INT8 } ExFormat;
extern const char *const EX_FORMAT_NAMES[3];   // "float", "q16", "int8"

enum { XL_CONV = 0, XL_CONVT = 1 };
enum { XACT_NONE = 0, XACT_RELU = 1, XACT_SIGMOID = 2 };   // the runtime's ACT_* values

#define EX_MAX_LAYERS 32

typedef struct {
    int kind;              // XL_CONV or XL_CONVT
    char id[32];           // C identifier in the generated file (L_<id>, W_<id>)
    char tensor[48];       // the checkpoint's name, e.g. "decoder_conv.0"
    const float *w, *b;    // into the loaded arenas
    ConvShape s;
    int act;               // XACT_*
    float in_max;          // calibrated max |input| (int8 scales)
} XLayer;

typedef struct {
    EmuRun run;                // the run: folder, config, checkpoints (src/emu_run.h)
    char eval_path[1400];
    char eval_summary[2048];   // one or a few lines; "" when no ./eval results were found
    // the models (nemu's own, float)
    AEConfig ac;
    AE ae;
    DynModel dyn;
    int spatial, vae, mlp;     // spatial latent; VAE head; flat MLP dynamics (else conv dynamics)
    int C, H, W, Z, A, hidden, blocks, grid_h, grid_w;   // A: the dynamics' action inputs (buttons + games)
    int B;                     // the buttons the exported step takes (A less the game columns)
    int n_games, game;         // a run of several games (roadmap 5.3): how many, and the one exported, whose
    char game_name[64];        // one-hot column the exported step sets as a constant (n_games = 0: none)
    char data_path[CFG_STR];   // the data file (a run of several games: the exported game's)
    // the layers, in the order they run
    XLayer enc[EX_MAX_LAYERS], dec[EX_MAX_LAYERS], dyn_l[EX_MAX_LAYERS];
    int n_enc, n_dec, n_dyn;
    const float *ln_w, *ln_b;  // flat dynamics: LayerNorm of [z, a]
    // data: the compiled-in start (the first test episode's first frame) and its actions
    Dataset ds;
    Split split;               // the run's split of ds (test: the check's episodes)
    int start_ep, start_t;     // the compiled-in start: frame start_t of episode index start_ep of ds
    float *start_z;            // [Z] nemu's encoding of that frame
    float *calib_z;            // [n_calib][Z] encoded calibration frames (int8 ranges)
    int n_calib;
} ExModel;

// Reads the run (--run opt_run or the newest; src/emu_run.h dies with one line on a bad run or
// a non-finite weight), then the data; builds the layer lists, encodes the start frame and
// calibrates the int8 input ranges. One line in err and -1 on a problem with the data.
// start_t: the frame of the first test episode that the compiled-in start latent encodes.
// game: a run of several games needs the name of the one to export (dies in one line without it, with
// a name not in the run, or with a name on a run of one game); NULL otherwise.
int export_load(ExModel *m, const char *opt_run, const char *game, const char *results_dir, int start_t, Err *err);
void export_free(ExModel *m);
// Whether fmt can express this model (-1 and why in err if not).
int export_format_ok(const ExModel *m, ExFormat fmt, Err *err);
// Parameters of the exported layers (encoder only with `encoder`) and their bytes in fmt.
size_t export_params(const ExModel *m, int encoder);
size_t export_weight_bytes(const ExModel *m, ExFormat fmt, int encoder);

// Writes dir/name.h and dir/name.c (dir exists). -1 and err on a write error.
int export_write_c(const ExModel *m, ExFormat fmt, const char *dir, const char *name, int encoder, Err *err);
void export_upper(const char *name, char *up, size_t cap);   // NAME -> the prefix of its #defines

// The web page into dir (exists): name.h/.c, web.c (the page's calls), index.html, and name.js +
// name.wasm compiled by emscripten's emcc (its output in dir/emcc.log). -1 and err on failure.
int export_web(const ExModel *m, ExFormat fmt, const char *dir, const char *name, Err *err);
// Whether emcc is on the PATH.
int export_have_emcc(void);

// ./export --check LIB.so: nemu's float model against the exported one (compiled as a shared
// object) on the run's test episodes; prints the report; returns the exit status.
int export_check_main(const ExModel *m, const char *lib, const char *name, int steps, int episodes);

#endif
