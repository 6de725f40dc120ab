/*
 * train_resume.c - where a resumed stage starts (src/train.h): <stage>_last.h5 loaded into the
 * stage's arena, and every number it records (epoch, batch, step, the running sums) checked
 * against the config before anything uses it (issue #16: an absurd epoch would spin replaying
 * shuffles, a negative step would pass as a NaN loss, a missing _last.h5 beside _best.h5 would
 * start over and overwrite the best); and --init's weights.
 */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "base/dist.h"
#include "base/err.h"
#include "src/train.h"

// The position a checkpoint records, checked against the stage before anything uses it: an
// absurd epoch would spin replaying shuffles, a negative step pass as a NaN loss.
static void check_position(const char *p, const CkptMeta *m, int epochs, long nb, int B, const CkptAttr *ls,
                           const CkptAttr *ns) {
    const CkptAttr *b = ckpt_get(m, "batch");
    long batch = b ? (b->type == CKPT_I64 ? (long)b->i : -1) : 0;
    if (m->epoch < 0 || m->epoch > epochs)
        die("%s: attribute epoch = %ld; expected 0..%d (the stage's epochs)", p, m->epoch, epochs);
    if (batch < 0 || batch >= (m->epoch < epochs ? nb : 1))
        die("%s: attribute batch = %ld; expected 0..%ld (batches of an epoch)", p, batch,
            m->epoch < epochs ? nb - 1 : 0);
    if (m->step < 0 || m->step > (long)epochs * nb)
        die("%s: attribute step = %ld; expected 0..%ld (epochs x batches per epoch)", p, m->step, (long)epochs * nb);
    if (batch && ns && (ns->type != CKPT_I64 || ns->i < 0 || ns->i > batch * (long)B))
        die("%s: attribute epoch_samples = %lld; expected 0..%ld (batch x batch_size)", p,
            ns->type == CKPT_I64 ? (long long)ns->i : -1LL, batch * (long)B);
    if (batch && ls && (ls->type != CKPT_F64 || !isfinite(ls->f) || ls->f < 0))
        die("%s: attribute epoch_loss_sum = %g; expected a finite number >= 0", p, ls->type == CKPT_F64 ? ls->f : NAN);
}

// An epoch's end writes <prefix>_last.h5, then <prefix>_best.h5 when the epoch is the best
// (run_stage). A kill between the two leaves _last.h5 saying (best_epoch) that its epoch is
// the best while _best.h5 is older or missing: write it from the checkpoint just loaded, the
// same weights, Adam state and position the cut-off write held. (The other order, _best
// first, left _best.h5 without _last.h5 after a stage's first epoch: a run that would not resume.)
static void finish_best(const char *last, const char *best, const ParamArena *a, const CkptMeta *m) {
    const CkptAttr *be = ckpt_get(m, "best_epoch");
    // rank 0 writes the run's files (the ranks hold the same weights)
    if (dist_rank() > 0 || !be || be->type != CKPT_I64 || be->i != m->epoch) return;
    CkptMeta bm;
    Err err;
    if (checkpoint_read_meta(best, &bm, &err) == 0 && bm.epoch == m->epoch) return;
    if (checkpoint_save(best, a, m, &err) < 0) die("%s", err.msg);
    warn("wrote %s from %s: epoch %ld was the best and the run was stopped before its best checkpoint was written",
         best, last, m->epoch);
}

// Resume position of a stage: reads <prefix>_last.h5 into the arena. Returns 1 if found.
int resume_stage(const Trainer *tr, const Stage *s, long nb, CkptMeta *meta, int *epoch, long *batch,
                        double *loss_sum, long *samples, double part_sum[2]) {
    char file[64], bfile[64];
    snprintf(file, sizeof file, "%s_last.h5", stage_prefix[s->id]);
    snprintf(bfile, sizeof bfile, "%s_best.h5", stage_prefix[s->id]);
    const char *p = path_in_run(tr, file);
    if (access(p, F_OK) != 0) {
        if (s->epochs > 0 && access(path_in_run(tr, bfile), F_OK) == 0)   // starting over would overwrite the best
            die("%s: missing while %s exists: the %s stage's position is lost; expected both (put %s back, or train "
                "a new run)", p, bfile, stage_name[s->id], file);
        return 0;
    }
    Err err;
    if (checkpoint_load(p, s->arena, stage_name[s->id], meta, &err) < 0) die("%s", err.msg);
    const CkptAttr *ls = ckpt_get(meta, "epoch_loss_sum"), *ns = ckpt_get(meta, "epoch_samples");
    // positions count batches of the global batch (with MPI, s->batch is one rank's share)
    check_position(p, meta, s->epochs, nb, tr->cfg.train.batch_size, ls, ns);
    const CkptAttr *b = ckpt_get(meta, "batch");
    if (!(b && b->i)) finish_best(p, path_in_run(tr, bfile), s->arena, meta);
    *epoch = (int)meta->epoch;
    *batch = b ? (long)b->i : 0;
    *loss_sum = *batch && ls ? ls->f : 0;
    *samples = *batch && ns ? (long)ns->i : 0;
    const CkptAttr *pm = ckpt_get(meta, "epoch_mse_sum"), *pk = ckpt_get(meta, "epoch_kl_sum");
    part_sum[0] = *batch && pm ? pm->f : 0;
    part_sum[1] = *batch && pk ? pk->f : 0;
    return 1;
}

void init_weights(const Trainer *tr, ParamArena *a, StageId st) {
    StageId first = tr->cfg.train.stage == STAGE_DYNAMICS ? ST_DYN : ST_AE;
    if (!tr->init || st != first) return;
    Err err;
    if (checkpoint_load_weights(tr->init, a, &err) < 0) die("--init %s", err.msg);
}
