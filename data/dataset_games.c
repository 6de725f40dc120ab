/*
 * dataset_games.c - several games in one config (roadmap 5.3; see dataset.h): one episode file
 * per game loaded into one Dataset with one-hot game columns after the buttons, and the split
 * of each file on its own.
 */
#include "data/dataset.h"
#include "base/alloc.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

// The file's stem: "data/maze.h5" -> "maze".
static void file_stem(const char *path, char *out, size_t cap) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strcspn(b, ".");
    if (n == 0) n = strlen(b);
    if (n >= cap) n = cap - 1;
    memcpy(out, b, n);
    out[n] = 0;
}

// Appends part (one file, no game columns) to d as game g of n_games; frees part's arrays.
static void append(Dataset *d, Dataset *part, int g, int n_games) {
    const size_t fbytes = (size_t)part->C * part->H * part->W;
    const int A = part->A + (n_games > 1 ? n_games : 0);
    const int e0 = d->n_episodes;
    d->ep_id = xrealloc(d->ep_id, (size_t)(e0 + part->n_episodes) * sizeof(int));
    d->ep_game = xrealloc(d->ep_game, (size_t)(e0 + part->n_episodes) * sizeof(int));
    d->frame_off = xrealloc(d->frame_off, (size_t)(e0 + part->n_episodes + 1) * sizeof(int64_t));
    d->step_off = xrealloc(d->step_off, (size_t)(e0 + part->n_episodes + 1) * sizeof(int64_t));
    if (e0 == 0) d->frame_off[0] = d->step_off[0] = 0;
    for (int e = 0; e < part->n_episodes; e++) {
        d->ep_id[e0 + e] = part->ep_id[e];
        d->ep_game[e0 + e] = g;
        d->frame_off[e0 + e + 1] = d->frame_off[e0] + part->frame_off[e + 1];
        d->step_off[e0 + e + 1] = d->step_off[e0] + part->step_off[e + 1];
    }
    d->frames = xrealloc(d->frames, (size_t)(d->n_frames + part->n_frames) * fbytes);
    memcpy(d->frames + (size_t)d->n_frames * fbytes, part->frames, (size_t)part->n_frames * fbytes);
    d->actions = xrealloc(d->actions, (size_t)(d->n_steps + part->n_steps) * A);
    for (int64_t t = 0; t < part->n_steps; t++) {
        uint8_t *row = d->actions + (size_t)(d->n_steps + t) * A;
        memcpy(row, part->actions + (size_t)t * part->A, part->A);
        if (A > part->A) {
            memset(row + part->A, 0, (size_t)(A - part->A));
            row[part->A + g] = 1;
        }
    }
    d->n_episodes += part->n_episodes;
    d->n_frames += part->n_frames;
    d->n_steps += part->n_steps;
    d->A = A;
    dataset_free(part);
}

int dataset_load_games(Dataset *d, char files[][256], int n, int only, const Preprocess *p, int accept_odd, Err *err) {
    memset(d, 0, sizeof *d);
    if (n < 1 || n > DATASET_MAX_GAMES) return err_set(err, "data: expected 1..%d files, found %d", DATASET_MAX_GAMES, n);
    if (only >= n) return err_set(err, "data: game %d of %d files", only, n);
    if (n == 1) return dataset_load_odd(d, files[0], p, accept_odd, err);
    char attr_game[DATASET_MAX_GAMES][64];
    for (int i = 0; i < n; i++) {   // the games' names and buttons, from the files' headers, before any frame
        EpisodeFile f;
        if (episode_file_open_odd(&f, files[i], accept_odd, err) < 0) return -1;
        snprintf(attr_game[i], sizeof attr_game[i], "%s", f.game);
        const int A = f.A;
        char names[512];
        snprintf(names, sizeof names, "%s", f.action_names);
        episode_file_close(&f);
        if (i == 0) {
            d->buttons = A;
            snprintf(d->action_names, sizeof d->action_names, "%s", names);
        } else if (A != d->buttons || (names[0] && d->action_names[0] && strcmp(names, d->action_names)))
            return err_set(err, "data.path: %s has %d buttons (%s) but %s has %d (%s): the games of one config must "
                           "have the same buttons", files[i], A, names[0] ? names : "no names", files[0], d->buttons,
                           d->action_names[0] ? d->action_names : "no names");
    }
    for (int i = 0; i < n; i++) {
        int twice = 0;
        for (int j = 0; j < n; j++) twice |= j != i && !strcmp(attr_game[i], attr_game[j]);
        if (attr_game[i][0] && !twice) memcpy(d->games[i], attr_game[i], sizeof d->games[i]);
        else file_stem(files[i], d->games[i], sizeof d->games[i]);
    }
    d->n_games = n;
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        if (only >= 0 && i != only) continue;
        Dataset part;
        if (dataset_load_odd(&part, files[i], p, accept_odd, err) < 0) {
            dataset_free(d);
            return -1;
        }
        if (d->n_files == 0) d->H = part.H, d->W = part.W, d->C = part.C, d->src_h = part.src_h,
                             d->src_w = part.src_w, d->src_c = part.src_c;
        if (part.odd[0] && strlen(d->odd) + strlen(part.odd) + 4 < sizeof d->odd)
            snprintf(d->odd + strlen(d->odd), sizeof d->odd - strlen(d->odd), "%s%s", d->odd[0] ? "; " : "", part.odd);
        len += (size_t)snprintf(d->path + len, len < sizeof d->path ? sizeof d->path - len : 0, "%s%s",
                                d->n_files ? ", " : "", files[i]);
        snprintf(d->files[d->n_files], sizeof d->files[0], "%s", files[i]);
        d->file_ep0[d->n_files] = d->n_episodes;
        append(d, &part, i, n);
        d->file_ep0[++d->n_files] = d->n_episodes;
    }
    if (only >= 0) snprintf(d->game, sizeof d->game, "%s", attr_game[only]);   // its game's measures (./eval)
    return 0;
}

int dataset_split_games(Split *s, const Dataset *d, int test_episodes, double val_split, uint64_t seed, Err *err) {
    if (d->n_files <= 1) return dataset_split(s, d->n_episodes, test_episodes, val_split, seed, err);
    memset(s, 0, sizeof *s);
    Split part[DATASET_MAX_GAMES];
    for (int f = 0; f < d->n_files; f++) {
        if (dataset_split(&part[f], d->file_ep0[f + 1] - d->file_ep0[f], test_episodes, val_split, seed, err) < 0) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            err_set(err, "%s: %s", d->files[f], msg);
            for (int g = 0; g < f; g++) split_free(&part[g]);
            return -1;
        }
        s->n_train += part[f].n_train, s->n_val += part[f].n_val, s->n_test += part[f].n_test;
    }
    s->train = xmalloc((size_t)(s->n_train ? s->n_train : 1) * sizeof(int));
    s->val = xmalloc((size_t)(s->n_val ? s->n_val : 1) * sizeof(int));
    s->test = xmalloc((size_t)(s->n_test ? s->n_test : 1) * sizeof(int));
    int nt = 0, nv = 0, ns = 0;
    for (int f = 0; f < d->n_files; f++) {   // files in order, each list ascending: the whole is ascending
        const int o = d->file_ep0[f];
        for (int i = 0; i < part[f].n_train; i++) s->train[nt++] = o + part[f].train[i];
        for (int i = 0; i < part[f].n_val; i++) s->val[nv++] = o + part[f].val[i];
        for (int i = 0; i < part[f].n_test; i++) s->test[ns++] = o + part[f].test[i];
        split_free(&part[f]);
    }
    return 0;
}
