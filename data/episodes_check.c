/*
 * episodes_check.c - the file-level checks of an episode file (data/episodes.h), after every
 * episode's shapes passed (issue #16 class 5: what was accepted without a word):
 *   - root objects that are not episode_<n> (named like one or not), gaps in the episode ids,
 *     and a total_episodes (root attribute) that is not an integer equal to the episode groups
 *     found; a file meant so (a subset of a recording, extra groups) loads with
 *     episode_file_open_odd's accept_odd, larger total_episodes included, noted in f->odd;
 *   - actions wider or narrower than action_names has names;
 *   - button values other than 0 and 1;
 *   - datasets that declare more rows than the file stores (a 15 KB file declaring ten
 *     million frames): every chunk the shape needs must be there.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/h5.h"
#include "data/episodes.h"

// Root objects that are not episode_<n>: the first named like an episode (episode_01,
// episodeX), the first other one (Minari's or a converter's extras), and how many of each.
typedef struct {
    char bad[128], other[128];
    int n_bad, n_other;
} Odd;

static herr_t odd_name(hid_t g, const char *name, const H5L_info_t *info, void *op) {
    (void)g, (void)info;
    Odd *o = op;
    const char *p = name + 8;
    int ok = !strncmp(name, "episode_", 8) && *p && !(p[0] == '0' && p[1]);
    for (; ok && *p; p++) ok = *p >= '0' && *p <= '9';
    if (ok) return 0;
    int like = strncmp(name, "episode", 7) == 0;
    if ((like ? o->n_bad++ : o->n_other++) == 0) snprintf(like ? o->bad : o->other, sizeof o->bad, "%s", name);
    return 0;
}

#define ODD_HINT "if the file is meant so: data.accept_odd = yes (gen info --accept-odd)"

// Appends one accepted oddity to f->odd ("; "-separated).
static void note_odd(EpisodeFile *f, const char *what) {
    size_t k = strlen(f->odd);
    snprintf(f->odd + k, sizeof f->odd - k, "%s%s", k ? "; " : "", what);
}

// Root names, total_episodes and gaps in the ids: refused, or (accept_odd) noted in f->odd.
static int check_layout(EpisodeFile *f, hid_t file, Err *err) {
    char what[200];
    Odd o = {"", "", 0, 0};
    H5Literate(file, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, odd_name, &o);
    if (o.n_bad && !f->accept_odd)
        return err_set(err, "%s: root group '%s' is not an episode; expected episode_<n> (n without leading zeros); "
                       ODD_HINT, f->path, o.bad);
    if (o.n_other && !f->accept_odd)
        return err_set(err, "%s: root object '%s' is not an episode (%d such); expected only episode_<n> groups; "
                       ODD_HINT, f->path, o.other, o.n_other);
    if (o.n_bad + o.n_other) {
        snprintf(what, sizeof what, "%d root object%s skipped ('%s')", o.n_bad + o.n_other,
                 o.n_bad + o.n_other > 1 ? "s" : "", o.n_bad ? o.bad : o.other);
        note_odd(f, what);
    }
    const int n = f->n_episodes, last = f->ep[n - 1].id;
    if (h5_attr_exists(file, "/", "total_episodes")) {
        int64_t t;
        Err e2;
        if (h5_attr_read_i64(file, "/", "total_episodes", &t, &e2) < 0)
            return err_set(err, "%s: attribute total_episodes: expected an integer, found another type", f->path);
        if (t != n && !(f->accept_odd && t > n))
            return err_set(err, "%s: attribute total_episodes = %lld, but the file holds %d episode_<n> groups; expected "
                           "them to agree%s", f->path, (long long)t, n, t > n ? "; " ODD_HINT : "");
        if (t != n) {
            snprintf(what, sizeof what, "total_episodes %lld for %d episodes", (long long)t, n);
            note_odd(f, what);
        }
    }
    if (last != n - 1) {   // ids are sorted and distinct: a gap iff the last is not n - 1
        int miss = 0;
        while (miss < n && f->ep[miss].id == miss) miss++;
        if (!f->accept_odd)
            return err_set(err, "%s: episode ids have gaps: episode_%d is missing (%d episodes, ids %d..%d); expected "
                           "episode_0..episode_%d in a row; " ODD_HINT, f->path, miss, n, f->ep[0].id, last, n - 1);
        snprintf(what, sizeof what, "episode ids %d..%d with %d missing (first: episode_%d)", f->ep[0].id, last,
                 last + 1 - n, miss);
        note_odd(f, what);
    }
    return 0;
}

// Chunks stored against chunks the shape needs (chunked datasets), or bytes for contiguous ones.
static int check_stored(const EpisodeFile *f, hid_t ds, int id, const char *what, Err *err) {
    hid_t dcpl = H5Dget_create_plist(ds), space = H5Dget_space(ds);
    hsize_t dims[H5_MAX_RANK], chunk[H5_MAX_RANK];
    int r = H5Sget_simple_extent_dims(space, dims, NULL), rc = 0;
    if (dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, H5_MAX_RANK, chunk) == r) {
        hsize_t need = 1, have = 0;
        for (int k = 0; k < r; k++) need *= (dims[k] + chunk[k] - 1) / chunk[k];
        if (H5Dget_storage_size(ds) == 0 || H5Dget_num_chunks(ds, space, &have) < 0) have = 0;   // none allocated
        if (have < need)
            rc = err_set(err, "%s: episode_%d/%s: declares %llu rows but stores %llu of the %llu chunks they need "
                         "(a truncated or hand-edited file); expected every row stored", f->path, id, what,
                         (unsigned long long)dims[0], (unsigned long long)have, (unsigned long long)need);
    } else if (dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CONTIGUOUS) {
        hid_t t = H5Dget_type(ds);
        hsize_t bytes = H5Tget_size(t);
        for (int k = 0; k < r; k++) bytes *= dims[k];
        if (bytes && H5Dget_storage_size(ds) < bytes)
            rc = err_set(err, "%s: episode_%d/%s: declares %llu bytes of data but stores %llu; expected every row "
                         "stored", f->path, id, what, (unsigned long long)bytes,
                         (unsigned long long)H5Dget_storage_size(ds));
        H5Tclose(t);
    }
    H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
    return rc;
}

// Multi-binary actions hold 0 and 1 only.
static int check_buttons(const EpisodeFile *f, hid_t ds, int e, Err *err) {
    const EpisodeInfo *ep = &f->ep[e];
    size_t n = (size_t)ep->steps * f->A;
    uint8_t *v = xmalloc(n ? n : 1);
    int rc = 0;
    if (n && H5Dread(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
        rc = err_set(err, "%s: episode_%d/actions: read failed: %s", f->path, ep->id, h5_reason((char[200]){0}, 200));
    for (size_t i = 0; !rc && i < n; i++)
        if (v[i] > 1)
            rc = err_set(err, "%s: episode_%d/actions: expected buttons 0 or 1, found %d at step %zu, column %zu "
                         "(%d columns)", f->path, ep->id, (int8_t)v[i], i / f->A, i % f->A + 1, f->A);
    free(v);
    return rc;
}

static int check_episodes(const EpisodeFile *f, hid_t file, Err *err) {
    for (int e = 0; e < f->n_episodes; e++) {
        char name[64];
        int rc = 0;
        snprintf(name, sizeof name, "episode_%d/observations", f->ep[e].id);
        hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
        if (ds >= 0) rc = check_stored(f, ds, f->ep[e].id, "observations", err), H5Dclose(ds);
        snprintf(name, sizeof name, "episode_%d/actions", f->ep[e].id);
        ds = rc ? -1 : H5Dopen2(file, name, H5P_DEFAULT);
        if (ds >= 0) {
            rc = check_stored(f, ds, f->ep[e].id, "actions", err);
            if (!rc && f->action_kind == ACTIONS_MULTIBINARY) rc = check_buttons(f, ds, e, err);
            H5Dclose(ds);
        }
        if (rc) return -1;
    }
    return 0;
}

int episode_file_check(EpisodeFile *f, Err *err) {
    hid_t file = (hid_t)f->file_handle;
    if (check_layout(f, file, err) < 0) return -1;
    if (f->action_kind == ACTIONS_MULTIBINARY && f->action_names[0]) {
        int names = 1;
        for (const char *p = f->action_names; *p; p++) names += *p == ',';
        if (names != f->A)
            return err_set(err, "%s: actions have %d columns but attribute action_names has %d names (%.80s); expected "
                           "one column per name", f->path, f->A, names, f->action_names);
    }
    return check_episodes(f, file, err);
}
