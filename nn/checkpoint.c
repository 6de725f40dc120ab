/*
 * checkpoint.c - HDF5 checkpoints (see checkpoint.h): atomic save, checked load, metadata
 * attributes, and the config dims of the two models.
 */
#include "nn/checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/h5.h"
#include "nn/finite.h"   // arena_check_finite: no NaN/Inf file is written or loaded

static const char *reserved[] = {"format", "version", "model", "step", "epoch"};

static int is_reserved(const char *name) {
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strcmp(name, reserved[i]) == 0) return 1;
    return 0;
}

void ckpt_meta_init(CkptMeta *meta, const char *model) {
    memset(meta, 0, sizeof *meta);
    snprintf(meta->model, sizeof meta->model, "%s", model ? model : "");
}

static CkptAttr *attr_slot(CkptMeta *meta, const char *name) {
    CHECK(!is_reserved(name), "checkpoint attribute '%s' is reserved", name);
    CHECK(strlen(name) < sizeof meta->attrs[0].name, "checkpoint attribute name '%s' too long", name);
    for (int i = 0; i < meta->n_attrs; i++)
        if (strcmp(meta->attrs[i].name, name) == 0) return &meta->attrs[i];
    CHECK(meta->n_attrs < CKPT_MAX_ATTRS, "more than %d checkpoint attributes", CKPT_MAX_ATTRS);
    CkptAttr *a = &meta->attrs[meta->n_attrs++];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    return a;
}

void ckpt_set_i64(CkptMeta *meta, const char *name, int64_t v) {
    CkptAttr *a = attr_slot(meta, name);
    a->type = CKPT_I64;
    a->i = v;
}

void ckpt_set_f64(CkptMeta *meta, const char *name, double v) {
    CkptAttr *a = attr_slot(meta, name);
    a->type = CKPT_F64;
    a->f = v;
}

void ckpt_set_str(CkptMeta *meta, const char *name, const char *s) {
    CkptAttr *a = attr_slot(meta, name);
    a->type = CKPT_STR;
    snprintf(a->s, sizeof a->s, "%s", s);
}

const CkptAttr *ckpt_get(const CkptMeta *meta, const char *name) {
    for (int i = 0; i < meta->n_attrs; i++)
        if (strcmp(meta->attrs[i].name, name) == 0) return &meta->attrs[i];
    return NULL;
}

void ckpt_meta_ae(CkptMeta *meta, const AEConfig *c) {
    snprintf(meta->model, sizeof meta->model, "autoencoder");
    ckpt_set_i64(meta, "height", c->H);
    ckpt_set_i64(meta, "width", c->W);
    ckpt_set_i64(meta, "channels", c->C);
    ckpt_set_i64(meta, "stages", c->stages);
    ckpt_set_i64(meta, "base_channels", c->base_channels);
    ckpt_set_i64(meta, "latent_dim", ae_config_latent_dim(c));
    ckpt_set_f64(meta, "latent_noise", c->latent_noise);
    if (c->latent_channels) {   // a flat model's file has neither (as before spatial latents)
        ckpt_set_str(meta, "latent", "spatial");
        ckpt_set_i64(meta, "latent_channels", c->latent_channels);
    }
}

void ckpt_meta_dyn(CkptMeta *meta, const DynConfig *c) {
    snprintf(meta->model, sizeof meta->model, "dynamics");
    ckpt_set_i64(meta, "latent_dim", c->latent_dim);
    ckpt_set_i64(meta, "n_actions", c->n_actions);
    ckpt_set_i64(meta, "hidden", c->hidden);
    if (c->vae) ckpt_set_i64(meta, "vae", 1);   // deterministic files stay as before
}

static int get_int(const CkptMeta *meta, const char *name, int *out, Err *err) {
    const CkptAttr *a = ckpt_get(meta, name);
    if (!a) return err_set(err, "%s checkpoint: attribute '%s' is missing", meta->model, name);
    if (a->type == CKPT_I64) *out = (int)a->i;
    else if (a->type == CKPT_F64) *out = (int)a->f;
    else return err_set(err, "%s checkpoint: attribute '%s' should be a number", meta->model, name);
    return 0;
}

