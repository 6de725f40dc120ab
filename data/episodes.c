/*
 * episodes.c - Minari-layout episode files: the streaming writer and the validating reader
 * (see episodes.h and SPEC.md §3).
 *
 * Writer: observations are an extendible dataset [0..,H,W,C] chunked one frame per chunk
 * with gzip, written one frame at a time; actions, rewards and flags are small and are kept
 * in memory until the episode ends, then written in one go.
 * Reader: every check runs on shapes and types first; the only data read during validation
 * are discrete action indices (to find n = max+1), whose row count is already bounded.
 */
#include "data/episodes.h"

#include <hdf5.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/h5.h"
#include "base/path.h"   // path_check_file
#include "base/alloc.h"

_Static_assert(sizeof(hid_t) == sizeof(int64_t), "hid_t is stored in an int64_t");

#ifndef WRITER_GZIP_LEVEL
// Measured by re-writing 2010 frames of `gen tetris` (240x256x3; 2 busy shared cores):
//   level 1: ~1900-2800 frames/s, 15.6 MB   level 3: ~1950 frames/s, 10.9 MB
//   level 4: ~800 frames/s, 10.5 MB         level 6: ~700-850 frames/s, 7.6 MB
// zlib's lazy matching starts at level 4 and costs 2.5x; level 3 is near level 4's size.
// Reading is 4000-5000 frames/s at every level.
#define WRITER_GZIP_LEVEL 3
#endif

struct EpisodeWriter {
    char path[1024], tmp[1040];
    hid_t file;
    char game[64], action_names[512];
    int frame_skip;
    int n_episodes;
    int64_t total_steps, total_frames;
    int H, W, C, A;             // fixed by the first episode
    // current episode
    int open;                   // between begin and end
    hid_t obs;                  // observations dataset
    int64_t t;                  // steps so far
    size_t cap;                 // capacity of the buffers below, in steps
    uint8_t *actions;           // [cap, A]
    float *rewards;             // [cap]
    uint8_t *term, *trunc;      // [cap]
};

static void writer_release(EpisodeWriter *w) {
    if (w->obs >= 0) H5Dclose(w->obs);
    if (w->file >= 0) H5Fclose(w->file);
    free(w->actions);
    free(w->rewards);
    free(w->term);
    free(w->trunc);
    free(w);
}

EpisodeWriter *episode_writer_open(const char *path, const char *game, const char *action_names,
                                   int frame_skip, Err *err) {
    EpisodeWriter *w = xcalloc(1, sizeof *w);
    w->obs = -1;
    if (strlen(path) >= sizeof w->path) { err_set(err, "%s: path too long", path); free(w); return NULL; }
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp", path);
    snprintf(w->game, sizeof w->game, "%s", game ? game : "");
    snprintf(w->action_names, sizeof w->action_names, "%s", action_names ? action_names : "");
    w->frame_skip = frame_skip;
    w->file = h5_create(w->tmp, err);
    if (w->file < 0) { free(w); return NULL; }
    return w;
}

int64_t episode_writer_frames(const EpisodeWriter *w) { return w->total_frames; }

