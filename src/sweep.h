/*
 * sweep.h - what ./sweep's parts share (src/sweep.c: the grid, the point configs, Slurm and
 * local runs; src/sweep_collect.c: the summary of a finished sweep). Internal to ./sweep.
 *
 * A sweep S lives in sweeps/S/: one resolved config per point (<point>.ini), points.tsv
 * (a header "point run key1 key2 ...", then one row per point: its name, its run.name and
 * its grid values, tab-separated), and after the runs: <point>/eval.json (./eval --out),
 * <point>.log, summary.md, summary.csv, summary.png.
 */
#ifndef NEMU_SWEEP_H
#define NEMU_SWEEP_H

#define SWEEP_MAX_KEYS 8        // --grid options
#define SWEEP_MAX_POINTS 1024   // points of one sweep
#define SWEEP_STR 256

typedef struct {
    int n_keys, n_points;
    char keys[SWEEP_MAX_KEYS][SWEEP_STR];   // "train.lr"
    char (*point)[SWEEP_STR];               // [n_points] point names ("lr1e-3_seed1")
    char (*run)[SWEEP_STR];                 // [n_points] run.name of the point
    char (*value)[SWEEP_MAX_KEYS][SWEEP_STR];   // [n_points][n_keys] grid values as given
    int *dynamics;                          // [n_points] the point trains a dynamics stage (has an eval)
} SweepGrid;

void sweep_grid_alloc(SweepGrid *g, int n_points);
void sweep_grid_free(SweepGrid *g);
// Reads sweeps/<name>/points.tsv (dies with one line when it is missing or malformed).
void sweep_grid_read(SweepGrid *g, const char *name);

// The whole file as a string (malloc'ed), or NULL when it cannot be read.
char *sweep_read_file(const char *path);

// ./sweep --collect NAME [--sort METRIC]: summary.md, summary.csv and summary.png.
int sweep_collect(const char *name, const char *sort);

#endif