int ckpt_meta_to_ae_config(const CkptMeta *meta, AEConfig *c, Err *err) {
    memset(c, 0, sizeof *c);
    if (strcmp(meta->model, "autoencoder") != 0)
        return err_set(err, "checkpoint holds a '%s' model, expected 'autoencoder'", meta->model);
    if (get_int(meta, "height", &c->H, err) < 0 || get_int(meta, "width", &c->W, err) < 0 ||
        get_int(meta, "channels", &c->C, err) < 0 || get_int(meta, "stages", &c->stages, err) < 0 ||
        get_int(meta, "base_channels", &c->base_channels, err) < 0 ||
        get_int(meta, "latent_dim", &c->latent_dim, err) < 0)
        return -1;
    const CkptAttr *n = ckpt_get(meta, "latent_noise");
    c->latent_noise = !n ? 0.0f : n->type == CKPT_F64 ? (float)n->f : n->type == CKPT_I64 ? (float)n->i : 0.0f;
    const CkptAttr *l = ckpt_get(meta, "latent");
    if (l) {
        if (l->type != CKPT_STR || (strcmp(l->s, "spatial") != 0 && strcmp(l->s, "flat") != 0))
            return err_set(err, "autoencoder checkpoint: attribute 'latent' should be \"flat\" or \"spatial\"");
        if (strcmp(l->s, "spatial") == 0 && get_int(meta, "latent_channels", &c->latent_channels, err) < 0) return -1;
        if (c->latent_channels < 1 && strcmp(l->s, "spatial") == 0)
            return err_set(err, "autoencoder checkpoint: latent_channels %d < 1", c->latent_channels);
    }
    return ae_config_check(c, err);
}

int ckpt_meta_to_dyn_config(const CkptMeta *meta, DynConfig *c, Err *err) {
    memset(c, 0, sizeof *c);
    if (strcmp(meta->model, "dynamics") != 0)
        return err_set(err, "checkpoint holds a '%s' model, expected 'dynamics'", meta->model);
    const CkptAttr *fam = ckpt_get(meta, "family");
    if (fam && !(fam->type == CKPT_STR && strcmp(fam->s, "flat") == 0))
        return err_set(err, "checkpoint holds %s dynamics (attribute family), not the flat MLP",
                       fam->type == CKPT_STR ? fam->s : "another family's");
    if (get_int(meta, "latent_dim", &c->latent_dim, err) < 0 || get_int(meta, "n_actions", &c->n_actions, err) < 0 ||
        get_int(meta, "hidden", &c->hidden, err) < 0)
        return -1;
    if (ckpt_get(meta, "vae") && get_int(meta, "vae", &c->vae, err) < 0) return -1;   // absent: older files
    c->max_steps = 1;
    return dyn_config_check(c, err);
}

// ---------------------------------------------------------------- save

// "<prefix>/<name>" of tensor t in a checkpoint, and its dims as HDF5 wants them.
static void tensor_location(const TensorInfo *t, const char *prefix, char *name, size_t cap, hsize_t *dims) {
    for (int k = 0; k < t->rank; k++) dims[k] = (hsize_t)t->dims[k];
    snprintf(name, cap, "%s/%s", prefix, t->name);
}

static int write_tensors(hid_t f, const char *prefix, const ParamArena *a, const float *base, Err *err) {
    char name[160];
    for (int i = 0; i < a->n_tensors; i++) {
        const TensorInfo *t = &a->t[i];
        hsize_t dims[TENSOR_MAX_RANK];
        tensor_location(t, prefix, name, sizeof name, dims);
        if (h5_write_floats(f, name, base + t->offset, t->rank, dims, err) < 0) return -1;
    }
    return 0;
}

static int write_all(hid_t f, const ParamArena *a, const CkptMeta *meta, Err *err) {
    if (write_tensors(f, "/state_dict", a, a->params, err) < 0 ||
        write_tensors(f, "/optimizer/exp_avg", a, a->m, err) < 0 ||
        write_tensors(f, "/optimizer/exp_avg_sq", a, a->v, err) < 0)
        return -1;
    if (meta->has_rng && h5_write_u64(f, "/rng", meta->rng.s, 4, err) < 0) return -1;
    if (h5_attr_write_str(f, "/", "format", CKPT_FORMAT, err) < 0 ||
        h5_attr_write_i64(f, "/", "version", CKPT_VERSION, err) < 0 ||
        h5_attr_write_str(f, "/", "model", meta->model, err) < 0 ||
        h5_attr_write_i64(f, "/", "step", meta->step, err) < 0 ||
        h5_attr_write_i64(f, "/", "epoch", meta->epoch, err) < 0)
        return -1;
    for (int i = 0; i < meta->n_attrs; i++) {
        const CkptAttr *at = &meta->attrs[i];
        int rc = at->type == CKPT_I64 ? h5_attr_write_i64(f, "/", at->name, at->i, err)
               : at->type == CKPT_F64 ? h5_attr_write_f64(f, "/", at->name, at->f, err)
                                      : h5_attr_write_str(f, "/", at->name, at->s, err);
        if (rc < 0) return -1;
    }
    return 0;
}

