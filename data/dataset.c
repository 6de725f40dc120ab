/*
 * dataset.c - loading with preprocessing into one arena, splits, samplers (see dataset.h).
 */
#include "data/dataset.h"
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/threads.h"
#include "base/path.h"   // path_check_file

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define LOAD_CHUNK_FRAMES 64   // raw frames read per HDF5 call, then preprocessed in parallel

static double phys_mem_bytes(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (double)pages * page : 1e18;
}

int dataset_load(Dataset *d, const char *path, const Preprocess *p, Err *err) {
    return dataset_load_odd(d, path, p, 0, err);
}

int dataset_load_odd(Dataset *d, const char *path, const Preprocess *p, int accept_odd, Err *err) {
    memset(d, 0, sizeof *d);
    EpisodeFile f;
    if (episode_file_open_odd(&f, path, accept_odd, err) < 0) return -1;
    Preprocessor pp;
    if (preprocessor_init(&pp, f.H, f.W, f.C, p, err) < 0) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        err_set(err, "%s: %s", path, msg);
        episode_file_close(&f);
        return -1;
    }
    const size_t fbytes = (size_t)p->channels * p->height * p->width;
    double arena = (double)f.total_frames * fbytes + (double)f.total_steps * f.A;
    if (arena > 0.8 * phys_mem_bytes()) {
        err_set(err, "%s: preprocessed frames need %.1f GB, more than 80%% of this machine's memory (%.1f GB)",
                path, arena / 1e9, phys_mem_bytes() / 1e9);
        preprocessor_free(&pp);
        episode_file_close(&f);
        return -1;
    }
    snprintf(d->path, sizeof d->path, "%s", path);
    snprintf(d->action_names, sizeof d->action_names, "%s", f.action_names);
    snprintf(d->game, sizeof d->game, "%s", f.game);
    snprintf(d->odd, sizeof d->odd, "%s", f.odd);
    d->n_episodes = f.n_episodes;
    d->H = p->height, d->W = p->width, d->C = p->channels, d->A = f.A;
    d->src_h = f.H, d->src_w = f.W, d->src_c = f.C;
    d->n_frames = f.total_frames;
    d->n_steps = f.total_steps;
    d->buttons = f.A, d->n_files = 1;
    d->file_ep0[0] = 0, d->file_ep0[1] = f.n_episodes;
    snprintf(d->files[0], sizeof d->files[0], "%s", path);
    snprintf(d->games[0], sizeof d->games[0], "%s", f.game);
    d->ep_id = xmalloc((size_t)f.n_episodes * sizeof(int));
    d->frame_off = xmalloc((size_t)(f.n_episodes + 1) * sizeof(int64_t));
    d->step_off = xmalloc((size_t)(f.n_episodes + 1) * sizeof(int64_t));
    d->frame_off[0] = d->step_off[0] = 0;
    for (int e = 0; e < f.n_episodes; e++) {
        d->ep_id[e] = f.ep[e].id;
        d->frame_off[e + 1] = d->frame_off[e] + f.ep[e].frames;
        d->step_off[e + 1] = d->step_off[e] + f.ep[e].steps;
    }
    d->frames = xmalloc((size_t)d->n_frames * fbytes);
    d->actions = xmalloc((size_t)d->n_steps * d->A);

    const size_t raw_bytes = (size_t)f.H * f.W * f.C;
    const int nt = omp_threads();
    const size_t sb = preprocessor_scratch_bytes(&pp);
    uint8_t *raw = xmalloc(LOAD_CHUNK_FRAMES * raw_bytes);
    uint8_t *scratch = xmalloc((size_t)nt * sb);
    int rc = 0;
    for (int e = 0; e < f.n_episodes && !rc; e++) {
        rc = episode_file_read_actions(&f, e, d->actions + d->step_off[e] * d->A, err);
        for (int64_t t0 = 0; !rc && t0 < f.ep[e].frames; t0 += LOAD_CHUNK_FRAMES) {
            int64_t n = f.ep[e].frames - t0 < LOAD_CHUNK_FRAMES ? f.ep[e].frames - t0 : LOAD_CHUNK_FRAMES;
            rc = episode_file_read_frames(&f, e, t0, n, raw, err);
            if (rc) break;
            uint8_t *dst = d->frames + (size_t)(d->frame_off[e] + t0) * fbytes;
#ifdef _OPENMP
            #pragma omp parallel for schedule(static) num_threads(nt)
#endif
            for (int64_t i = 0; i < n; i++)
                preprocess_frame(&pp, raw + i * raw_bytes, dst + i * fbytes, scratch + (size_t)omp_thread_id() * sb);
        }
    }
    free(raw);
    free(scratch);
    preprocessor_free(&pp);
    episode_file_close(&f);
    if (rc) dataset_free(d);
    return rc;
}

