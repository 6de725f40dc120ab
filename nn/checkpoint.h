/*
 * checkpoint.h - HDF5 checkpoints of a model's ParamArena (SPEC.md section 5).
 *
 * Layout (every dataset float32 unless noted):
 *   /state_dict/<name>              one dataset per tensor, named and shaped as PyTorch's
 *                                   state_dict (e.g. /state_dict/encoder_conv.0.weight [32,1,4,4])
 *   /optimizer/exp_avg/<name>       Adam m   (torch.optim.Adam state names)
 *   /optimizer/exp_avg_sq/<name>    Adam v
 *   /rng                            uint64 [4], the trainer's Rng state
 *   root attributes: format = "nemu-checkpoint", version = 1, model = "autoencoder"|"dynamics",
 *                    step (Adam t), epoch, the config dims (height width channels stages
 *                    base_channels latent_dim latent_noise | latent_dim n_actions hidden), and
 *                    any extra attribute the trainer sets (config hash, best val loss, ...).
 * Saving writes "<path>.tmp" and renames it over <path>, so a crash never leaves a half file.
 * Loading checks every name and shape against the model's table before reading anything and
 * reports the first difference (missing, unexpected, shape) as one line in Err.
 * A NaN or Inf in any tensor (weights or Adam state) is refused both ways (nn/finite.h).
 * A file without /optimizer (e.g. a state_dict exported from PyTorch) loads with m = v = 0 and
 * step 0; a file without /rng leaves meta->has_rng = 0.
 */
#ifndef NEMU_CHECKPOINT_H
#define NEMU_CHECKPOINT_H

#include <stdint.h>
#include "nn/model.h"
#include "base/err.h"
#include "base/rng.h"

#define CKPT_FORMAT "nemu-checkpoint"
#define CKPT_VERSION 1
#define CKPT_MAX_ATTRS 32

typedef enum { CKPT_I64, CKPT_F64, CKPT_STR } CkptAttrType;

typedef struct {
    char name[48];
    CkptAttrType type;
    int64_t i;
    double f;
    char s[256];
} CkptAttr;

typedef struct {
    char model[32];          // "autoencoder" | "dynamics"
    long step;               // Adam t
    long epoch;
    int has_rng;
    Rng rng;
    int has_optimizer;       // load: 1 when /optimizer was present
    int n_attrs;             // config dims and trainer extras, stored as root attributes
    CkptAttr attrs[CKPT_MAX_ATTRS];
} CkptMeta;

void ckpt_meta_init(CkptMeta *meta, const char *model);
// Sets (or replaces) an extra root attribute. The names format, version, model, step and
// epoch are reserved (CHECK).
void ckpt_set_i64(CkptMeta *meta, const char *name, int64_t v);
void ckpt_set_f64(CkptMeta *meta, const char *name, double v);
void ckpt_set_str(CkptMeta *meta, const char *name, const char *s);
const CkptAttr *ckpt_get(const CkptMeta *meta, const char *name);   // NULL if absent

// model = "autoencoder" plus the AEConfig dims; model = "dynamics" plus the DynConfig dims.
void ckpt_meta_ae(CkptMeta *meta, const AEConfig *c);
void ckpt_meta_dyn(CkptMeta *meta, const DynConfig *c);
// Config from a checkpoint's attributes (to build the model before loading the weights).
// max_steps of a DynConfig is not stored: it is set to 1.
int ckpt_meta_to_ae_config(const CkptMeta *meta, AEConfig *c, Err *err);
int ckpt_meta_to_dyn_config(const CkptMeta *meta, DynConfig *c, Err *err);

// Writes params, Adam m and v (a->m, a->v), meta (step, epoch, rng if has_rng, attrs).
int checkpoint_save(const char *path, const ParamArena *a, const CkptMeta *meta, Err *err);
// Reads the attributes and /rng only (no tensors).
int checkpoint_read_meta(const char *path, CkptMeta *meta, Err *err);
// Loads into an arena whose table (names, shapes) the model already built; checks the format,
// version and model kind (expected_model, e.g. "autoencoder"). Fills meta.
int checkpoint_load(const char *path, ParamArena *a, const char *expected_model, CkptMeta *meta, Err *err);
// Weights only (./train --init): /state_dict/<name> of any HDF5 file, e.g. one PyTorch wrote
// (tools/state_dict_h5.py), needs no attribute; every tensor of the arena's table must be
// there with its shape and no other (checked tensor by tensor, the first difference named),
// every value finite. One exception: a weight with fewer input channels in the file (dim 1 of a
// conv or linear weight, the other dims equal) fills the model's first input channels and the
// others start at zero, so a model with more input planes starts as the file's model (e.g. a
// conv dynamics with dynamics.history from one without). Optimizer state and attributes are
// ignored; m and v are left as they are.
int checkpoint_load_weights(const char *path, ParamArena *a, Err *err);

#endif