int checkpoint_save(const char *path, const ParamArena *a, const CkptMeta *meta, Err *err) {
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return err_set(err, "%s: checkpoint path too long", path);
    char where[4200];
    snprintf(where, sizeof where, "not writing %s", path);
    if (arena_check_finite(a, 1, where, err) < 0) return -1;   // the file already there is kept
    hid_t f = h5_create(tmp, err);
    if (f < 0) {
        unlink(tmp);   // HDF5 may have made it before failing (a full disk)
        return -1;
    }
    int rc = write_all(f, a, meta, err);
    char why[200];
    if (H5Fclose(f) < 0 && rc == 0)
        rc = err_set(err, "%s: cannot finish writing the checkpoint: %s", tmp, h5_reason(why, sizeof why));
    if (rc == 0 && rename(tmp, path) != 0) rc = err_set(err, "%s: cannot rename %s onto it: %s", path, tmp, strerror(errno));
    if (rc < 0) {
        // keep the message, prefix the path when the wrapper did not name the file
        if (!strstr(err->msg, path)) {
            err_set(err, "%s: %s", path, err->msg);   // err_set formats aside first
        }
        unlink(tmp);
    }
    return rc;
}

// ---------------------------------------------------------------- load

typedef struct { char names[64][128]; int n, overflow; } NameList;

static herr_t collect_name(hid_t loc, const char *name, const void *info, void *data) {
    (void)loc; (void)info;
    NameList *l = data;
    if (l->n < 64) snprintf(l->names[l->n++], sizeof l->names[0], "%s", name);
    else l->overflow = 1;
    return 0;
}

static herr_t collect_link(hid_t loc, const char *name, const H5L_info_t *info, void *data) {
    return collect_name(loc, name, info, data);
}

static herr_t collect_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    return collect_name(loc, name, info, data);
}

static int read_meta(hid_t f, const char *path, CkptMeta *meta, Err *err) {
    char s[256];
    int64_t v;
    ckpt_meta_init(meta, NULL);
    if (!h5_attr_exists(f, "/", "format") || h5_attr_read_str(f, "/", "format", s, sizeof s, err) < 0 ||
        strcmp(s, CKPT_FORMAT) != 0)
        return err_set(err, "%s: not a nemu checkpoint (root attribute format must be \"%s\")", path, CKPT_FORMAT);
    if (h5_attr_read_i64(f, "/", "version", &v, err) < 0)
        return err_set(err, "%s: checkpoint attribute 'version' is missing or not a number", path);
    if (v != CKPT_VERSION)
        return err_set(err, "%s: checkpoint version %lld, this nemu reads version %d", path, (long long)v, CKPT_VERSION);
    if (h5_attr_read_str(f, "/", "model", meta->model, sizeof meta->model, err) < 0)
        return err_set(err, "%s: checkpoint attribute 'model' is missing or not a string", path);
    meta->step = h5_attr_read_i64(f, "/", "step", &v, err) == 0 ? (long)v : 0;
    meta->epoch = h5_attr_read_i64(f, "/", "epoch", &v, err) == 0 ? (long)v : 0;
    if (h5_exists(f, "/rng")) {
        if (h5_read_u64(f, "/rng", meta->rng.s, 4, err) < 0) return err_set(err, "%s: %s", path, err->msg);
        meta->has_rng = 1;
    }
    NameList names = {0};
    hid_t root = H5Oopen(f, "/", H5P_DEFAULT);
    hsize_t idx = 0;
    herr_t it = H5Aiterate2(root, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr, &names);
    H5Oclose(root);
    if (it < 0) return err_set(err, "%s: cannot list the root attributes", path);
    for (int i = 0; i < names.n && meta->n_attrs < CKPT_MAX_ATTRS; i++) {
        const char *name = names.names[i];
        if (is_reserved(name) || strlen(name) >= sizeof meta->attrs[0].name) continue;
        H5T_class_t cls = H5T_NO_CLASS;
        hid_t at = H5Aopen_by_name(f, "/", name, H5P_DEFAULT, H5P_DEFAULT);
        if (at >= 0) {
            hid_t ty = H5Aget_type(at);
            cls = H5Tget_class(ty);
            H5Tclose(ty);
            H5Aclose(at);
        }
        double d;
        if (cls == H5T_STRING && h5_attr_read_str(f, "/", name, s, sizeof s, err) == 0) ckpt_set_str(meta, name, s);
        else if (cls == H5T_INTEGER && h5_attr_read_i64(f, "/", name, &v, err) == 0) ckpt_set_i64(meta, name, v);
        else if (cls == H5T_FLOAT && h5_attr_read_f64(f, "/", name, &d, err) == 0) ckpt_set_f64(meta, name, d);
        // arrays or other types are not ours: ignored
    }
    err->msg[0] = 0;
    return 0;
}