int episode_writer_begin(EpisodeWriter *w, int H, int W, int C, int A, Err *err) {
    if (w->open) return err_set(err, "%s: episode_%d begun before the previous one ended", w->path, w->n_episodes);
    if (H < EPISODE_MIN_SIDE || H > EPISODE_MAX_SIDE || W < EPISODE_MIN_SIDE || W > EPISODE_MAX_SIDE ||
        (C != 1 && C != 3) || A < 1 || A > EPISODE_MAX_ACTIONS)
        return err_set(err, "%s: episode_%d: expected frames HxWxC with %d <= H,W <= %d, C in {1,3} and "
                       "1 <= A <= %d, found %dx%dx%d, A = %d", w->path, w->n_episodes, EPISODE_MIN_SIDE,
                       EPISODE_MAX_SIDE, EPISODE_MAX_ACTIONS, H, W, C, A);
    if (w->n_episodes > 0 && (H != w->H || W != w->W || C != w->C || A != w->A))
        return err_set(err, "%s: episode_%d: expected the shape of episode_0 (%dx%dx%d, A = %d), found %dx%dx%d, A = %d",
                       w->path, w->n_episodes, w->H, w->W, w->C, w->A, H, W, C, A);
    w->H = H, w->W = W, w->C = C, w->A = A;
    char name[64];
    snprintf(name, sizeof name, "episode_%d", w->n_episodes);
    hid_t g = H5Gcreate2(w->file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return err_set(err, "%s: cannot create group %s: %s", w->tmp, name, h5_reason((char[200]){0}, 200));
    hsize_t dims[4] = {0, (hsize_t)H, (hsize_t)W, (hsize_t)C};
    hsize_t maxd[4] = {H5S_UNLIMITED, (hsize_t)H, (hsize_t)W, (hsize_t)C};
    hsize_t chunk[4] = {1, (hsize_t)H, (hsize_t)W, (hsize_t)C};
    hid_t space = H5Screate_simple(4, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 4, chunk);
    H5Pset_deflate(dcpl, WRITER_GZIP_LEVEL);
    w->obs = H5Dcreate2(g, "observations", H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Gclose(g);
    if (w->obs < 0) return err_set(err, "%s: cannot create %s/observations: %s", w->tmp, name, h5_reason((char[200]){0}, 200));
    w->open = 1;
    w->t = 0;
    return 0;
}

// Appends one frame as row `row` of the open observations dataset.
static int write_frame(EpisodeWriter *w, int64_t row, const uint8_t *frame, Err *err) {
    hsize_t dims[4] = {(hsize_t)row + 1, (hsize_t)w->H, (hsize_t)w->W, (hsize_t)w->C};
    if (H5Dset_extent(w->obs, dims) < 0)
        return err_set(err, "%s: episode_%d/observations: cannot extend to %lld rows: %s", w->tmp, w->n_episodes,
                       (long long)row + 1, h5_reason((char[200]){0}, 200));
    hid_t fspace = H5Dget_space(w->obs);
    hsize_t start[4] = {(hsize_t)row, 0, 0, 0}, count[4] = {1, (hsize_t)w->H, (hsize_t)w->W, (hsize_t)w->C};
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t mspace = H5Screate_simple(4, count, NULL);
    herr_t rc = H5Dwrite(w->obs, H5T_NATIVE_UINT8, mspace, fspace, H5P_DEFAULT, frame);
    char why[200];
    if (rc < 0) h5_reason(why, sizeof why);   // before the next HDF5 call clears the error stack
    H5Sclose(mspace);
    H5Sclose(fspace);
    if (rc < 0)
        return err_set(err, "%s: episode_%d/observations: write of row %lld failed: %s", w->tmp, w->n_episodes,
                       (long long)row, why);
    w->total_frames++;
    return 0;
}

int episode_writer_step(EpisodeWriter *w, const uint8_t *frame, const uint8_t *action,
                        float reward, int terminated, int truncated, Err *err) {
    if (!w->open) return err_set(err, "%s: step outside an episode (call episode_writer_begin first)", w->path);
    if (w->t >= EPISODE_MAX_ROWS - 1) return err_set(err, "%s: episode_%d: more than %d steps", w->path, w->n_episodes, EPISODE_MAX_ROWS - 1);
    if (write_frame(w, w->t, frame, err) < 0) return -1;
    if ((size_t)w->t == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 256;
        w->actions = xrealloc(w->actions, w->cap * (size_t)w->A);
        w->rewards = xrealloc(w->rewards, w->cap * sizeof(float));
        w->term = xrealloc(w->term, w->cap);
        w->trunc = xrealloc(w->trunc, w->cap);
    }
    for (int i = 0; i < w->A; i++) w->actions[w->t * w->A + i] = action[i] != 0;
    w->rewards[w->t] = reward;
    w->term[w->t] = terminated != 0;
    w->trunc[w->t] = truncated != 0;
    w->t++;
    return 0;
}

static int write_small(hid_t g, const char *name, hid_t ftype, hid_t mtype, const void *x, int rank,
                       const hsize_t *dims) {
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(g, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = -1;
    if (ds >= 0) {
        rc = dims[0] == 0 ? 0 : (H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) < 0 ? -1 : 0);
        H5Dclose(ds);
    }
    H5Sclose(space);
    return rc;
}

int episode_writer_end(EpisodeWriter *w, const uint8_t *last_frame, Err *err) {
    if (!w->open) return err_set(err, "%s: episode_writer_end outside an episode", w->path);
    if (write_frame(w, w->t, last_frame, err) < 0) return -1;
    H5Dclose(w->obs);
    w->obs = -1;
    char name[64];
    snprintf(name, sizeof name, "episode_%d", w->n_episodes);
    hid_t g = H5Gopen2(w->file, name, H5P_DEFAULT);
    hsize_t T = (hsize_t)w->t, d2[2] = {T, (hsize_t)w->A};
    int rc = g < 0 ? -1 : 0;
    if (!rc) rc = write_small(g, "actions", H5T_STD_U8LE, H5T_NATIVE_UINT8, w->actions, 2, d2);
    if (!rc) rc = write_small(g, "rewards", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, w->rewards, 1, &T);
    if (!rc) rc = write_small(g, "terminations", H5T_STD_U8LE, H5T_NATIVE_UINT8, w->term, 1, &T);
    if (!rc) rc = write_small(g, "truncations", H5T_STD_U8LE, H5T_NATIVE_UINT8, w->trunc, 1, &T);
    char why[200];
    if (rc < 0) h5_reason(why, sizeof why);   // before H5Gclose clears the error stack
    if (g >= 0) H5Gclose(g);
    if (rc < 0) return err_set(err, "%s: %s: cannot write actions/rewards/flags: %s", w->tmp, name, why);
    if (h5_attr_write_i64(w->file, name, "id", w->n_episodes, err) < 0 ||
        h5_attr_write_i64(w->file, name, "total_steps", w->t, err) < 0)
        return -1;
    w->total_steps += w->t;
    w->n_episodes++;
    w->open = 0;
    return 0;
}

int episode_writer_close(EpisodeWriter *w, Err *err) {
    int rc = 0;
    if (w->open) rc = err_set(err, "%s: episode_%d was begun but not ended", w->path, w->n_episodes);
    else if (w->n_episodes == 0) rc = err_set(err, "%s: no episode was written", w->path);
    if (!rc && (h5_attr_write_i64(w->file, "/", "total_episodes", w->n_episodes, err) < 0 ||
                h5_attr_write_i64(w->file, "/", "total_steps", w->total_steps, err) < 0 ||
                h5_attr_write_str(w->file, "/", "action_names", w->action_names, err) < 0 ||
                h5_attr_write_str(w->file, "/", "game", w->game, err) < 0 ||
                h5_attr_write_i64(w->file, "/", "frame_skip", w->frame_skip, err) < 0))
        rc = -1;
    if (w->obs >= 0) { H5Dclose(w->obs); w->obs = -1; }
    if (w->file >= 0) {
        if (H5Fclose(w->file) < 0 && !rc) rc = err_set(err, "%s: closing failed: %s", w->tmp, h5_reason((char[200]){0}, 200));
        w->file = -1;
    }
    if (!rc && rename(w->tmp, w->path) != 0)
        rc = err_set(err, "%s: cannot rename %s into place: %s", w->path, w->tmp, strerror(errno));
    if (rc) unlink(w->tmp);
    writer_release(w);
    return rc;
}

void episode_writer_abort(EpisodeWriter *w) {
    if (!w) return;
    if (w->obs >= 0) { H5Dclose(w->obs); w->obs = -1; }
    if (w->file >= 0) { H5Fclose(w->file); w->file = -1; }
    unlink(w->tmp);
    writer_release(w);
}

// ---------------------------------------------------------------- reader

typedef struct { int *ids; int n, cap; int bad; } IdList;

// "episode_<digits>" without leading zeros (except "episode_0") -> id, else -1.
static int parse_episode_name(const char *name) {
    if (strncmp(name, "episode_", 8) != 0) return -1;
    const char *p = name + 8;
    if (!*p || (p[0] == '0' && p[1])) return -1;
    long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
        if (v > 1000000000L) return -1;
    }
    return (int)v;
}

static herr_t collect_episode(hid_t g, const char *name, const H5L_info_t *info, void *op) {
    (void)g, (void)info;
    IdList *l = op;
    int id = parse_episode_name(name);
    if (id < 0) return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->ids = xrealloc(l->ids, (size_t)l->cap * sizeof(int));
    }
    l->ids[l->n++] = id;
    return 0;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void shape_str(char *buf, size_t cap, int rank, const hsize_t *d) {
    size_t k = snprintf(buf, cap, "[");
    for (int i = 0; i < rank && k < cap; i++) k += snprintf(buf + k, cap - k, "%s%llu", i ? "," : "", (unsigned long long)d[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

// Describes an HDF5 type as a numpy-like name ("uint8", "float32", "bool", "string", ...).
static void dtype_str(hid_t t, char *buf, size_t cap) {
    H5T_class_t c = H5Tget_class(t);
    size_t sz = H5Tget_size(t);
    if (c == H5T_INTEGER) snprintf(buf, cap, "%s%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "uint" : "int", 8 * sz);
    else if (c == H5T_FLOAT) snprintf(buf, cap, "float%zu", 8 * sz);
    else if (c == H5T_ENUM) snprintf(buf, cap, sz == 1 ? "bool" : "enum%zu", 8 * sz);
    else if (c == H5T_STRING) snprintf(buf, cap, "string");
    else if (c == H5T_COMPOUND) snprintf(buf, cap, "compound");
    else snprintf(buf, cap, "class%d", (int)c);
}

// Opens /episode_<id>/<what> as a dataset: returns its id, its rank, dims and type (caller closes).
static hid_t open_ds(const EpisodeFile *f, int id, const char *what, int *rank, hsize_t *dims, hid_t *type, Err *err) {
    char name[96];
    snprintf(name, sizeof name, "episode_%d/%s", id, what);
    hid_t file = (hid_t)f->file_handle;
    if (!h5_exists(file, name)) { err_set(err, "%s: episode_%d/%s: expected a dataset, found nothing (missing)", f->path, id, what); return -1; }
    H5O_info_t oi;
    if (H5Oget_info_by_name(file, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_DATASET) {
        err_set(err, "%s: episode_%d/%s: expected a dataset, found a %s", f->path, id, what,
                oi.type == H5O_TYPE_GROUP ? "group" : "non-dataset object");
        return -1;
    }
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0) { err_set(err, "%s: episode_%d/%s: cannot open (corrupt file?)", f->path, id, what); return -1; }
    hid_t space = H5Dget_space(ds);
    int r = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    if (r >= 0 && r <= H5_MAX_RANK) H5Sget_simple_extent_dims(space, dims, NULL);
    if (space >= 0) H5Sclose(space);
    if (r < 0 || r > H5_MAX_RANK) {
        H5Dclose(ds);
        err_set(err, "%s: episode_%d/%s: expected rank <= %d, found an unreadable or larger rank", f->path, id, what, H5_MAX_RANK);
        return -1;
    }
    *rank = r;
    *type = H5Dget_type(ds);
    return ds;
}

// Validates one episode; fills ep and (first episode) the file's shape; for discrete actions
// updates *max_action.
static int check_episode(EpisodeFile *f, int e, int64_t *max_action, Err *err) {
    EpisodeInfo *ep = &f->ep[e];
    int id = ep->id, r;
    hsize_t od[H5_MAX_RANK], ad[H5_MAX_RANK];
    hid_t ot, at;
    char dt[16], sh[160];
    hid_t obs = open_ds(f, id, "observations", &r, od, &ot, err);
    if (obs < 0) return -1;
    dtype_str(ot, dt, sizeof dt);
    int is_u8 = H5Tget_class(ot) == H5T_INTEGER && H5Tget_size(ot) == 1 && H5Tget_sign(ot) == H5T_SGN_NONE;
    H5Tclose(ot);
    H5Dclose(obs);
    shape_str(sh, sizeof sh, r, od);
    if (r != 4)
        return err_set(err, "%s: episode_%d/observations: expected rank 4 [T+1,H,W,C], found rank %d %s", f->path, id, r, sh);
    if (!is_u8)
        return err_set(err, "%s: episode_%d/observations: expected dtype uint8, found %s %s", f->path, id, dt, sh);
    if (od[0] < 1 || od[0] > EPISODE_MAX_ROWS)
        return err_set(err, "%s: episode_%d/observations: expected 1 <= rows <= %d, found %s", f->path, id, EPISODE_MAX_ROWS, sh);
    if (od[1] < EPISODE_MIN_SIDE || od[1] > EPISODE_MAX_SIDE || od[2] < EPISODE_MIN_SIDE || od[2] > EPISODE_MAX_SIDE)
        return err_set(err, "%s: episode_%d/observations: expected [T+1,H,W,C] with %d <= H,W <= %d, found %s",
                       f->path, id, EPISODE_MIN_SIDE, EPISODE_MAX_SIDE, sh);
    if (od[3] != 1 && od[3] != 3)
        return err_set(err, "%s: episode_%d/observations: expected [T+1,H,W,C] with C = 1 or 3, found %s", f->path, id, sh);
    if (e > 0 && (od[1] != (hsize_t)f->H || od[2] != (hsize_t)f->W || od[3] != (hsize_t)f->C))
        return err_set(err, "%s: episode_%d/observations: expected frames %dx%dx%d like episode_%d, found %s",
                       f->path, id, f->H, f->W, f->C, f->ep[0].id, sh);
    f->H = (int)od[1], f->W = (int)od[2], f->C = (int)od[3];
    int64_t R = (int64_t)od[0];

    hid_t act = open_ds(f, id, "actions", &r, ad, &at, err);
    if (act < 0) return -1;
    dtype_str(at, dt, sizeof dt);
    H5T_class_t ac = H5Tget_class(at);
    size_t asz = H5Tget_size(at);
    shape_str(sh, sizeof sh, r, ad);
    int rc = 0;
    ActionKind kind = ACTIONS_MULTIBINARY;
    if (r == 2 && ((ac == H5T_INTEGER && asz == 1) || (ac == H5T_ENUM && asz == 1))) kind = ACTIONS_MULTIBINARY;
    else if (r == 1 && ac == H5T_INTEGER) kind = ACTIONS_DISCRETE;
    else rc = err_set(err, "%s: episode_%d/actions: expected uint8/int8/bool [T,A] or integer [T], found %s %s", f->path, id, dt, sh);
    if (!rc && e > 0 && kind != f->action_kind)
        rc = err_set(err, "%s: episode_%d/actions: expected %s actions like episode_%d, found %s %s", f->path, id,
                     f->action_kind == ACTIONS_DISCRETE ? "discrete [T]" : "multi-binary [T,A]", f->ep[0].id, dt, sh);
    if (!rc && (int64_t)ad[0] != R - 1 && (int64_t)ad[0] != R)
        rc = err_set(err, "%s: episode_%d/actions: expected [T,A] or [T] with T = %lld or %lld (observations have %lld rows), found %s",
                     f->path, id, (long long)(R - 1), (long long)R, (long long)R, sh);
    if (!rc && kind == ACTIONS_MULTIBINARY && (ad[1] < 1 || ad[1] > EPISODE_MAX_ACTIONS))
        rc = err_set(err, "%s: episode_%d/actions: expected [T,A] with 1 <= A <= %d, found %s", f->path, id, EPISODE_MAX_ACTIONS, sh);
    if (!rc && kind == ACTIONS_MULTIBINARY && e > 0 && ad[1] != (hsize_t)f->A)
        rc = err_set(err, "%s: episode_%d/actions: expected [T,%d] like episode_%d, found %s", f->path, id, f->A, f->ep[0].id, sh);
    if (!rc && kind == ACTIONS_DISCRETE && ad[0] > 0) {
        // Read in blocks so that a huge declared T (an empty chunked dataset) costs no memory.
        enum { BLOCK = 65536 };
        hsize_t bn = ad[0] < BLOCK ? ad[0] : BLOCK;
        int64_t *v = xmalloc(bn * sizeof(int64_t));
        hid_t fspace = H5Dget_space(act), mspace = H5Screate_simple(1, &bn, NULL);
        for (hsize_t t0 = 0; !rc && t0 < ad[0]; t0 += BLOCK) {
            hsize_t n = ad[0] - t0 < BLOCK ? ad[0] - t0 : BLOCK, zero = 0;
            H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &t0, NULL, &n, NULL);
            H5Sselect_hyperslab(mspace, H5S_SELECT_SET, &zero, NULL, &n, NULL);
            if (H5Dread(act, H5T_NATIVE_INT64, mspace, fspace, H5P_DEFAULT, v) < 0)
                rc = err_set(err, "%s: episode_%d/actions: read failed (truncated or corrupt file)", f->path, id);
            for (hsize_t t = 0; !rc && t < n; t++) {
                if (v[t] < 0 || v[t] >= EPISODE_MAX_ACTIONS)
                    rc = err_set(err, "%s: episode_%d/actions: expected discrete actions in [0,%d), found %lld at step %llu",
                                 f->path, id, EPISODE_MAX_ACTIONS, (long long)v[t], (unsigned long long)(t0 + t));
                else if (v[t] > *max_action) *max_action = v[t];
            }
        }
        H5Sclose(mspace);
        H5Sclose(fspace);
        free(v);
    }
    H5Tclose(at);
    H5Dclose(act);
    if (rc) return rc;
    f->action_kind = kind;
    if (kind == ACTIONS_MULTIBINARY) f->A = (int)ad[1];
    snprintf(f->action_dtype, sizeof f->action_dtype, "%s", dt);
    ep->steps = (int64_t)ad[0];
    ep->frames = R;
    return 0;
}

static void reset(EpisodeFile *f) {
    memset(f, 0, sizeof *f);
    f->file_handle = -1;
}

int episode_file_open(EpisodeFile *f, const char *path, Err *err) { return episode_file_open_odd(f, path, 0, err); }

int episode_file_open_odd(EpisodeFile *f, const char *path, int accept_odd, Err *err) {
    reset(f);
    f->accept_odd = accept_odd;
    snprintf(f->path, sizeof f->path, "%s", path);
    struct stat st;
    if (stat(path, &st) != 0) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    if (path_check_file(path, "HDF5 file", err) < 0) return -1;   // a FIFO would block, a folder mislead
    f->file_bytes = (int64_t)st.st_size;
    h5_quiet();
    if (H5Fis_hdf5(path) <= 0) return err_set(err, "%s: not an HDF5 file (no HDF5 signature found)", path);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) return err_set(err, "%s: cannot open as HDF5: %s", path, h5_reason((char[200]){0}, 200));
    f->file_handle = file;
    IdList l = {0};
    if (H5Literate(file, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, collect_episode, &l) < 0) {
        free(l.ids);
        episode_file_close(f);
        return err_set(err, "%s: cannot list the root group (truncated or corrupt file)", path);
    }
    if (l.n == 0) {
        free(l.ids);
        episode_file_close(f);
        return err_set(err, "%s: expected groups episode_0, episode_1, ..., found no episode", path);
    }
    qsort(l.ids, l.n, sizeof(int), cmp_int);
    f->n_episodes = l.n;
    f->ep = xcalloc(l.n, sizeof(EpisodeInfo));
    for (int e = 0; e < l.n; e++) f->ep[e].id = l.ids[e];
    free(l.ids);
    int64_t max_action = -1;
    for (int e = 0; e < f->n_episodes; e++) {
        H5O_info_t oi;
        char name[64];
        snprintf(name, sizeof name, "episode_%d", f->ep[e].id);
        if (H5Oget_info_by_name(file, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_GROUP) {
            err_set(err, "%s: %s: expected a group, found %s", path, name, "another object (or an unreadable one)");
            episode_file_close(f);
            return -1;
        }
        if (check_episode(f, e, &max_action, err) < 0) { episode_file_close(f); return -1; }
        f->total_steps += f->ep[e].steps;
        f->total_frames += f->ep[e].frames;
    }
    if (f->action_kind == ACTIONS_DISCRETE) {
        int64_t n = max_action + 1;
        Err e2;
        int64_t attr;
        if (h5_attr_exists(file, "/", "n_actions") && h5_attr_read_i64(file, "/", "n_actions", &attr, &e2) == 0) {
            if (attr < n || attr > EPISODE_MAX_ACTIONS) {
                err_set(err, "%s: attribute n_actions: expected %lld..%d (largest action is %lld), found %lld", path,
                        (long long)(n > 1 ? n : 1), EPISODE_MAX_ACTIONS, (long long)max_action, (long long)attr);
                episode_file_close(f);
                return -1;
            }
            n = attr;
        } else {
            // An episode attr n_actions (Minari writes none; some converters do) also counts.
            for (int e = 0; e < f->n_episodes; e++) {
                char name[64];
                snprintf(name, sizeof name, "episode_%d", f->ep[e].id);
                if (h5_attr_exists(file, name, "n_actions") && h5_attr_read_i64(file, name, "n_actions", &attr, &e2) == 0 &&
                    attr > n && attr <= EPISODE_MAX_ACTIONS)
                    n = attr;
            }
        }
        if (n < 1) {
            err_set(err, "%s: episode_%d/actions: expected at least one discrete action to size the one-hot, found none", path, f->ep[0].id);
            episode_file_close(f);
            return -1;
        }
        f->A = (int)n;
    }
    Err ignore;
    if (h5_attr_exists(file, "/", "action_names")) h5_attr_read_str(file, "/", "action_names", f->action_names, sizeof f->action_names, &ignore);
    if (h5_attr_exists(file, "/", "game")) h5_attr_read_str(file, "/", "game", f->game, sizeof f->game, &ignore);
    if (h5_attr_exists(file, "/", "frame_skip")) h5_attr_read_i64(file, "/", "frame_skip", &f->frame_skip, &ignore);
    if (episode_file_check(f, err) < 0) {
        episode_file_close(f);
        return -1;
    }
    return 0;
}

void episode_file_close(EpisodeFile *f) {
    if (f->file_handle >= 0) H5Fclose((hid_t)f->file_handle);
    f->file_handle = -1;
    free(f->ep);
    f->ep = NULL;
}

// 1 when ds is stored as nemu writes it: uint8, one frame per chunk, gzip as its only filter.
// Such chunks can be fetched raw (serial HDF5 I/O) and inflated in parallel.
static int one_frame_gzip_chunks(hid_t ds, const EpisodeFile *f) {
    hid_t dcpl = H5Dget_create_plist(ds);
    int ok = 0;
    hsize_t chunk[4];
    if (dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, 4, chunk) == 4 && chunk[0] == 1 &&
        chunk[1] == (hsize_t)f->H && chunk[2] == (hsize_t)f->W && chunk[3] == (hsize_t)f->C && H5Pget_nfilters(dcpl) == 1) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        char name[32];
        unsigned cfg;
        ok = H5Pget_filter2(dcpl, 0, &flags, &ncd, cd, sizeof name, name, &cfg) == H5Z_FILTER_DEFLATE;
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    return ok;
}

// Reads frames [t0, t0+n) chunk by chunk as compressed bytes, then inflates them in parallel.
// Returns 0, or -1 when a chunk is missing, unreadable or does not inflate to one frame.
static int read_frames_parallel(hid_t ds, const EpisodeFile *f, int64_t t0, int64_t n, uint8_t *out) {
    const size_t fb = (size_t)f->H * f->W * f->C;
    size_t *off = xmalloc((size_t)(n + 1) * sizeof(size_t));
    uint32_t *mask = xmalloc((size_t)n * sizeof(uint32_t));
    off[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        hsize_t o[4] = {(hsize_t)(t0 + i), 0, 0, 0}, bytes = 0;
        if (H5Dget_chunk_storage_size(ds, o, &bytes) < 0 || bytes == 0 || bytes > 2 * fb + 1024) { free(off), free(mask); return -1; }
        off[i + 1] = off[i] + bytes;
    }
    uint8_t *raw = xmalloc(off[n]);
    int rc = 0;
    for (int64_t i = 0; i < n && !rc; i++) {
        hsize_t o[4] = {(hsize_t)(t0 + i), 0, 0, 0};
        if (H5Dread_chunk(ds, H5P_DEFAULT, o, &mask[i], raw + off[i]) < 0) rc = -1;
    }
    int bad = 0;
#ifdef _OPENMP
    #pragma omp parallel for schedule(dynamic, 4) reduction(|: bad) if (!rc && n > 1)
#endif
    for (int64_t i = 0; i < n; i++) {
        if (rc) continue;
        uint8_t *dst = out + (size_t)i * fb;
        size_t len = off[i + 1] - off[i];
        if (mask[i] & 1) {   // deflate was skipped for this chunk: stored as is
            if (len == fb) memcpy(dst, raw + off[i], fb);
            else bad = 1;
        } else {
            uLongf dlen = (uLongf)fb;
            bad |= uncompress(dst, &dlen, raw + off[i], (uLong)len) != Z_OK || dlen != fb;
        }
    }
    free(raw), free(off), free(mask);
    return rc || bad ? -1 : 0;
}

int episode_file_read_frames(const EpisodeFile *f, int e, int64_t t0, int64_t n, uint8_t *out, Err *err) {
    CHECK(e >= 0 && e < f->n_episodes && t0 >= 0 && n >= 0 && t0 + n <= f->ep[e].frames,
          "frames [%lld,+%lld) of episode %d", (long long)t0, (long long)n, e);
    if (n == 0) return 0;
    char name[96];
    snprintf(name, sizeof name, "episode_%d/observations", f->ep[e].id);
    hid_t ds = H5Dopen2((hid_t)f->file_handle, name, H5P_DEFAULT);
    if (ds < 0) return err_set(err, "%s: %s: cannot open (corrupt file?)", f->path, name);
    if (one_frame_gzip_chunks(ds, f) && read_frames_parallel(ds, f, t0, n, out) == 0) {
        H5Dclose(ds);
        return 0;
    }
    // Anything else (or a chunk the fast path could not decode): HDF5's own pipeline, which
    // also produces the error of a corrupt chunk.
    hid_t fspace = H5Dget_space(ds);
    hsize_t start[4] = {(hsize_t)t0, 0, 0, 0}, count[4] = {(hsize_t)n, (hsize_t)f->H, (hsize_t)f->W, (hsize_t)f->C};
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t mspace = H5Screate_simple(4, count, NULL);
    herr_t rc = H5Dread(ds, H5T_NATIVE_UINT8, mspace, fspace, H5P_DEFAULT, out);
    H5Sclose(mspace);
    H5Sclose(fspace);
    H5Dclose(ds);
    if (rc < 0)
        return err_set(err, "%s: %s: read of rows %lld..%lld failed (truncated or corrupt file)", f->path, name,
                       (long long)t0, (long long)(t0 + n - 1));
    return 0;
}

int episode_file_read_actions(const EpisodeFile *f, int e, uint8_t *out, Err *err) {
    CHECK(e >= 0 && e < f->n_episodes, "episode %d", e);
    int64_t T = f->ep[e].steps;
    if (T == 0) return 0;
    char name[96];
    snprintf(name, sizeof name, "episode_%d/actions", f->ep[e].id);
    hid_t ds = H5Dopen2((hid_t)f->file_handle, name, H5P_DEFAULT);
    if (ds < 0) return err_set(err, "%s: %s: cannot open (corrupt file?)", f->path, name);
    herr_t rc;
    if (f->action_kind == ACTIONS_DISCRETE) {
        int64_t *v = xmalloc((size_t)T * sizeof(int64_t));
        rc = H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
        if (rc >= 0) {
            memset(out, 0, (size_t)T * f->A);
            for (int64_t t = 0; t < T; t++) {
                CHECK(v[t] >= 0 && v[t] < f->A, "discrete action %lld out of the validated range", (long long)v[t]);
                out[t * f->A + v[t]] = 1;
            }
        }
        free(v);
    } else {
        // 1-byte integers or bool enums: read the bytes as stored (no enum conversion), map to 0/1.
        hid_t ft = H5Dget_type(ds);
        hid_t mt = H5Tget_native_type(ft, H5T_DIR_ASCEND);
        rc = H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
        H5Tclose(mt);
        H5Tclose(ft);
        if (rc >= 0)
            for (int64_t i = 0; i < T * f->A; i++) out[i] = out[i] != 0;
    }
    H5Dclose(ds);
    if (rc < 0) return err_set(err, "%s: %s: read failed (truncated or corrupt file)", f->path, name);
    return 0;
}
