/*
 * gen_info.c - ./gen info [--accept-odd] FILE: summary of an episode dataset and a validation
 * verdict (--accept-odd: an odd layout, data/episodes.h, passes and is named).
 * Validation = the layout checks of episode_file_open plus a full read of every episode's
 * observations and actions (catches truncated or corrupt chunks). On success prints the
 * summary and "validation  ok" on stdout; on failure prints nothing on stdout and the one-line
 * reason on stderr, exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/episodes.h"
#include "base/err.h"
#include "base/alloc.h"
#include "src/gen.h"

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void human_bytes(double b, char *buf, size_t cap) {
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4) b /= 1000, i++;
    snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

// Reads everything once, in chunks; returns -1 with err on a read failure.
static int read_all(const EpisodeFile *f, Err *err) {
    const int64_t chunk = 64;
    const size_t fb = (size_t)f->H * f->W * f->C;
    uint8_t *buf = xmalloc((size_t)chunk * fb);
    int64_t max_steps = 0;
    for (int e = 0; e < f->n_episodes; e++) if (f->ep[e].steps > max_steps) max_steps = f->ep[e].steps;
    uint8_t *act = xmalloc((size_t)max_steps * f->A);
    int rc = 0;
    for (int e = 0; e < f->n_episodes && !rc; e++) {
        rc = episode_file_read_actions(f, e, act, err);
        for (int64_t t = 0; !rc && t < f->ep[e].frames; t += chunk) {
            int64_t n = f->ep[e].frames - t < chunk ? f->ep[e].frames - t : chunk;
            rc = episode_file_read_frames(f, e, t, n, buf, err);
        }
    }
    free(buf);
    free(act);
    return rc;
}

int gen_info_main(int argc, char **argv) {
    const char *path = NULL;
    int accept_odd = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--accept-odd")) accept_odd = 1;
        else if (argv[i][0] == '-' || path) die("usage: gen info [--accept-odd] FILE.h5");
        else path = argv[i];
    }
    if (!path) die("usage: gen info [--accept-odd] FILE.h5");
    EpisodeFile f;
    Err err;
    if (episode_file_open_odd(&f, path, accept_odd, &err) < 0) die("%s", err.msg);
    if (read_all(&f, &err) < 0) { episode_file_close(&f); die("%s", err.msg); }

    int64_t *len = xmalloc((size_t)f.n_episodes * sizeof(int64_t));
    for (int e = 0; e < f.n_episodes; e++) len[e] = f.ep[e].steps;
    qsort(len, f.n_episodes, sizeof(int64_t), cmp_i64);
    int n = f.n_episodes;
    double median = n % 2 ? (double)len[n / 2] : 0.5 * (len[n / 2 - 1] + len[n / 2]);
    int full = 0;   // episodes with T+1 observation rows
    for (int e = 0; e < n; e++) full += f.ep[e].frames == f.ep[e].steps + 1;
    char size[32];
    human_bytes((double)f.file_bytes, size, sizeof size);

    printf("file          %s (%s)\n", path, size);
    if (f.game[0]) printf("game          %s\n", f.game);
    if (f.frame_skip) printf("frame_skip    %lld\n", (long long)f.frame_skip);
    printf("episodes      %d (ids %d..%d)\n", n, f.ep[0].id, f.ep[n - 1].id);
    printf("steps         %lld   frames %lld\n", (long long)f.total_steps, (long long)f.total_frames);
    printf("observations  uint8 [%s,%d,%d,%d]  (%s)\n", full == n ? "T+1" : full == 0 ? "T" : "T+1 or T",
           f.H, f.W, f.C, f.C == 3 ? "RGB" : "grey");
    if (f.action_kind == ACTIONS_DISCRETE)
        printf("actions       %s [T]  discrete, one-hot to %d\n", f.action_dtype, f.A);
    else
        printf("actions       %s [T,%d]  multi-binary\n", f.action_dtype, f.A);
    printf("action_names  %s\n", f.action_names[0] ? f.action_names : "(none)");
    printf("episode steps min %lld  median %g  max %lld\n", (long long)len[0], median, (long long)len[n - 1]);
    if (f.odd[0]) printf("odd layout    accepted (--accept-odd): %s\n", f.odd);
    printf("validation    ok\n");
    free(len);
    episode_file_close(&f);
    return 0;
}