int checkpoint_read_meta(const char *path, CkptMeta *meta, Err *err) {
    hid_t f = h5_open(path, 0, err);
    if (f < 0) return -1;
    int rc = read_meta(f, path, meta, err);
    h5_close(f);
    return rc;
}

// Checks that group `prefix` holds exactly the arena's tensors with their shapes.
// Returns the number of differences; the first goes to err as "<path>: ...".
// A tensor of f that is a's with fewer input channels (dim 1 of a conv or linear weight).
static int narrower_inputs(const TensorInfo *t, int r, const hsize_t *dims) {
    if (r != t->rank || r < 2 || dims[1] >= (hsize_t)t->dims[1] || dims[1] < 1) return 0;
    for (int k = 0; k < r; k++)
        if (k != 1 && dims[k] != (hsize_t)t->dims[k]) return 0;
    return 1;
}

// widen: a tensor with fewer input channels than a's (narrower_inputs) is no difference.
static int check_tensors(hid_t f, const char *path, const char *prefix, const ParamArena *a, int widen, Err *err) {
    int problems = 0;
    char name[160], want[64], got[64];
    Err e;
    for (int i = 0; i < a->n_tensors; i++) {
        const TensorInfo *t = &a->t[i];
        snprintf(name, sizeof name, "%s/%s", prefix, t->name);
        hsize_t dims[H5_MAX_RANK];
        int r = h5_exists(f, name) ? h5_shape(f, name, dims, &e) : -2;
        int same = r == t->rank;
        for (int k = 0; same && k < r; k++) same = dims[k] == (hsize_t)t->dims[k];
        if (same || (widen && narrower_inputs(t, r, dims))) continue;
        if (problems++) continue;
        arena_shape_str(t, want, sizeof want);
        if (r == -2) {
            err_set(err, "%s: tensor '%s' %s is missing", path, name, want);
        } else if (r < 0) {
            err_set(err, "%s: tensor '%s': %s", path, name, e.msg);
        } else {
            TensorInfo found = {.rank = r};
            for (int k = 0; k < r && k < TENSOR_MAX_RANK; k++) found.dims[k] = (int)dims[k];
            if (r > TENSOR_MAX_RANK) snprintf(got, sizeof got, "rank %d", r);
            else arena_shape_str(&found, got, sizeof got);
            err_set(err, "%s: tensor '%s': expected shape %s, found %s", path, name, want, got);
        }
    }
    NameList names = {0};
    hid_t g = H5Gopen2(f, prefix, H5P_DEFAULT);
    if (g < 0) return problems ? problems : (err_set(err, "%s: group '%s' is missing", path, prefix), 1);
    hsize_t idx = 0;
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_link, &names);
    H5Gclose(g);
    for (int i = 0; i < names.n; i++) {
        if (arena_find(a, names.names[i])) continue;
        if (!problems++) err_set(err, "%s: unexpected tensor '%s/%s' (not in this %d-tensor model)", path, prefix,
                                 names.names[i], a->n_tensors);
    }
    if (names.overflow && !problems++) err_set(err, "%s: '%s' holds too many tensors", path, prefix);
    return problems;
}

