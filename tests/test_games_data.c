/*
 * test_games_data.c - several games in one config (roadmap 5.3): data.path as a list of files
 * and data.generate as one game per file (parsing, the resolved text, every refusal), the
 * loader of several files (episodes in file order, the one-hot game columns after the
 * buttons, game names, one file of several for ./eval, files whose buttons differ refused),
 * and the split of each file on its own (equal to the split of that file alone, disjoint,
 * covering, ascending; split.txt written and checked per file).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/h5.h"
#include "data/dataset.h"
#include "data/episodes.h"
#include "src/config.h"
#include "tests/test.h"

static char g_tmp[256];

static const char *tmp_path(char *buf, const char *name) {
    snprintf(buf, 256, "%.200s/%.50s", g_tmp, name);
    return buf;
}

// File `game` of n_ep episodes (episode e has 3 + e steps), HxWx1 frames whose pixel 0 is the
// episode, pixel 1 the step and pixel 2 `tag`; A buttons, button b of step t = (t + b + tag) % 2.
static void make_file(const char *path, const char *game, int n_ep, int H, int W, int A, int tag) {
    Err err;
    const char *names = A == 8 ? NES_ACTION_NAMES : "";
    EpisodeWriter *w = episode_writer_open(path, game, names, 1, &err);
    CHECK(w, "%s", err.msg);
    uint8_t *fr = xmalloc((size_t)H * W), act[16];
    for (int e = 0; e < n_ep; e++) {
        CHECK(episode_writer_begin(w, H, W, 1, A, &err) == 0, "%s", err.msg);
        const int T = 3 + e;
        for (int t = 0; t <= T; t++) {
            memset(fr, 100, (size_t)H * W);
            fr[0] = (uint8_t)e, fr[1] = (uint8_t)t, fr[2] = (uint8_t)tag;
            for (int b = 0; b < A; b++) act[b] = (uint8_t)((t + b + tag) % 2);
            if (t < T) CHECK(episode_writer_step(w, fr, act, 0, 0, 0, &err) == 0, "%s", err.msg);
            else CHECK(episode_writer_end(w, fr, &err) == 0, "%s", err.msg);
        }
    }
    CHECK(episode_writer_close(w, &err) == 0, "%s", err.msg);
    free(fr);
}

static int load_cfg(Config *c, const char *text, Err *err) {
    char p[256];
    FILE *f = fopen(tmp_path(p, "c.ini"), "w");
    CHECK(f, "cannot write %s", p);
    fputs(text, f);
    fclose(f);
    return config_load(c, p, 0, NULL, err);
}

static void test_config(void) {
    printf("config: data.path as a list, data.generate one per file\n");
    Config c;
    Err err;
    char files[CFG_MAX_FILES][CFG_STR];
    EXPECT(load_cfg(&c, "[data]\npath = d/a.h5 ,d/b.h5,  d/c.h5\ngenerate = tetris, none ,maze\n", &err) == 0, "%s",
           err.msg);
    EXPECT(cfg_data_files(&c, files) == 3 && !strcmp(files[0], "d/a.h5") && !strcmp(files[1], "d/b.h5") &&
           !strcmp(files[2], "d/c.h5"), "three files, trimmed: '%s' '%s' '%s'", files[0], files[1], files[2]);
    EXPECT(cfg_data_generate(&c, 0) == GEN_TETRIS && cfg_data_generate(&c, 1) == GEN_NONE &&
           cfg_data_generate(&c, 2) == GEN_MAZE, "one game per file");
    char *text = config_to_string(&c);
    EXPECT(strstr(text, "generate = tetris, none, maze\n") != NULL, "the list is written back");
    Config back;
    char p[256];
    FILE *f = fopen(tmp_path(p, "back.ini"), "w");
    fputs(text, f);
    fclose(f);
    EXPECT(config_load(&back, p, 0, NULL, &err) == 0 && config_equal(&c, &back), "resolved text reads back: %s", err.msg);
    free(text);
    // several files without data.generate: none records them; one file keeps the plain scalar
    EXPECT(load_cfg(&c, "[data]\npath = a.h5, b.h5\n", &err) == 0 && cfg_data_generate(&c, 1) == GEN_NONE, "%s", err.msg);
    EXPECT(load_cfg(&c, "[data]\npath = a.h5\ngenerate = maze\n", &err) == 0 && cfg_data_files(&c, files) == 1 &&
           cfg_data_generate(&c, 0) == GEN_MAZE, "one file: %s", err.msg);
    EXPECT(load_cfg(&c, "[data]\npath = a.h5, b.h5\ngenerate = none\n", &err) == 0, "none for several: %s", err.msg);
    struct { const char *text, *must; } bad[] = {
        {"[data]\npath = a.h5, , b.h5\n", "empty file name"},
        {"[data]\npath = a.h5,\n", "empty file name"},
        {"[data]\npath = a.h5, b.h5, a.h5\n", "a.h5 is listed twice"},
        {"[data]\npath = 1,2,3,4,5,6,7,8,9\n", "more than 8 files"},
        {"[data]\npath = a.h5, b.h5\ngenerate = tetris\n", "names one game for the 2 files"},
        {"[data]\npath = a.h5, b.h5\ngenerate = tetris, maze, scroller\n", "names 3 games but data.path"},
        {"[data]\npath = a.h5\ngenerate = tetris, maze\n", "names 2 games but data.path"},
        {"[data]\npath = a.h5, b.h5\ngenerate = tetris, pong\n", "expected one of tetris, scroller, maze, none"},
        {"[data]\npath = a.h5, b.h5\ngenerate = tetris,,maze\n", "found 'tetris,,maze'"},
        {"[data]\npath = a.h5, b.h5\ngenerate = none, none\ngen_episodes = 3\n", "no effect while data.generate = none"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = load_cfg(&c, bad[i].text, &err);
        EXPECT(rc < 0 && strstr(err.msg, bad[i].must) && strstr(err.msg, "c.ini:"), "refused with '%s': rc %d, '%s'",
               bad[i].must, rc, rc < 0 ? err.msg : "");
    }
    EXPECT(load_cfg(&c, "[data]\npath = a.h5, b.h5\ngenerate = none, maze\ngen_episodes = 3\n", &err) == 0,
           "gen_episodes with a game in the list: %s", err.msg);
}

static void check_split_parts(const Dataset *d, const Split *s, int test, double val, uint64_t seed) {
    int ok = 1;
    for (int f = 0; f < d->n_files; f++) {   // each file's part is the split of that file alone
        Split one;
        Err err;
        const int n = d->file_ep0[f + 1] - d->file_ep0[f], o = d->file_ep0[f];
        CHECK(dataset_split(&one, n, test, val, seed, &err) == 0, "%s", err.msg);
        const int *lists[3] = {s->train, s->val, s->test}, *mine[3] = {one.train, one.val, one.test};
        const int counts[3] = {s->n_train, s->n_val, s->n_test}, mc[3] = {one.n_train, one.n_val, one.n_test};
        for (int k = 0; k < 3; k++) {
            int m = 0;
            for (int i = 0; i < counts[k]; i++)
                if (lists[k][i] >= o && lists[k][i] < o + n) ok &= m < mc[k] && lists[k][i] == o + mine[k][m++];
            ok &= m == mc[k];
        }
        split_free(&one);
    }
    EXPECT(ok, "every file's part of the split is the split of that file alone");
    int *seen = xcalloc((size_t)d->n_episodes, sizeof(int)), cover = 1;
    const int *lists[3] = {s->train, s->val, s->test};
    const int counts[3] = {s->n_train, s->n_val, s->n_test};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < counts[k]; i++) {
            cover &= lists[k][i] >= 0 && lists[k][i] < d->n_episodes && !seen[lists[k][i]]++;
            cover &= i == 0 || lists[k][i] > lists[k][i - 1];
        }
    for (int e = 0; e < d->n_episodes; e++) cover &= seen[e] == 1;
    free(seen);
    EXPECT(cover, "the split is disjoint, covers every episode, each list ascending");
}

static void test_load_and_split(void) {
    printf("several files: load, game columns, split\n");
    char p[4][256], files[DATASET_MAX_GAMES][256];
    make_file(tmp_path(p[0], "alpha.h5"), "twin", 5, 16, 16, 8, 1);
    make_file(tmp_path(p[1], "beta.h5"), "beta", 7, 24, 32, 8, 2);   // other frame size: resized
    make_file(tmp_path(p[2], "gamma.h5"), "twin", 4, 16, 16, 8, 3);  // the same game attribute as alpha
    for (int i = 0; i < 3; i++) memcpy(files[i], p[i], sizeof files[i]);
    Dataset d;
    Err err;
    Preprocess pp = {16, 16, 1};
    EXPECT(dataset_load_games(&d, files, 3, -1, &pp, 0, &err) == 0, "%s", err.msg);
    EXPECT(d.n_episodes == 16 && d.n_files == 3 && d.n_games == 3 && d.buttons == 8 && d.A == 11,
           "16 episodes, 3 files, 8 buttons + 3 game columns: %d %d %d %d %d", d.n_episodes, d.n_files, d.n_games,
           d.buttons, d.A);
    EXPECT(d.file_ep0[0] == 0 && d.file_ep0[1] == 5 && d.file_ep0[2] == 12 && d.file_ep0[3] == 16, "episodes in file order");
    EXPECT(!strcmp(d.games[0], "alpha") && !strcmp(d.games[1], "beta") && !strcmp(d.games[2], "gamma"),
           "names: a game attribute, else (twice) the stem: %s %s %s", d.games[0], d.games[1], d.games[2]);
    int ok = 1;
    float a[16];
    for (int e = 0; e < d.n_episodes; e++) {
        const int g = e < 5 ? 0 : e < 12 ? 1 : 2, tag = g + 1, le = e - d.file_ep0[g];
        ok &= d.ep_game[e] == g && dataset_ep_transitions(&d, e) == 3 + le;
        if (g != 1) ok &= dataset_frame_u8(&d, e, 2)[0] == le && dataset_frame_u8(&d, e, 2)[1] == 2 &&
                          dataset_frame_u8(&d, e, 2)[2] == tag;
        for (int t = 0; t < 3 + le; t++) {
            dataset_action(&d, e, t, a);
            for (int b = 0; b < 8; b++) ok &= a[b] == (float)((t + b + tag) % 2);
            for (int q = 0; q < 3; q++) ok &= a[8 + q] == (q == g);
        }
        dataset_action_none(&d, e, a);
        for (int q = 0; q < 11; q++) ok &= a[q] == (q == 8 + g);
    }
    EXPECT(ok, "frames and buttons as recorded, the game's one-hot column after the buttons, no-button rows keep it");

    Split s;
    EXPECT(dataset_split_games(&s, &d, 1, 0.25, 42, &err) == 0, "%s", err.msg);
    EXPECT(s.n_test == 3, "one test episode per file: %d", s.n_test);
    check_split_parts(&d, &s, 1, 0.25, 42);
    split_free(&s);
    EXPECT(dataset_split_games(&s, &d, 2, 0.5, 7, &err) == 0, "%s", err.msg);
    check_split_parts(&d, &s, 2, 0.5, 7);
    char sp[256];
    EXPECT(split_write(&s, &d, tmp_path(sp, "split.txt"), &err) == 0 && split_check(&s, &d, sp, &err) == 0, "%s", err.msg);
    FILE *f = fopen(sp, "r");
    char text[4096] = "";
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = 0;
    if (f) fclose(f);
    int tests = 0;
    for (const char *q = text; (q = strstr(q, "\ntest:")); q++) tests++;
    EXPECT(tests == 3 && strstr(text, "beta.h5 (game beta)"), "split.txt: a section per file:\n%s", text);
    Split other;
    EXPECT(dataset_split_games(&other, &d, 2, 0.5, 8, &err) == 0 && split_check(&other, &d, sp, &err) < 0 &&
           strstr(err.msg, "found"), "another seed differs from split.txt: %s", err.msg);
    split_free(&other);
    split_free(&s);
    // more test episodes than a file has: refused naming the file
    EXPECT(dataset_split_games(&s, &d, 3, 0.2, 1, &err) < 0 && strstr(err.msg, "gamma.h5") &&
           strstr(err.msg, "no training episode"), "too few in one file: %s", err.msg);
    dataset_free(&d);

    // one file of several (./eval --game): its episodes only, still with the 3 game columns
    EXPECT(dataset_load_games(&d, files, 3, 1, &pp, 0, &err) == 0, "%s", err.msg);
    dataset_action(&d, 0, 0, a);
    EXPECT(d.n_episodes == 7 && d.A == 11 && d.n_files == 1 && d.ep_game[6] == 1 && a[9] == 1 && a[8] == 0 &&
           a[10] == 0 && !strcmp(d.game, "beta") && !strcmp(d.games[1], "beta"), "file 1 alone as game 1");
    Split whole, alone;
    EXPECT(dataset_split_games(&whole, &d, 1, 0.25, 42, &err) == 0 && dataset_split(&alone, 7, 1, 0.25, 42, &err) == 0 &&
           whole.n_test == 1 && whole.test[0] == alone.test[0], "its test episode is the file's own");
    split_free(&whole), split_free(&alone);
    dataset_free(&d);
    // one file: a plain dataset, no game columns
    EXPECT(dataset_load_games(&d, files, 1, -1, &pp, 0, &err) == 0 && d.A == 8 && d.n_games == 0 && d.n_files == 1,
           "one file: %s", err.msg);
    dataset_free(&d);

    // other buttons: refused before any frame, naming both files
    make_file(tmp_path(p[3], "six.h5"), "six", 3, 16, 16, 6, 0);
    memcpy(files[1], p[3], sizeof files[1]);
    EXPECT(dataset_load_games(&d, files, 2, -1, &pp, 0, &err) < 0 && strstr(err.msg, "six.h5 has 6 buttons") &&
           strstr(err.msg, "alpha.h5 has 8") && strstr(err.msg, "same buttons"), "other buttons: %s", err.msg);
    snprintf(files[1], sizeof files[1], "%.200s/missing.h5", g_tmp);
    EXPECT(dataset_load_games(&d, files, 2, -1, &pp, 0, &err) < 0 && strstr(err.msg, "missing.h5"), "missing: %s", err.msg);
}

int main(void) {
    test_mkdtemp(g_tmp, sizeof g_tmp, "games");
    h5_quiet();
    test_config();
    test_load_and_split();
    test_rm_tree(g_tmp);
    return test_summary();
}
