/*
 * samples.h - the stochastic part of ./eval's results (roadmap 3.2): for a VAE dynamics model
 * rolled out S times per start point at temperature T, a Markdown section and a CSV with
 *   - every sample's model row (sample s's L1, SSIM, PSNR: mean ± 95% half-width over starts),
 *   - the diversity at each step: the mean pairwise L1 between a start's S decoded frames,
 *     mean ± half-width over starts (NaN, written "-", when S = 1).
 * Appended to eval.md (and stdout) and saved as samples.csv by ./eval, with samples.png
 * (true frames above each sample's) when S > 1.
 */
#ifndef NEMU_SAMPLES_H
#define NEMU_SAMPLES_H

#include "evaluation/rollout.h"

char *samples_markdown(const RolloutResult *r, const int *steps, double temperature);
// step,sample,n,l1_mean,l1_ci95,ssim_mean,ssim_ci95,psnr_mean,psnr_ci95 (sample 1..S), then
// step,diversity,n,l1_mean,l1_ci95 rows with sample = "diversity".
char *samples_csv(const RolloutResult *r, const int *steps, double temperature);
// samples.png (S > 1): for the first SAMPLES_PIC_STARTS pictured start points a row of true
// frames, then one row per sample (at most SAMPLES_PIC_ROWS) at each step.
#define SAMPLES_PIC_STARTS 2
#define SAMPLES_PIC_ROWS 10
int samples_picture(const char *path, const RolloutResult *r, const int *steps, double temperature, Err *err);

#endif