static int read_tensors(hid_t f, const char *path, const char *prefix, const ParamArena *a, float *base, Err *err) {
    char name[160];
    for (int i = 0; i < a->n_tensors; i++) {
        const TensorInfo *t = &a->t[i];
        hsize_t dims[TENSOR_MAX_RANK];
        tensor_location(t, prefix, name, sizeof name, dims);
        Err e;
        if (h5_read_floats(f, name, base + t->offset, t->rank, dims, &e) < 0)
            return err_set(err, "%s: %s", path, e.msg);
    }
    return 0;
}

// n differences of check_tensors: 0, or -1 with "(and n-1 more differences)" added to the first.
static int differences(int n, Err *err) {
    if (n > 1) err_set(err, "%s (and %d more differences)", err->msg, n - 1);   // err_set formats aside
    return n ? -1 : 0;
}

static int load_all(hid_t f, const char *path, ParamArena *a, const char *expected, CkptMeta *meta, Err *err) {
    if (read_meta(f, path, meta, err) < 0) return -1;
    if (expected && strcmp(meta->model, expected) != 0)
        return err_set(err, "%s: checkpoint holds a '%s' model, expected '%s'", path, meta->model, expected);
    int n = check_tensors(f, path, "/state_dict", a, 0, err);
    meta->has_optimizer = h5_exists(f, "/optimizer");
    if (!n && meta->has_optimizer) n = check_tensors(f, path, "/optimizer/exp_avg", a, 0, err);
    if (!n && meta->has_optimizer) n = check_tensors(f, path, "/optimizer/exp_avg_sq", a, 0, err);
    if (differences(n, err) < 0) return -1;
    if (read_tensors(f, path, "/state_dict", a, a->params, err) < 0) return -1;
    if (meta->has_optimizer) {
        if (read_tensors(f, path, "/optimizer/exp_avg", a, a->m, err) < 0 ||
            read_tensors(f, path, "/optimizer/exp_avg_sq", a, a->v, err) < 0)
            return -1;
    } else {
        arena_zero_adam(a);
        meta->step = 0;
    }
    return arena_check_finite(a, meta->has_optimizer, path, err);
}

int checkpoint_load(const char *path, ParamArena *a, const char *expected_model, CkptMeta *meta, Err *err) {
    hid_t f = h5_open(path, 0, err);
    if (f < 0) return -1;
    int rc = load_all(f, path, a, expected_model, meta, err);
    h5_close(f);
    return rc;
}

// The tensors of a from f's /state_dict; one with fewer input channels fills a's first ones
// (dim 1), the others zero.
static int read_widened(hid_t f, const char *path, const ParamArena *a, Err *err) {
    char name[160];
    for (int i = 0; i < a->n_tensors; i++) {
        const TensorInfo *t = &a->t[i];
        hsize_t want[TENSOR_MAX_RANK], dims[H5_MAX_RANK];   // the model's shape, the file's
        Err e;
        tensor_location(t, "/state_dict", name, sizeof name, want);
        if (h5_shape(f, name, dims, &e) < 0) return err_set(err, "%s: %s", path, e.msg);
        float *dst = a->params + t->offset;
        if (!narrower_inputs(t, t->rank, dims)) {
            if (h5_read_floats(f, name, dst, t->rank, want, &e) < 0) return err_set(err, "%s: %s", path, e.msg);
            continue;
        }
        size_t inner = 1, n = 1;
        for (int k = 2; k < t->rank; k++) inner *= (size_t)t->dims[k];
        for (int k = 0; k < t->rank; k++) n *= dims[k];
        float *x = xmalloc_floats(n);
        if (h5_read_floats(f, name, x, t->rank, dims, &e) < 0) {
            free(x);
            return err_set(err, "%s: %s", path, e.msg);
        }
        const size_t in_f = (size_t)dims[1] * inner, in_m = (size_t)t->dims[1] * inner;
        for (int o = 0; o < t->dims[0]; o++) {
            memcpy(dst + o * in_m, x + o * in_f, in_f * sizeof(float));
            memset(dst + o * in_m + in_f, 0, (in_m - in_f) * sizeof(float));
        }
        free(x);
    }
    return 0;
}

int checkpoint_load_weights(const char *path, ParamArena *a, Err *err) {
    hid_t f = h5_open(path, 0, err);
    if (f < 0) return -1;
    int rc = differences(check_tensors(f, path, "/state_dict", a, 1, err), err);
    if (rc == 0) rc = read_widened(f, path, a, err);
    h5_close(f);
    return rc < 0 ? -1 : arena_check_finite(a, 0, path, err);
}
