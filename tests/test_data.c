/*
 * test_data.c - episode datasets: writer/reader round trip, h5py-written Minari fixtures,
 * Pillow-exact luma and BILINEAR resize, splits, samplers (coverage, no episode crossing),
 * a bad-file corpus (library messages and `gen info` exit status / one stderr line).
 * NEMU_DATA_BENCH=1 also measures writer and load+preprocess throughput (256x240 RGB).
 * Fixtures: tests/make_data_fixtures.py. Run from the repository root.
 */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "data/dataset.h"
#include "data/episodes.h"
#include "data/preprocess.h"
#include "base/h5.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/clock.h"
#include "tests/test.h"

static char g_tmp[256];   // temp dir of this run (set once in main, removed at the end)

static const char *tmp_path(char *buf, const char *name) {
    snprintf(buf, 512, "%s/%s", g_tmp, name);
    return buf;
}

// ---------------------------------------------------------------- helpers

static uint8_t obs_value(int e, int t, int y, int x, int c) {   // as tests/make_data_fixtures.py
    return (uint8_t)((e * 50 + t * 7 + y * 3 + x * 5 + c * 11) % 256);
}
static int mb_action(int e, int t, int a) { return (e + t + a) % 3 == 0; }

static uint8_t *read_u8(hid_t f, const char *name, int *rank, hsize_t *dims) {
    Err err;
    int r = h5_shape(f, name, dims, &err);
    if (r < 0) { printf("  %s\n", err.msg); return NULL; }
    size_t n = 1;
    for (int i = 0; i < r; i++) n *= dims[i];
    uint8_t *x = xmalloc(n);
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    H5Dread(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(ds);
    *rank = r;
    return x;
}

// Creates a dataset of type t (data may be NULL: chunked, nothing written).
static void mk_ds(hid_t loc, const char *name, hid_t t, int rank, const hsize_t *dims, const void *data) {
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (!data) {
        hsize_t chunk[8];
        for (int i = 0; i < rank; i++) chunk[i] = dims[i] < 16 ? (dims[i] ? dims[i] : 1) : 16;
        H5Pset_chunk(dcpl, rank, chunk);
    }
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t ds = H5Dcreate2(loc, name, t, space, lcpl, dcpl, H5P_DEFAULT);
    CHECK(ds >= 0, "create %s", name);
    if (data) H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(ds);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(space);
}

// A valid episode with T steps, frames H x W x 3 (pixels all 7), A = 8, under group name.
static void mk_episode(hid_t f, int id, int T, int H, int W) {
    char name[128];
    size_t n = (size_t)(T + 1) * H * W * 3;
    uint8_t *obs = xmalloc(n);
    memset(obs, 7, n);
    uint8_t *act = xcalloc((size_t)T * 8 + 1, 1);
    hsize_t od[4] = {(hsize_t)T + 1, (hsize_t)H, (hsize_t)W, 3}, ad[2] = {(hsize_t)T, 8};
    snprintf(name, sizeof name, "episode_%d/observations", id);
    mk_ds(f, name, H5T_NATIVE_UINT8, 4, od, obs);
    snprintf(name, sizeof name, "episode_%d/actions", id);
    mk_ds(f, name, H5T_NATIVE_UINT8, 2, ad, act);
    free(obs);
    free(act);
}

// ---------------------------------------------------------------- writer round trip

// Pixel (e,t,y,x,c) of the synthetic writer dataset; actions = bits of (t + e).
static uint8_t syn_px(int e, int t, int y, int x, int c) { return (uint8_t)(e * 31 + t * 3 + y + 2 * x + 5 * c); }

static int write_synthetic(const char *path, int n_ep, const int *T, int H, int W, int C, Err *err) {
    EpisodeWriter *w = episode_writer_open(path, "synthetic", NES_ACTION_NAMES, 4, err);
    if (!w) return -1;
    uint8_t *frame = xmalloc((size_t)H * W * C), act[NES_BUTTONS];
    for (int e = 0; e < n_ep; e++) {
        if (episode_writer_begin(w, H, W, C, NES_BUTTONS, err) < 0) { episode_writer_abort(w); free(frame); return -1; }
        for (int t = 0; t <= T[e]; t++) {
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    for (int c = 0; c < C; c++) frame[((size_t)y * W + x) * C + c] = syn_px(e, t, y, x, c);
            for (int a = 0; a < NES_BUTTONS; a++) act[a] = ((t + e) >> a) & 1;
            int rc = t < T[e] ? episode_writer_step(w, frame, act, 0.5f * t, t == T[e] - 1, 0, err)
                              : episode_writer_end(w, frame, err);
            if (rc < 0) { episode_writer_abort(w); free(frame); return -1; }
        }
    }
    free(frame);
    return episode_writer_close(w, err);
}

// Copies every episode of `in` through the writer into `out`.
static int rewrite(const char *in, const char *out, Err *err) {
    EpisodeFile f;
    if (episode_file_open(&f, in, err) < 0) return -1;
    EpisodeWriter *w = episode_writer_open(out, f.game, f.action_names, (int)f.frame_skip, err);
    size_t fb = (size_t)f.H * f.W * f.C;
    int rc = w ? 0 : -1;
    for (int e = 0; e < f.n_episodes && !rc; e++) {
        uint8_t *fr = xmalloc(f.ep[e].frames * fb), *ac = xmalloc(f.ep[e].steps * f.A + 1);
        rc = episode_file_read_frames(&f, e, 0, f.ep[e].frames, fr, err);
        if (!rc) rc = episode_file_read_actions(&f, e, ac, err);
        if (!rc) rc = episode_writer_begin(w, f.H, f.W, f.C, f.A, err);
        for (int64_t t = 0; !rc && t < f.ep[e].steps; t++) rc = episode_writer_step(w, fr + t * fb, ac + t * f.A, 0, 0, 0, err);
        if (!rc) rc = episode_writer_end(w, fr + f.ep[e].steps * fb, err);
        free(fr);
        free(ac);
    }
    episode_file_close(&f);
    if (rc) { if (w) episode_writer_abort(w); return -1; }
    return episode_writer_close(w, err);
}

static void test_round_trip(void) {
    printf("writer round trip\n");
    char p1[512], p2[512];
    tmp_path(p1, "rt1.h5");
    tmp_path(p2, "rt2.h5");
    const int T[3] = {4, 9, 1}, H = 18, W = 21, C = 3;
    Err err = {{0}};
    EXPECT(write_synthetic(p1, 3, T, H, W, C, &err) == 0, "write: %s", err.msg);
    struct stat st;
    char tmpname[600];
    snprintf(tmpname, sizeof tmpname, "%s.tmp", p1);
    EXPECT(stat(tmpname, &st) != 0, "temp file %s left behind", tmpname);
    EXPECT(rewrite(p1, p2, &err) == 0, "rewrite: %s", err.msg);
    EpisodeFile f;
    EXPECT(episode_file_open(&f, p2, &err) == 0, "open: %s", err.msg);
    if (f.n_episodes != 3) { EXPECT(0, "episodes %d", f.n_episodes); return; }
    EXPECT(f.H == H && f.W == W && f.C == C && f.A == 8 && f.action_kind == ACTIONS_MULTIBINARY,
           "shape %dx%dx%d A %d", f.H, f.W, f.C, f.A);
    EXPECT(!strcmp(f.game, "synthetic") && !strcmp(f.action_names, NES_ACTION_NAMES) && f.frame_skip == 4,
           "attrs game '%s' names '%s' skip %lld", f.game, f.action_names, (long long)f.frame_skip);
    EXPECT(f.total_steps == 14 && f.total_frames == 17, "totals %lld %lld", (long long)f.total_steps, (long long)f.total_frames);
    long bad_px = 0, bad_act = 0;
    for (int e = 0; e < 3; e++) {
        EXPECT(f.ep[e].id == e && f.ep[e].steps == T[e] && f.ep[e].frames == T[e] + 1, "episode %d info", e);
        uint8_t *fr = xmalloc((size_t)(T[e] + 1) * H * W * C), *ac = xmalloc((size_t)T[e] * 8);
        EXPECT(episode_file_read_frames(&f, e, 0, T[e] + 1, fr, &err) == 0, "%s", err.msg);
        EXPECT(episode_file_read_actions(&f, e, ac, &err) == 0, "%s", err.msg);
        for (int t = 0; t <= T[e]; t++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    for (int c = 0; c < C; c++) bad_px += fr[(((size_t)t * H + y) * W + x) * C + c] != syn_px(e, t, y, x, c);
        for (int t = 0; t < T[e]; t++)
            for (int a = 0; a < 8; a++) bad_act += ac[t * 8 + a] != (((t + e) >> a) & 1);
        free(fr);
        free(ac);
    }
    EXPECT(bad_px == 0 && bad_act == 0, "round trip: %ld pixels and %ld action bits differ", bad_px, bad_act);
    // Root attrs and per-episode flags as Minari readers expect them.
    hid_t h = H5Fopen(p1, H5F_ACC_RDONLY, H5P_DEFAULT);
    int64_t te = 0, ts = 0;
    h5_attr_read_i64(h, "/", "total_episodes", &te, &err);
    h5_attr_read_i64(h, "/", "total_steps", &ts, &err);
    EXPECT(te == 3 && ts == 14, "root attrs total_episodes %lld total_steps %lld", (long long)te, (long long)ts);
    hsize_t d[8];
    EXPECT(h5_shape(h, "episode_1/rewards", d, &err) == 1 && d[0] == 9, "rewards shape");
    EXPECT(h5_shape(h, "episode_1/terminations", d, &err) == 1 && d[0] == 9, "terminations shape");
    H5Fclose(h);
    episode_file_close(&f);

    // Loaded without resizing, the arena is the same bytes in planar order.
    Dataset ds;
    Preprocess p = {H, W, 3};
    EXPECT(dataset_load(&ds, p2, &p, &err) == 0, "load: %s", err.msg);
    long bad = 0;
    for (int e = 0; e < 3 && ds.frames; e++)
        for (int t = 0; t <= T[e]; t++) {
            const uint8_t *fr = dataset_frame_u8(&ds, e, t);
            for (int c = 0; c < C; c++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++) bad += fr[((size_t)c * H + y) * W + x] != syn_px(e, t, y, x, c);
        }
    EXPECT(bad == 0 && ds.n_frames == 17, "dataset arena: %ld bytes differ", bad);
    dataset_free(&ds);

    // Writer input errors.
    EpisodeWriter *w = episode_writer_open(tmp_path(p1, "bad_w.h5"), "g", "", 1, &err);
    EXPECT(w && episode_writer_begin(w, 8, 32, 3, 8, &err) < 0 && strstr(err.msg, "found 8x32x3"), "small frames: %s", err.msg);
    EXPECT(w && episode_writer_close(w, &err) < 0 && strstr(err.msg, "no episode"), "empty close: %s", err.msg);
    EXPECT(stat(p1, &st) != 0, "failed writer left %s", p1);
}

// ---------------------------------------------------------------- h5py fixtures

static void test_fixtures(void) {
    printf("h5py Minari fixtures\n");
    Err err = {{0}};
    EpisodeFile f;
    const char *mb = "tests/fixtures/data_minari_mb.h5";
    // ids 0, 2, 10 and a 'metadata' group: an odd layout, refused unless accepted (issue #16 class 5)
    EXPECT(episode_file_open(&f, mb, &err) < 0 && strstr(err.msg, "root object 'metadata' is not an episode") &&
           strstr(err.msg, "data.accept_odd = yes"), "odd layout refused by default: %s", err.msg);
    if (episode_file_open_odd(&f, mb, 1, &err) < 0) { EXPECT(0, "%s", err.msg); return; }
    EXPECT(!strcmp(f.odd, "1 root object skipped ('metadata'); episode ids 0..10 with 8 missing (first: episode_1)"),
           "what was odd: %s", f.odd);
    const int ids[3] = {0, 2, 10}, T[3] = {5, 3, 4};
    EXPECT(f.n_episodes == 3 && f.H == 24 && f.W == 32 && f.C == 3 && f.A == 8 && !strcmp(f.action_dtype, "int8"),
           "mb shape: %d eps %dx%dx%d A %d %s", f.n_episodes, f.H, f.W, f.C, f.A, f.action_dtype);
    long bad = 0;
    for (int e = 0; e < 3 && f.n_episodes == 3; e++) {
        EXPECT(f.ep[e].id == ids[e] && f.ep[e].steps == T[e] && f.ep[e].frames == T[e] + 1, "episode %d: id %d T %lld",
               e, f.ep[e].id, (long long)f.ep[e].steps);
        uint8_t *fr = xmalloc((size_t)(T[e] + 1) * 24 * 32 * 3), ac[64];
        episode_file_read_frames(&f, e, 0, T[e] + 1, fr, &err);
        episode_file_read_actions(&f, e, ac, &err);
        for (int t = 0; t <= T[e]; t++)
            for (int y = 0; y < 24; y++)
                for (int x = 0; x < 32; x++)
                    for (int c = 0; c < 3; c++) bad += fr[(((size_t)t * 24 + y) * 32 + x) * 3 + c] != obs_value(ids[e], t, y, x, c);
        for (int t = 0; t < T[e]; t++)
            for (int a = 0; a < 8; a++) bad += ac[t * 8 + a] != mb_action(ids[e], t, a);
        free(fr);
    }
    EXPECT(bad == 0, "mb fixture: %ld values differ", bad);
    episode_file_close(&f);

    // Discrete int64 [T] actions with T observation rows, grey 16x20; n = max+1 = 5.
    Dataset d;
    Preprocess p = {16, 20, 1};
    if (dataset_load(&d, "tests/fixtures/data_minari_discrete.h5", &p, &err) < 0) { EXPECT(0, "%s", err.msg); return; }
    EXPECT(d.n_episodes == 2 && d.A == 5 && d.n_frames == 10 && d.n_steps == 10, "discrete: %d eps A %d frames %lld",
           d.n_episodes, d.A, (long long)d.n_frames);
    EXPECT(dataset_ep_transitions(&d, 0) == 5 && dataset_ep_transitions(&d, 1) == 3, "T-row episodes: last frame has no successor");
    bad = 0;
    for (int e = 0; e < 2; e++)
        for (int t = 0; t < (e ? 4 : 6); t++) {
            const uint8_t *a = dataset_action_u8(&d, e, t);
            int want = (t * 3 + e) % 5;
            for (int k = 0; k < 5; k++) bad += a[k] != (k == want);
            const uint8_t *fr = dataset_frame_u8(&d, e, t);
            for (int y = 0; y < 16; y++)
                for (int x = 0; x < 20; x++) bad += fr[y * 20 + x] != obs_value(e, t, y, x, 0);
        }
    EXPECT(bad == 0, "discrete one-hot / frames: %ld values differ", bad);
    float af[5];
    dataset_action(&d, 1, 2, af);   // (2*3+1) % 5 = 2
    EXPECT(af[2] == 1.0f && af[0] == 0 && af[1] == 0 && af[3] == 0 && af[4] == 0, "float one-hot");
    dataset_free(&d);
}

// ---------------------------------------------------------------- Pillow oracle

static void test_pillow(void) {
    printf("Pillow luma + BILINEAR resize\n");
    h5_quiet();
    hid_t f = H5Fopen("tests/fixtures/data_pillow.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) { EXPECT(0, "cannot open tests/fixtures/data_pillow.h5"); return; }
    int64_t n = 0;
    Err err;
    h5_attr_read_i64(f, "/", "n", &n, &err);
    EXPECT(n == 4, "pillow fixture cases %lld", (long long)n);
    for (int i = 0; i < n; i++) {
        char name[64];
        int r;
        hsize_t di[8], dl[8], dg[8], dr[8];
        snprintf(name, sizeof name, "case_%d/rgb", i);
        uint8_t *rgb = read_u8(f, name, &r, di);
        snprintf(name, sizeof name, "case_%d/luma", i);
        uint8_t *luma = read_u8(f, name, &r, dl);
        snprintf(name, sizeof name, "case_%d/grey_resized", i);
        uint8_t *gr = read_u8(f, name, &r, dg);
        snprintf(name, sizeof name, "case_%d/rgb_resized", i);
        uint8_t *rr = read_u8(f, name, &r, dr);
        if (!rgb || !luma || !gr || !rr) { EXPECT(0, "case %d missing", i); continue; }
        int ih = (int)di[0], iw = (int)di[1], oh = (int)dg[0], ow = (int)dg[1];
        size_t npx = (size_t)ih * iw;
        uint8_t *l = xmalloc(npx);
        rgb_to_luma(rgb, l, npx);
        int dmax = 0;
        for (size_t k = 0; k < npx; k++) dmax = abs(l[k] - luma[k]) > dmax ? abs(l[k] - luma[k]) : dmax;
        EXPECT(dmax == 0, "case %d luma max diff %d", i, dmax);
        for (int ch = 1; ch <= 3; ch += 2) {
            Preprocessor pp;
            Preprocess p = {oh, ow, ch};
            EXPECT(preprocessor_init(&pp, ih, iw, 3, &p, &err) == 0, "%s", err.msg);
            uint8_t *scratch = xmalloc(preprocessor_scratch_bytes(&pp)), *out = xmalloc((size_t)oh * ow * ch);
            preprocess_frame(&pp, rgb, out, scratch);
            int mx = 0;
            long ndiff = 0;
            for (int c = 0; c < ch; c++)
                for (int k = 0; k < oh * ow; k++) {
                    int want = ch == 1 ? gr[k] : rr[k * 3 + c];
                    int dd = abs(out[(size_t)c * oh * ow + k] - want);
                    ndiff += dd != 0;
                    if (dd > mx) mx = dd;
                }
            printf("  case %d %s %dx%d -> %dx%d: max diff %d, %ld of %d values differ\n", i, ch == 1 ? "grey" : "RGB ",
                   ih, iw, oh, ow, mx, ndiff, oh * ow * ch);
            EXPECT(mx <= 1, "case %d channels %d: resize max diff %d > 1", i, ch, mx);
            EXPECT(ndiff == 0, "case %d channels %d: %ld values differ from Pillow", i, ch, ndiff);
            free(scratch);
            free(out);
            preprocessor_free(&pp);
        }
        free(l);
        free(rgb);
        free(luma);
        free(gr);
        free(rr);
    }
    H5Fclose(f);
    Preprocessor pp;
    Preprocess p = {80, 80, 3};
    EXPECT(preprocessor_init(&pp, 100, 100, 1, &p, &err) < 0 && strstr(err.msg, "grey"), "grey->RGB rejected: %s", err.msg);
}

// ---------------------------------------------------------------- splits

static int disjoint_cover(const Split *s, int n) {
    int *seen = xcalloc(n, sizeof(int));
    const int *l[3] = {s->train, s->val, s->test};
    const int c[3] = {s->n_train, s->n_val, s->n_test};
    int ok = 1;
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < c[k]; i++) {
            if (l[k][i] < 0 || l[k][i] >= n || seen[l[k][i]]++) ok = 0;
            if (i && l[k][i] <= l[k][i - 1]) ok = 0;   // sorted
        }
    for (int i = 0; i < n; i++) ok &= seen[i] == 1;
    free(seen);
    return ok;
}

static void test_splits(void) {
    printf("splits\n");
    Split a, b, c;
    Err err;
    EXPECT(dataset_split(&a, 50, 20, 0.2, 42, &err) == 0, "%s", err.msg);
    EXPECT(dataset_split(&b, 50, 20, 0.2, 42, &err) == 0, "%s", err.msg);
    EXPECT(dataset_split(&c, 50, 20, 0.2, 43, &err) == 0, "%s", err.msg);
    EXPECT(a.n_test == 20 && a.n_val == 6 && a.n_train == 24, "sizes %d %d %d", a.n_train, a.n_val, a.n_test);
    EXPECT(disjoint_cover(&a, 50) && disjoint_cover(&c, 50), "splits disjoint, sorted, covering");
    EXPECT(!memcmp(a.test, b.test, 20 * sizeof(int)) && !memcmp(a.val, b.val, 6 * sizeof(int)) &&
           !memcmp(a.train, b.train, 24 * sizeof(int)), "same seed, same split");
    EXPECT(memcmp(a.test, c.test, 20 * sizeof(int)) != 0, "another seed, another split");
    // The test set depends only on the seed and test_episodes, not on val_split.
    Split d;
    EXPECT(dataset_split(&d, 50, 20, 0.5, 42, &err) == 0 && !memcmp(a.test, d.test, 20 * sizeof(int)), "test set stable");
    split_free(&a), split_free(&b), split_free(&c), split_free(&d);
    EXPECT(dataset_split(&a, 3, 0, 0.01, 1, &err) == 0 && a.n_val == 1 && a.n_train == 2, "at least one val episode");
    split_free(&a);
    EXPECT(dataset_split(&a, 3, 0, 0, 1, &err) == 0 && a.n_val == 0 && a.n_train == 3, "val_split 0");
    split_free(&a);
    EXPECT(dataset_split(&a, 21, 20, 0.2, 1, &err) < 0 && strstr(err.msg, "no training episode"), "no train: %s", err.msg);
    EXPECT(dataset_split(&a, 10, 20, 0.2, 1, &err) < 0 && strstr(err.msg, "no training episode"), "too few: %s", err.msg);
}

// ---------------------------------------------------------------- samplers

// Grey 16x16 frames: pixel 0 = episode, pixel 1 = t; actions = bits of t.
static void make_indexed(const char *path, int n_ep, const int *T) {
    Err err;
    EpisodeWriter *w = episode_writer_open(path, "indexed", NES_ACTION_NAMES, 1, &err);
    CHECK(w, "%s", err.msg);
    uint8_t fr[256], act[8];
    for (int e = 0; e < n_ep; e++) {
        CHECK(episode_writer_begin(w, 16, 16, 1, 8, &err) == 0, "%s", err.msg);
        for (int t = 0; t <= T[e]; t++) {
            memset(fr, 200, sizeof fr);
            fr[0] = (uint8_t)e, fr[1] = (uint8_t)t;
            for (int a = 0; a < 8; a++) act[a] = (t >> a) & 1;
            if (t < T[e]) CHECK(episode_writer_step(w, fr, act, 0, 0, 0, &err) == 0, "%s", err.msg);
            else CHECK(episode_writer_end(w, fr, &err) == 0, "%s", err.msg);
        }
    }
    CHECK(episode_writer_close(w, &err) == 0, "%s", err.msg);
}

static int px(float v) { return (int)lrintf(v * 255.0f); }

// One epoch: every item exactly once, windows inside their episode, actions and targets aligned.
static void check_epoch(const Sampler *s, const Dataset *d, int B, int *count, int64_t *order, const char *what) {
    const int K = s->K, hw = 256;
    float *x = xmalloc_floats((size_t)B * hw), *y = xmalloc_floats((size_t)B * (K ? K : 1) * hw);
    float *a = xmalloc_floats((size_t)B * (K ? K : 1) * 8);
    long bad = 0, total = 0;
    memset(count, 0, sizeof(int) * d->n_frames);
    for (int64_t i = 0; i < sampler_batches(s, B); i++) {
        int nb = sampler_batch(s, i, B, x, a, y);
        for (int j = 0; j < nb; j++, total++) {
            int e = px(x[j * hw]), t = px(x[j * hw + 1]);
            if (e >= d->n_episodes || t >= dataset_ep_frames(d, e)) { bad++; continue; }
            count[d->frame_off[e] + t]++;
            order[total] = d->frame_off[e] + t;
            if (t + K > dataset_ep_transitions(d, e)) bad++;          // window would cross the end
            for (int k = 0; k < K; k++) {
                const float *yk = y + ((size_t)j * K + k) * hw;
                bad += px(yk[0]) != e || px(yk[1]) != t + k + 1 || px(yk[2]) != 200;
                for (int b = 0; b < 8; b++) bad += a[((size_t)j * K + k) * 8 + b] != (float)(((t + k) >> b) & 1);
            }
        }
    }
    long miss = 0;
    for (int e = 0; e < d->n_episodes; e++)
        for (int64_t t = 0; t < dataset_ep_frames(d, e); t++) {
            int want = t + K < dataset_ep_frames(d, e);   // an item starts here (K = 0: every frame)
            int in = 0;
            for (int i = 0; i < s->n; i++) in |= s->items[i].e == e;   // episode selected?
            if (in) miss += count[d->frame_off[e] + t] != want;
        }
    EXPECT(bad == 0 && miss == 0 && total == s->n, "%s: %ld misaligned, %ld not covered exactly once, %ld of %lld items",
           what, bad, miss, total, (long long)s->n);
    free(x), free(y), free(a);
}

static void test_samplers(void) {
    printf("samplers\n");
    char path[512];
    tmp_path(path, "indexed.h5");
    const int T[5] = {6, 1, 9, 3, 12};
    make_indexed(path, 5, T);
    Dataset d;
    Err err;
    Preprocess p = {16, 16, 1};
    if (dataset_load(&d, path, &p, &err) < 0) { EXPECT(0, "%s", err.msg); return; }
    int *count = xcalloc(d.n_frames, sizeof(int));
    int64_t *o1 = xcalloc(d.n_frames, sizeof(int64_t)), *o2 = xcalloc(d.n_frames, sizeof(int64_t));
    int all[5] = {0, 1, 2, 3, 4}, some[3] = {0, 2, 4};
    Sampler s;
    Rng rng;
    EXPECT(sampler_init(&s, &d, all, 5, SAMPLE_TRANSITIONS, 0, &err) == 0 && s.n == 31, "transitions n %lld", (long long)s.n);
    check_epoch(&s, &d, 4, count, o1, "transitions, episode order");
    rng_seed(&rng, 7);
    sampler_shuffle(&s, &rng);
    check_epoch(&s, &d, 4, count, o1, "transitions, epoch 1");
    sampler_shuffle(&s, &rng);
    check_epoch(&s, &d, 4, count, o2, "transitions, epoch 2");
    EXPECT(memcmp(o1, o2, 31 * sizeof(int64_t)) != 0, "epochs differ in order");
    sampler_free(&s);
    EXPECT(sampler_init(&s, &d, all, 5, SAMPLE_TRANSITIONS, 1, &err) == 0, "%s", err.msg);
    rng_seed(&rng, 7);
    sampler_shuffle(&s, &rng);
    check_epoch(&s, &d, 5, count, o2, "transitions, same seed");
    EXPECT(!memcmp(o1, o2, 31 * sizeof(int64_t)), "same seed, same order");
    sampler_free(&s);

    EXPECT(sampler_init(&s, &d, all, 5, SAMPLE_FRAMES, 0, &err) == 0 && s.n == 36, "frames n %lld", (long long)s.n);
    sampler_shuffle(&s, &rng);
    check_epoch(&s, &d, 8, count, o1, "frames (incl. last of each episode)");
    sampler_free(&s);

    EXPECT(sampler_init(&s, &d, some, 3, SAMPLE_WINDOWS, 4, &err) == 0 && s.n == 3 + 6 + 9, "windows n %lld", (long long)s.n);
    sampler_shuffle(&s, &rng);
    check_epoch(&s, &d, 7, count, o1, "windows K=4 of episodes 0,2,4");
    sampler_free(&s);
    // dynamics.event_weight's repeat: flagged items 3 times each, in place, the others once
    EXPECT(sampler_init(&s, &d, some, 3, SAMPLE_WINDOWS, 4, &err) == 0, "%s", err.msg);
    uint8_t flag[18] = {0};
    flag[0] = flag[4] = flag[17] = 1;
    SampleRef first = s.items[0], fifth = s.items[4], last = s.items[17], second = s.items[1];
    int64_t rn = sampler_repeat(&s, flag, 3);
    EXPECT(rn == 18 + 3 * 2 && s.n == rn && s.items[0].t == first.t && s.items[2].e == first.e &&
               s.items[2].t == first.t && s.items[3].t == second.t && s.items[6].t == fifth.t &&
               s.items[8].t == fifth.t && s.items[23].e == last.e && s.items[23].t == last.t,
           "repeat: %lld items, flagged ones 3 times in place", (long long)rn);
    sampler_free(&s);
    int one[1] = {1};
    EXPECT(sampler_init(&s, &d, one, 1, SAMPLE_WINDOWS, 2, &err) < 0 && strstr(err.msg, "no window"), "short episode: %s", err.msg);

    // Split file for the run folder lists file ids.
    Split sp;
    char sp_path[512];
    EXPECT(dataset_split(&sp, d.n_episodes, 1, 0.25, 3, &err) == 0, "%s", err.msg);
    EXPECT(split_write(&sp, &d, tmp_path(sp_path, "split.txt"), &err) == 0, "%s", err.msg);
    FILE *fp = fopen(sp_path, "r");
    char line[256];
    int lines = 0, ids = 0;
    while (fp && fgets(line, sizeof line, fp))
        if (line[0] != '#') {
            lines++;
            for (char *q = strchr(line, ':'); q && *q; q++) ids += *q == ' ' && q[1] >= '0' && q[1] <= '9';
        }
    if (fp) fclose(fp);
    EXPECT(lines == 3 && ids == 5, "split file: %d lines, %d ids", lines, ids);
    split_free(&sp);
    free(count), free(o1), free(o2);
    dataset_free(&d);
}

// ---------------------------------------------------------------- bad files

// Runs `gen info path`; returns exit status, the number of stderr lines and whether stdout was empty.
static int run_gen_info(const char *path, int *lines, char *first, size_t cap) {
    const char *bin = getenv("NEMU_BIN");
    *lines = -1;
    if (!bin) return -1;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s/gen' info '%s' 2>&1 >/dev/null", bin, path);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char buf[2048];
    *lines = 0;
    first[0] = 0;
    while (fgets(buf, sizeof buf, p)) {
        if (!*lines) snprintf(first, cap, "%s", buf);
        (*lines)++;
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

typedef struct { const char *file, *must1, *must2; } BadCase;

static void check_bad(const char *path, const char *must1, const char *must2, int at_load) {
    Err err = {{0}};
    EpisodeFile f;
    int rc = episode_file_open(&f, path, &err);
    if (at_load) {   // layout is fine; the data cannot be read
        if (rc == 0) episode_file_close(&f);
        Dataset d;
        Preprocess p = {16, 16, 1};
        rc = dataset_load(&d, path, &p, &err);
        if (rc == 0) dataset_free(&d);
    }
    int ok = rc < 0 && strstr(err.msg, path) && (!must1 || strstr(err.msg, must1)) && (!must2 || strstr(err.msg, must2)) &&
             !strchr(err.msg, '\n');
    EXPECT(ok, "%s: rejected with a message naming %s, %s: got rc %d '%s'", path, must1 ? must1 : "-", must2 ? must2 : "-", rc, err.msg);
    printf("  %s\n", err.msg);
    int lines;
    char first[2048];
    int st = run_gen_info(path, &lines, first, sizeof first);
    if (lines < 0) { printf("  (NEMU_BIN unset: gen info not checked)\n"); return; }
    EXPECT(st == 1 && lines == 1 && strstr(first, path), "gen info %s: exit %d, %d stderr lines, '%s'", path, st, lines, first);
}

// Files whose layout is wrong: missing datasets, wrong rank or type, bad sizes.
static void test_bad_layouts(void) {
    printf("bad-file corpus\n");
    h5_quiet();
    char p[512];
    hid_t f;
    hsize_t d4[4], d2[2];
    // missing observations / actions (in episode_1; episode_0 fine)
    f = H5Fcreate(tmp_path(p, "no_obs.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    mk_episode(f, 0, 3, 16, 16);
    d2[0] = 3, d2[1] = 8;
    mk_ds(f, "episode_1/actions", H5T_NATIVE_UINT8, 2, d2, NULL);
    H5Fclose(f);
    check_bad(p, "episode_1/observations", "missing", 0);

    f = H5Fcreate(tmp_path(p, "no_act.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    mk_episode(f, 0, 3, 16, 16);
    d4[0] = 4, d4[1] = 16, d4[2] = 16, d4[3] = 3;
    mk_ds(f, "episode_1/observations", H5T_NATIVE_UINT8, 4, d4, NULL);
    H5Fclose(f);
    check_bad(p, "episode_1/actions", "missing", 0);

    // wrong rank
    f = H5Fcreate(tmp_path(p, "rank.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t d3[3] = {4, 16, 16};
    mk_ds(f, "episode_0/observations", H5T_NATIVE_UINT8, 3, d3, NULL);
    H5Fclose(f);
    check_bad(p, "episode_0/observations", "found rank 3 [4,16,16]", 0);

    // float observations
    f = H5Fcreate(tmp_path(p, "float_obs.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    mk_ds(f, "episode_0/observations", H5T_NATIVE_FLOAT, 4, d4, NULL);
    H5Fclose(f);
    check_bad(p, "episode_0/observations", "found float32", 0);

    // actions longer than observations
    f = H5Fcreate(tmp_path(p, "t_mismatch.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    mk_episode(f, 0, 3, 16, 16);
    d4[0] = 121;
    mk_ds(f, "episode_1/observations", H5T_NATIVE_UINT8, 4, d4, NULL);
    d2[0] = 130;
    mk_ds(f, "episode_1/actions", H5T_NATIVE_UINT8, 2, d2, NULL);
    H5Fclose(f);
    check_bad(p, "episode_1/actions", "observations have 121 rows), found [130,8]", 0);

    // zero episodes
    f = H5Fcreate(tmp_path(p, "zero.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(f, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(f);
    check_bad(p, "no episode", NULL, 0);

    // absurd sizes: H = 1, H = 100000 (declared only; chunked, no bytes)
    f = H5Fcreate(tmp_path(p, "h1.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    d4[0] = 4, d4[1] = 1, d4[2] = 16;
    mk_ds(f, "episode_0/observations", H5T_NATIVE_UINT8, 4, d4, NULL);
    H5Fclose(f);
    check_bad(p, "episode_0/observations", "[4,1,16,3]", 0);
    f = H5Fcreate(tmp_path(p, "h100000.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    d4[1] = 100000;
    mk_ds(f, "episode_0/observations", H5T_NATIVE_UINT8, 4, d4, NULL);
    H5Fclose(f);
    check_bad(p, "episode_0/observations", "[4,100000,16,3]", 0);
    f = H5Fcreate(tmp_path(p, "rows.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    d4[0] = 4000000000ull, d4[1] = 16;
    mk_ds(f, "episode_0/observations", H5T_NATIVE_UINT8, 4, d4, NULL);
    H5Fclose(f);
    check_bad(p, "episode_0/observations", "rows", 0);

    // actions stored as a group; episodes with different frame sizes; negative discrete action
    f = H5Fcreate(tmp_path(p, "act_group.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    d4[0] = 4, d4[1] = 16, d4[2] = 16;
    mk_ds(f, "episode_0/observations", H5T_NATIVE_UINT8, 4, d4, NULL);
    H5Gclose(H5Gcreate2(f, "episode_0/actions", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(f);
    check_bad(p, "episode_0/actions", "group", 0);
    f = H5Fcreate(tmp_path(p, "mixed.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    mk_episode(f, 0, 3, 16, 16);
    mk_episode(f, 1, 3, 16, 20);
    H5Fclose(f);
    check_bad(p, "episode_1/observations", "[4,16,20,3]", 0);
    f = H5Fcreate(tmp_path(p, "neg.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    mk_ds(f, "episode_0/observations", H5T_NATIVE_UINT8, 4, d4, NULL);
    int64_t acts[3] = {1, -2, 0};
    hsize_t d1 = 3;
    mk_ds(f, "episode_0/actions", H5T_NATIVE_INT64, 1, &d1, acts);
    H5Fclose(f);
    check_bad(p, "episode_0/actions", "found -2", 0);

}

// Truncated file (a valid one cut in half), corrupt chunk, not HDF5, missing, directory.
static void test_bad_bytes(void) {
    char p[512], good[512];
    const int T[2] = {20, 20};
    Err err;
    CHECK(write_synthetic(tmp_path(good, "good.h5"), 2, T, 32, 32, 3, &err) == 0, "%s", err.msg);
    struct stat st;
    stat(good, &st);
    FILE *in = fopen(good, "rb");
    char *bytes = xmalloc(st.st_size);
    CHECK(fread(bytes, 1, st.st_size, in) == (size_t)st.st_size, "read %s", good);
    fclose(in);
    FILE *out = fopen(tmp_path(p, "truncated.h5"), "wb");
    fwrite(bytes, 1, st.st_size / 2, out);
    fclose(out);
    check_bad(p, "truncated", NULL, 0);
    // Corrupt the gzip stream of episode_1's frame 5 chunk (the layout still validates).
    hid_t h = H5Fopen(good, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(h, "episode_1/observations", H5P_DEFAULT);
    hsize_t off[4] = {5, 0, 0, 0}, size = 0;
    haddr_t addr = 0;
    unsigned mask;
    hid_t space = H5Dget_space(ds);
    H5Dget_chunk_info_by_coord(ds, off, &mask, &addr, &size);
    H5Sclose(space);
    H5Dclose(ds);
    H5Fclose(h);
    EXPECT(size > 8 && addr + size <= (haddr_t)st.st_size, "chunk location %llu + %llu", (unsigned long long)addr, (unsigned long long)size);
    if (size > 8) {
        for (hsize_t i = 2; i < size; i++) bytes[addr + i] = (char)(0x5a ^ (i * 37));
        out = fopen(tmp_path(p, "corrupt.h5"), "wb");
        fwrite(bytes, 1, st.st_size, out);
        fclose(out);
        check_bad(p, "episode_1/observations", "read of rows", 1);
    }
    free(bytes);
    out = fopen(tmp_path(p, "text.h5"), "w");
    fprintf(out, "this is not an HDF5 file\n");
    fclose(out);
    check_bad(p, "not", "HDF5", 0);
    check_bad(tmp_path(p, "missing.h5"), "No such file", NULL, 0);
    check_bad(g_tmp, "directory", NULL, 0);
}

// ---------------------------------------------------------------- benchmark (NEMU_DATA_BENCH=1)

static void bench(void) {
    const int H = 240, W = 256, C = 3, NEP = 8, T = 249;   // 8 x 250 = 2000 frames
    char path[512];
    tmp_path(path, "bench.h5");
    Err err;
    Rng rng;
    rng_seed(&rng, 1);
    uint8_t *fr = xmalloc((size_t)H * W * C), act[8] = {0};
    double t0 = now_seconds();
    EpisodeWriter *w = episode_writer_open(path, "bench", NES_ACTION_NAMES, 1, &err);
    CHECK(w, "%s", err.msg);
    for (int e = 0; e < NEP; e++) {
        CHECK(episode_writer_begin(w, H, W, C, 8, &err) == 0, "%s", err.msg);
        for (int t = 0; t <= T; t++) {
            // Game-like frame: flat background, 8x8 tiles of a few colours, a moving sprite.
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    int tile = ((y / 8) * 7 + (x / 8) * 3 + (((y / 8) + t / 10) % 5 == 0)) % 6;
                    for (int c = 0; c < C; c++) fr[((size_t)y * W + x) * C + c] = (uint8_t)(tile * 40 + c * 20);
                }
            int sy = (int)rng_below(&rng, H - 16), sx = (int)rng_below(&rng, W - 16);
            for (int y = sy; y < sy + 16; y++)
                for (int x = sx; x < sx + 16; x++) fr[((size_t)y * W + x) * C] = (uint8_t)rng_below(&rng, 256);
            if (t < T) CHECK(episode_writer_step(w, fr, act, 0, 0, 0, &err) == 0, "%s", err.msg);
            else CHECK(episode_writer_end(w, fr, &err) == 0, "%s", err.msg);
        }
    }
    CHECK(episode_writer_close(w, &err) == 0, "%s", err.msg);
    double tw = now_seconds() - t0;
    struct stat st;
    stat(path, &st);
    printf("bench: writer %d frames %dx%dx%d in %.2f s = %.0f frames/s, file %.1f MB\n", NEP * (T + 1), H, W, C, tw,
           NEP * (T + 1) / tw, st.st_size / 1e6);
    for (int th = 1; th <= 2; th++) {
#ifdef _OPENMP
        omp_set_num_threads(th);
#endif
        Dataset d;
        Preprocess p = {80, 80, 1};
        t0 = now_seconds();
        CHECK(dataset_load(&d, path, &p, &err) == 0, "%s", err.msg);
        double tl = now_seconds() - t0;
        printf("bench: load + grey + resize to 80x80, %d thread(s): %.2f s = %.0f frames/s\n", th, tl, d.n_frames / tl);
        dataset_free(&d);
    }
    free(fr);
    unlink(path);
}

int main(void) {
    test_mkdtemp(g_tmp, sizeof g_tmp, "data");
    h5_quiet();
    test_pillow();
    test_round_trip();
    test_fixtures();
    test_splits();
    test_samplers();
    test_bad_layouts();
    test_bad_bytes();
    const char *b = getenv("NEMU_DATA_BENCH");
    if (b && *b == '1') bench();
    test_rm_tree(g_tmp);
    return test_summary();
}