void dataset_free(Dataset *d) {
    free(d->ep_id);
    free(d->frame_off);
    free(d->step_off);
    free(d->frames);
    free(d->actions);
    free(d->ep_game);
    memset(d, 0, sizeof *d);
}

const uint8_t *dataset_frame_u8(const Dataset *d, int e, int64_t t) {
    CHECK(e >= 0 && e < d->n_episodes && t >= 0 && t < dataset_ep_frames(d, e), "frame %lld of episode %d", (long long)t, e);
    return d->frames + (size_t)(d->frame_off[e] + t) * d->C * d->H * d->W;
}

void dataset_frame(const Dataset *d, int e, int64_t t, float *out) {
    const uint8_t *s = dataset_frame_u8(d, e, t);
    const size_t n = (size_t)d->C * d->H * d->W;
    for (size_t i = 0; i < n; i++) out[i] = s[i] * (1.0f / 255.0f);
}

const uint8_t *dataset_action_u8(const Dataset *d, int e, int64_t t) {
    CHECK(e >= 0 && e < d->n_episodes && t >= 0 && t < d->step_off[e + 1] - d->step_off[e], "action %lld of episode %d", (long long)t, e);
    return d->actions + (size_t)(d->step_off[e] + t) * d->A;
}

void dataset_action(const Dataset *d, int e, int64_t t, float *out) {
    const uint8_t *s = dataset_action_u8(d, e, t);
    for (int i = 0; i < d->A; i++) out[i] = s[i];
}

void dataset_action_none(const Dataset *d, int e, float *out) {
    CHECK(e >= 0 && e < d->n_episodes, "episode %d of %d", e, d->n_episodes);
    for (int i = 0; i < d->A; i++) out[i] = 0;
    if (d->n_games > 0) out[d->buttons + d->ep_game[e]] = 1;
}

// ---------------------------------------------------------------- splits

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int dataset_split(Split *s, int n_episodes, int test_episodes, double val_split, uint64_t seed, Err *err) {
    memset(s, 0, sizeof *s);
    if (test_episodes < 0) return err_set(err, "split: expected test_episodes >= 0, found %d", test_episodes);
    if (!(val_split >= 0 && val_split < 1)) return err_set(err, "split: expected 0 <= val_split < 1, found %g", val_split);
    int rest = n_episodes - test_episodes;
    int n_val = 0;
    if (rest > 0 && val_split > 0) {
        n_val = (int)(val_split * rest + 0.5);
        if (n_val < 1) n_val = 1;
    }
    if (rest - n_val < 1)
        return err_set(err, "split: %d episodes leave no training episode after test_episodes = %d and val_split = %g "
                       "(lower them or record more episodes)", n_episodes, test_episodes, val_split);
    int *perm = xmalloc((size_t)n_episodes * sizeof(int));
    for (int i = 0; i < n_episodes; i++) perm[i] = i;
    Rng rng;
    rng_seed(&rng, seed);
    rng_shuffle_int(&rng, perm, (size_t)n_episodes);
    s->n_test = test_episodes, s->n_val = n_val, s->n_train = rest - n_val;
    s->test = xmalloc((size_t)s->n_test * sizeof(int));
    s->val = xmalloc((size_t)s->n_val * sizeof(int));
    s->train = xmalloc((size_t)s->n_train * sizeof(int));
    memcpy(s->test, perm, (size_t)s->n_test * sizeof(int));
    memcpy(s->val, perm + s->n_test, (size_t)s->n_val * sizeof(int));
    memcpy(s->train, perm + s->n_test + s->n_val, (size_t)s->n_train * sizeof(int));
    qsort(s->test, s->n_test, sizeof(int), cmp_int);
    qsort(s->val, s->n_val, sizeof(int), cmp_int);
    qsort(s->train, s->n_train, sizeof(int), cmp_int);
    free(perm);
    return 0;
}

