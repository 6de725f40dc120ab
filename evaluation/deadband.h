/*
 * deadband.h - the latent deadband of a closed-loop rollout (dynamics.deadband, ./play and
 * ./eval alike): after each dynamics step z' = z + f(z, a), every latent cell whose change is
 * below the deadband keeps its previous value.
 *
 *   cell    a spatial latent's Lc channels at one grid position (z[c*P + p], P = Z / Lc);
 *           one element of a flat latent (Lc = 0)
 *   change  the RMS over the cell's values of z' - z
 *   kept    change < eps: z'[cell] = z[cell] exactly
 *
 * Why: a dynamics model's step leaves small nonzero deltas in cells where nothing happens
 * (the static board, the panels, the background). In closed loop they add up, step after
 * step, into noise that grows until the frames leave the data (./play --check's 60 s of
 * random play: runs/dynD's nearest-real SSIM fell from 0.95 to 0.59). Zeroing the deltas
 * below a threshold stops that walk where nothing moves and keeps every delta of what does
 * (a piece moving changes its cells by far more). A threshold too high freezes slow motion,
 * and the threshold is in the model's latent units, so it is chosen per run (default off).
 * Re-encoding the decoded frame each step and clamping z to the training latents' range were
 * measured against it and lost (README, Play; results/deadband_sweep/).
 */
#ifndef NEMU_DEADBAND_H
#define NEMU_DEADBAND_H

// znext [n,Z] in place against z [n,Z] (not aliased): the cells of latent shape (Z, Lc) whose
// change has RMS < eps keep z's value. Lc = 0: a flat latent (cells of one element); else
// Z % Lc == 0. eps <= 0: nothing changes. Returns the cells kept (of n * cells per sample).
long latent_deadband(const float *z, float *znext, int n, int Z, int Lc, float eps);
// Cells per sample: Z / Lc for a spatial latent, Z for a flat one.
int latent_cells(int Z, int Lc);

#endif
