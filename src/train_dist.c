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
#include <string.h>

#include "base/dist.h"
#include "base/err.h"
#include "src/run.h"
#include "src/train.h"

static int g_stop;   // the stop signal the ranks agreed on in the last batch's sum

float dist_train_step(Stage *s, int64_t i, int B, int *n) {
    Sampler *full = s->train;
    const int64_t first = i * B, last = first + B < full->n ? first + B : full->n;
    const long ng = (long)(last - first);
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
    *n = (int)ng;
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
    const int N = dist_size();
    if (N > 1 && c->train.batch_size < N)
        die("train.batch_size = %d is smaller than the %d ranks: every rank needs a share of each batch",
            c->train.batch_size, N);
}

void sample_rng(Rng *r, uint64_t seed, int stream, int epoch, int64_t index) {
    uint64_t x = epoch_seed(seed, stream, epoch) ^ ((uint64_t)index * 0xd1b54a32d192ed03ull);
    x ^= x >> 30;   // splitmix64's finaliser: neighbouring indices give unrelated seeds
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    rng_seed(r, x ^ (x >> 31));
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