void split_free(Split *s) {
    free(s->train);
    free(s->val);
    free(s->test);
    memset(s, 0, sizeof *s);
}

static void split_print(FILE *fp, const Split *s, const Dataset *d) {
    const int *lists[3] = {s->train, s->val, s->test};
    const int counts[3] = {s->n_train, s->n_val, s->n_test};
    const char *names[3] = {"train", "val", "test"};
    const int several = d->n_files > 1;
    for (int f = 0; f < (several ? d->n_files : 1); f++) {
        if (several)
            fprintf(fp, "# nemu split of %s (game %s): episode ids (the i of /episode_<i>)\n", d->files[f], d->games[f]);
        else fprintf(fp, "# nemu split of %s: episode ids (the i of /episode_<i>)\n", d->path);
        for (int k = 0; k < 3; k++) {
            fprintf(fp, "%s:", names[k]);
            for (int i = 0; i < counts[k]; i++)
                if (!several || (lists[k][i] >= d->file_ep0[f] && lists[k][i] < d->file_ep0[f + 1]))
                    fprintf(fp, " %d", d->ep_id[lists[k][i]]);
            fprintf(fp, "\n");
        }
    }
}

int split_write(const Split *s, const Dataset *d, const char *path, Err *err) {
    FILE *fp = fopen(path, "w");
    if (!fp) return err_set(err, "%s: cannot write: %s", path, strerror(errno));
    split_print(fp, s, d);
    if (fclose(fp) != 0) return err_set(err, "%s: write failed: %s", path, strerror(errno));
    return 0;
}

// The next line of text that is not a comment (NULL at the end); cuts the newline.
static char *next_line(char **p) {
    while (**p) {
        char *l = *p, *nl = strchr(l, '\n');
        *p = nl ? nl + 1 : l + strlen(l);
        if (nl) *nl = 0;
        if (l[0] != '#') return l;
    }
    return NULL;
}

int split_check(const Split *s, const Dataset *d, const char *path, Err *err) {
    if (path_check_file(path, "split file", err) < 0) return -1;
    FILE *fp = fopen(path, "r");
    if (!fp) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    char *found = xcalloc(1 << 20, 1), *want = NULL;
    size_t n = fread(found, 1, (1 << 20) - 1, fp), wn = 0;
    int rerr = ferror(fp) ? errno : 0, more = fgetc(fp) != EOF;
    fclose(fp);
    FILE *ms = open_memstream(&want, &wn);
    CHECK(ms, "open_memstream");
    split_print(ms, s, d);
    fclose(ms);
    int rc = 0;
    if (rerr) rc = err_set(err, "%s: cannot read: %s", path, strerror(rerr));
    else if (more || memchr(found, 0, n)) rc = err_set(err, "%s: not a split file (binary or over 1 MB)", path);
    for (char *fp_ = found, *wp = want; !rc;) {
        char *a = next_line(&fp_), *b = next_line(&wp);
        if (!a && !b) break;
        if (!a || !b || strcmp(a, b))
            rc = err_set(err, "%s: found '%.60s%s', expected '%.60s%s' (the split of data.path, data.test_episodes, "
                         "data.val_split and run.seed)", path, a ? a : "(end of file)", a && strlen(a) > 60 ? "..." : "",
                         b ? b : "(end of file)", b && strlen(b) > 60 ? "..." : "");
    }
    free(found);
    free(want);
    return rc;
}

