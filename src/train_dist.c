/*
 * train_dist.c - one training batch over the ranks of a data-parallel run (base/dist.h):
 * `mpirun -np N ./train CONFIG`. train.batch_size stays the global batch B: rank r takes
 * the samples [n*r/N, n*(r+1)/N) of each batch of n (n = B but the last), runs the stage's
 * forward and backward on them, scales its gradients by its share of the batch and the
 * ranks sum them (MPI_Allreduce), so every rank holds the gradient of the mean loss over
 * the global batch and takes the same Adam step. Every loss of nemu is a mean over the
 * batch's samples and no layer keeps batch statistics (no BatchNorm; LayerNorm and the
 * global context are per sample), so this is the single-process gradient up to rounding.
 * With one rank the stage's step runs on the batch as it always did.
 *
 * Random numbers drawn per sample in training (model.latent_noise, a vae's eps, scheduled
 * sampling's coins) come from sample_rng(seed, stream, epoch, index of the sample in the
 * epoch's order): the same numbers whichever rank holds a sample, at any N.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/dist.h"
#include "base/err.h"
#include "src/run.h"
#include "src/train.h"

static int g_stop;   // the stop signal the ranks agreed on in the last batch's sum

// train.grad_chunks = C > 0 (dist_stage_begin): the running stage's chunk buffers
static int g_C;
static size_t g_P;      // the stage's parameters
static float *g_cg;     // [C][P] each chunk's gradient, scaled by its share of the batch
static double *g_cv;    // [C][3] each chunk's loss x samples and part sums, then 2 stop flags

void dist_stage_begin(const Config *c, const Stage *s) {
    dist_stage_end();
    g_C = c->train.grad_chunks;
    g_P = s->arena->n;
    if (g_C == 0) return;
    g_cg = xmalloc_floats((size_t)g_C * g_P);
    g_cv = xmalloc(sizeof(double) * (3 * (size_t)g_C + 2));
}

void dist_stage_end(void) {
    free(g_cg);
    free(g_cv);
    g_cg = NULL, g_cv = NULL, g_C = 0;
}

int dist_step_batch(const Config *c) {
    const int B = c->train.batch_size, C = c->train.grad_chunks;
    return C > 0 ? (B + C - 1) / C : dist_batch(B);
}

// Batch [first, first + ng) in C fixed chunks, chunk k = [ng*k/C, ng*(k+1)/C): this rank runs
// the step on its chunks [C*r/N, C*(r+1)/N) one at a time; each chunk's gradient (times its
// share of the batch) goes to its own slot, zeros elsewhere, so the sum over the ranks adds
// only zeros (exact in any order) and every rank then holds every chunk's gradient; they are
// added in chunk order. One process and N <= C ranks do the same float operations.
static float chunked_step(Stage *s, int64_t first, long ng) {
    Sampler *full = s->train, view = *full;
    const int C = g_C, N = dist_size(), c0 = C * dist_rank() / N, c1 = C * (dist_rank() + 1) / N;
    const size_t P = g_P;
    float *g = s->arena->grads;
    if (N > 1) {
        memset(g_cg, 0, (size_t)C * P * sizeof(float));
        memset(g_cv, 0, sizeof(double) * 3 * (size_t)C);
    }
    const double part0 = s->part_sum[0], part1 = s->part_sum[1];
    for (int k = c0; k < c1; k++) {
        const long lo = ng * k / C, hi = ng * (k + 1) / C;
        float *slot = g_cg + (size_t)k * P;
        double *v = g_cv + 3 * (size_t)k;
        v[0] = v[1] = v[2] = 0;
        if (hi == lo) {   // a last batch smaller than C
            memset(slot, 0, P * sizeof(float));
            continue;
        }
        view.items = full->items + first + lo;
        view.n = hi - lo;
        s->train = &view;
        s->first = first + lo;
        s->part_sum[0] = s->part_sum[1] = 0;
        if (k > c0) arena_zero_grad(s->arena);
        int nr = 0;
        const float loss = s->step(s, 0, &nr);
        const float share = (float)nr / (float)ng;
        for (size_t j = 0; j < P; j++) slot[j] = g[j] * share;
        v[0] = (double)loss * nr, v[1] = s->part_sum[0], v[2] = s->part_sum[1];
    }
    s->train = full;
    const int sig = signals_stop_requested();
    g_cv[3 * C] = sig != 0, g_cv[3 * C + 1] = sig == SIGTERM;
    if (N > 1) {
        dist_sum_floats(g_cg, (size_t)C * P);
        dist_sum_doubles(g_cv, 3 * C + 2);
        g_stop = g_cv[3 * C + 1] > 0 ? SIGTERM : g_cv[3 * C] > 0 ? SIGINT : 0;
    }
    memcpy(g, g_cg, P * sizeof(float));
    for (int k = 1; k < C; k++) {
        const float *slot = g_cg + (size_t)k * P;
        for (size_t j = 0; j < P; j++) g[j] += slot[j];
    }
    double L = 0, a = 0, b = 0;
    for (int k = 0; k < C; k++) L += g_cv[3 * k], a += g_cv[3 * k + 1], b += g_cv[3 * k + 2];
    s->part_sum[0] = part0 + a, s->part_sum[1] = part1 + b;
    return (float)(L / (double)ng);
}

float dist_train_step(Stage *s, int64_t i, int B, int *n) {
    Sampler *full = s->train;
    const int64_t first = i * B, last = first + B < full->n ? first + B : full->n;
    const long ng = (long)(last - first);
    *n = (int)ng;
    if (g_C > 0) return chunked_step(s, first, ng);
    long lo, hi;
    dist_share(ng, &lo, &hi);
    Sampler view = *full;   // this rank's share of batch i, as the stage's batch 0
    view.items = full->items + first + lo;
    view.n = hi - lo;
    s->train = &view;
    s->first = first + lo;
    const double part0 = s->part_sum[0], part1 = s->part_sum[1];
    int nr = 0;
    float loss = hi > lo ? s->step(s, 0, &nr) : 0.0f;
    s->train = full;
    if (dist_size() == 1) return loss;
    const float share = (float)nr / (float)ng;
    float *g = s->arena->grads;
    for (size_t k = 0; k < s->arena->n; k++) g[k] *= share;
    dist_sum_floats(g, s->arena->n);
    const int sig = signals_stop_requested();
    double v[5] = {(double)loss * nr, s->part_sum[0] - part0, s->part_sum[1] - part1, sig != 0, sig == SIGTERM};
    dist_sum_doubles(v, 5);
    s->part_sum[0] = part0 + v[1];
    s->part_sum[1] = part1 + v[2];
    g_stop = v[4] > 0 ? SIGTERM : v[3] > 0 ? SIGINT : 0;
    return (float)(v[0] / (double)ng);
}

int dist_stop_signal(void) { return dist_size() == 1 ? signals_stop_requested() : g_stop; }

// Before any work: what data parallelism cannot split the same way as one process.
void dist_check_config(const Config *c) {
    const int N = dist_size(), B = c->train.batch_size, C = c->train.grad_chunks;
    if (C > B) die("train.grad_chunks = %d is larger than train.batch_size = %d: a chunk needs a sample", C, B);
    if (N > 1 && B < N)
        die("train.batch_size = %d is smaller than the %d ranks: every rank needs a share of each batch", B, N);
    if (N > 1 && C > 0 && C < N)
        die("train.grad_chunks = %d is smaller than the %d ranks: every rank needs a chunk of each batch", C, N);
}

uint64_t epoch_seed(uint64_t seed, int stage, int epoch) {
    uint64_t x = seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(stage + 1)) ^ ((uint64_t)epoch << 32);
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 29);
}

void sample_rng(Rng *r, uint64_t seed, int stream, int epoch, int64_t index) {
    uint64_t x = epoch_seed(seed, stream, epoch) ^ ((uint64_t)index * 0xd1b54a32d192ed03ull);
    x ^= x >> 30;   // splitmix64's finaliser: neighbouring indices give unrelated seeds
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    rng_seed(r, x ^ (x >> 31));
}

void sample_normals(float *eps, int n, int Z, uint64_t seed, int stream, int epoch, int64_t first) {
    for (int j = 0; j < n; j++) {
        Rng r;
        sample_rng(&r, seed, stream, epoch, first + j);
        for (int k = 0; k < Z; k++) eps[(size_t)j * Z + k] = rng_normal(&r);
    }
}

void dist_print_layout(const Config *c) {
    const int B = dist_step_batch(c), N = dist_size();
    if (c->train.grad_chunks > 0)
        printf("gradient chunks: global batch %d in %d chunks of %d (at most), summed in chunk order; %d rank%s\n",
               c->train.batch_size, c->train.grad_chunks, B, N, N > 1 ? "s (MPI); memory per rank:" : "");
    else if (N > 1)
        printf("data parallel: %d ranks (MPI), global batch %d, per-rank batch %d (at most); memory per rank:\n", N,
               c->train.batch_size, B);
}

size_t dist_chunk_bytes(const Config *c, size_t params) {
    return c->train.grad_chunks > 0 ? floats_bytes((size_t)c->train.grad_chunks * params) : 0;
}

void dist_print_stats(double train_secs, long steps) {
    if (dist_size() == 1 || dist_rank() > 0 || steps <= 0) return;
    DistStats st = dist_stats();
    const double per = st.calls ? st.seconds / st.calls : 0, step = train_secs / steps;
    printf("gradient allreduce: %d ranks, %.2f MB a step, %.2f ms a step (%.1f%% of a %.1f ms step)", dist_size(),
           st.bytes / 1e6, 1e3 * per, step > 0 ? 100 * per / step : 0, 1e3 * step);
    if (st.wait > 0) printf(", waiting for the slowest rank %.2f ms a step", 1e3 * st.wait / st.calls);
    printf("\n");
}
