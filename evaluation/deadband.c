/*
 * deadband.c - the latent deadband of a closed-loop rollout (see deadband.h).
 */
#include "evaluation/deadband.h"

#include <stddef.h>
#include <string.h>

int latent_cells(int Z, int Lc) { return Lc > 0 ? Z / Lc : Z; }

long latent_deadband(const float *z, float *znext, int n, int Z, int Lc, float eps) {
    if (eps <= 0) return 0;
    const int C = Lc > 0 ? Lc : 1, P = Z / C;
    const double lim = (double)eps * eps * C;   // RMS < eps  <=>  sum of squares < eps^2 * C
    long kept = 0;
    for (int i = 0; i < n; i++) {
        const float *a = z + (size_t)i * Z;
        float *b = znext + (size_t)i * Z;
        for (int p = 0; p < P; p++) {
            double s = 0;
            for (int c = 0; c < C; c++) {
                double d = (double)b[(size_t)c * P + p] - a[(size_t)c * P + p];
                s += d * d;
            }
            if (s >= lim) continue;
            kept++;
            for (int c = 0; c < C; c++) b[(size_t)c * P + p] = a[(size_t)c * P + p];
        }
    }
    return kept;
}