// ---------------------------------------------------------------- samplers

int sampler_init(Sampler *s, const Dataset *d, const int *episodes, int n_episodes, SampleKind kind, int K, Err *err) {
    memset(s, 0, sizeof *s);
    if (kind == SAMPLE_FRAMES) K = 0;
    else if (kind == SAMPLE_TRANSITIONS) K = 1;
    else if (K < 1) return err_set(err, "sampler: expected window length K >= 1, found %d", K);
    int64_t n = 0;
    for (int i = 0; i < n_episodes; i++) {
        int e = episodes[i];
        CHECK(e >= 0 && e < d->n_episodes, "episode index %d of %d", e, d->n_episodes);
        int64_t m = dataset_ep_frames(d, e) - K;
        if (m > 0) n += m;
    }
    if (n == 0)
        return err_set(err, "%s: the %d selected episodes hold no %s (each needs at least %d frames)", d->path, n_episodes,
                       kind == SAMPLE_FRAMES ? "frame" : kind == SAMPLE_TRANSITIONS ? "transition" : "window", K + 1);
    s->d = d, s->kind = kind, s->K = K, s->n = n;
    s->items = xmalloc((size_t)n * sizeof(SampleRef));
    int64_t k = 0;
    for (int i = 0; i < n_episodes; i++) {
        int e = episodes[i];
        int64_t m = dataset_ep_frames(d, e) - K;
        for (int64_t t = 0; t < m; t++) s->items[k++] = (SampleRef){e, (int32_t)t};
    }
    CHECK(k == n, "sampler items %lld != %lld", (long long)k, (long long)n);
    return 0;
}

int64_t sampler_repeat(Sampler *s, const uint8_t *flag, int times) {
    CHECK(times >= 1, "sampler_repeat: times %d", times);
    int64_t n = 0;
    for (int64_t i = 0; i < s->n; i++) n += flag[i] ? times : 1;
    SampleRef *items = xmalloc((size_t)n * sizeof(SampleRef));
    int64_t k = 0;
    for (int64_t i = 0; i < s->n; i++)
        for (int r = 0; r < (flag[i] ? times : 1); r++) items[k++] = s->items[i];
    free(s->items);
    s->items = items, s->n = n;
    return n;
}

void sampler_free(Sampler *s) {
    free(s->items);
    memset(s, 0, sizeof *s);
}

void sampler_shuffle(Sampler *s, Rng *rng) {
    for (int64_t i = s->n - 1; i > 0; i--) {
        int64_t j = i < (int64_t)UINT32_MAX ? (int64_t)rng_below(rng, (uint32_t)(i + 1))
                                            : (int64_t)(rng_u64(rng) % (uint64_t)(i + 1));
        SampleRef tmp = s->items[i];
        s->items[i] = s->items[j];
        s->items[j] = tmp;
    }
}

int64_t sampler_batches(const Sampler *s, int B) { return (s->n + B - 1) / B; }

int sampler_batch(const Sampler *s, int64_t i, int B, float *x, float *a, float *y) {
    CHECK(B > 0 && i >= 0 && i * B < s->n, "batch %lld of size %d (n = %lld)", (long long)i, B, (long long)s->n);
    const Dataset *d = s->d;
    const int64_t first = i * B;
    const int nb = (int)(s->n - first < B ? s->n - first : B);
    const size_t chw = (size_t)d->C * d->H * d->W;
    const int K = s->K, A = d->A;
#ifdef _OPENMP
    #pragma omp parallel for schedule(static) if ((size_t)nb * chw * (K + 1) > 200000)
#endif
    for (int j = 0; j < nb; j++) {
        SampleRef r = s->items[first + j];
        if (x) dataset_frame(d, r.e, r.t, x + j * chw);
        for (int k = 0; k < K; k++) {
            if (a) dataset_action(d, r.e, r.t + k, a + ((size_t)j * K + k) * A);
            if (y) dataset_frame(d, r.e, r.t + k + 1, y + ((size_t)j * K + k) * chw);
        }
    }
    return nb;
}
