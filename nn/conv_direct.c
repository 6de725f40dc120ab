/*
 * conv_direct.c - see conv_direct.h. The 16-float vectors of nn/simd.h.
 */
// a*b + c in the kernel must be one FMA (ISO C mode turns contraction off by default)
#pragma GCC optimize("fp-contract=fast")

#include "nn/conv_direct.h"
#include "nn/simd.h"

#include <string.h>

#define MAXP 3
#define MAXQ 8
#define TAIL 64   // floats read past the last plane by a tile that overhangs the last position

// ---------------------------------------------------------------- geometry and input

DirectGeom direct_conv_geom(int C, int H, int W) {
    DirectGeom g = {0};
    int OH = H / 2, OW = W / 2;
    g.C = C, g.up = 0;
    g.Wp = OW + 1;
    g.NP = OH * g.Wp;
    g.sub_xs = (size_t)(OH + 1) * g.Wp;
    g.xs = 4 * g.sub_xs;
    g.xfloats = (size_t)C * g.xs + TAIL;
    g.wpacked = (size_t)16 * C;   // per output channel
    return g;
}

// Parity plane (py, px) of channel c, row Y, col X = in[c][2Y+py-1][2X+px-1] (0 outside).
void direct_conv_prep(float *x, const float *in, size_t ldc, const DirectGeom *g, int H, int W) {
    const int Wp = g->Wp, OW = W / 2, rows = H / 2 + 1;
    const size_t plane = g->sub_xs;
    for (int c = 0; c < g->C; c++)
        for (int py = 0; py < 2; py++) {
            float *d0 = x + (size_t)c * g->xs + (size_t)(py * 2) * plane, *d1 = d0 + plane;
            for (int Y = 0; Y < rows; Y++) {
                float *e0 = d0 + (size_t)Y * Wp, *e1 = d1 + (size_t)Y * Wp;
                int r = 2 * Y + py - 1;
                if (r < 0 || r >= H) {
                    memset(e0, 0, sizeof(float) * Wp), memset(e1, 0, sizeof(float) * Wp);
                    continue;
                }
                const float *s = in + (size_t)c * ldc + (size_t)r * W;
                e0[0] = 0.0f;   // px 0: col 2X-1
                int X = 0;
                for (; X + 16 <= OW; X += 16) {   // 32 columns: the even ones to e1, the odd to e0
                    *(v16u *)(e1 + X) = evens(s + 2 * X);
                    *(v16u *)(e0 + X + 1) = odds(s + 2 * X);
                }
                for (; X < OW; X++) e0[X + 1] = s[2 * X + 1], e1[X] = s[2 * X];   // px 1: col 2X
                e1[OW] = 0.0f;
            }
        }
    memset(x + (size_t)g->C * g->xs, 0, sizeof(float) * TAIL);
}

// Tiles of q = 8, 4, 2, 1 output channels (the first that fits the channels left).
static int tile_q(int left) { return left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1; }

// wp, tile by tile: [c][parity s = py*2+px][tap dy*2+dx][q] = w[m][c][2dy+py][2dx+px]
void direct_conv_pack(float *wp, const float *w, int M, int C) {
    for (int m0 = 0; m0 < M;) {
        int Q = tile_q(M - m0);
        for (int c = 0; c < C; c++)
            for (int s = 0; s < 4; s++)
                for (int t = 0; t < 4; t++)
                    for (int q = 0; q < Q; q++) {
                        int ky = 2 * (t >> 1) + (s >> 1), kx = 2 * (t & 1) + (s & 1);
                        *wp++ = w[(((size_t)(m0 + q) * C + c) * 4 + ky) * 4 + kx];
                    }
        m0 += Q;
    }
}

DirectGeom direct_convt_geom(int C, int OC, int H, int W, int py, int px) {
    DirectGeom g = {0};
    g.C = C, g.up = 1;
    g.Wp = W + 1;   // one zero column between rows is the right pad of one, the left of the next
    g.NP = H * g.Wp;
    g.xs = (size_t)(H + 2) * g.Wp + 1;
    g.x0 = py * g.Wp + px;
    g.w0 = 15 - 4 * py - px;   // tap (dy, dx) weight [c][m][3-2dy-py][3-2dx-px] = w0 - 8dy - 2dx
    g.ws = (size_t)OC * 16;
    g.xfloats = (size_t)C * g.xs + TAIL;
    return g;
}

// x[c][(i+1)*Wp + j+1] = in[c][i][j], zeros around; channels [c0, c1) only (the read-over
// tail after the last channel: direct_convt_prep).
void direct_convt_prep_range(float *x, const float *in, size_t ldc, const DirectGeom *g, int H, int W, int c0,
                             int c1) {
    const int Wp = g->Wp;
    for (int c = c0; c < c1; c++) {
        float *d = x + (size_t)c * g->xs;
        const float *s = in + (size_t)c * ldc;
        memset(d, 0, sizeof(float) * (Wp + 1));
        for (int i = 0; i < H; i++) {
            float *e = d + (size_t)(i + 1) * Wp + 1;
            memcpy(e, s + (size_t)i * W, sizeof(float) * W);
            e[W] = 0.0f;
        }
        memset(d + (size_t)(H + 1) * Wp + 1, 0, sizeof(float) * (g->xs - (size_t)(H + 1) * Wp - 1));
    }
}

void direct_convt_tail(float *x, const DirectGeom *g) { memset(x + (size_t)g->C * g->xs, 0, sizeof(float) * TAIL); }

void direct_convt_prep(float *x, const float *in, size_t ldc, const DirectGeom *g, int H, int W) {
    direct_convt_prep_range(x, in, ldc, g, H, W, 0, g->C);
    direct_convt_tail(x, g);
}

// ---------------------------------------------------------------- the kernel

// One tile: Q output channels x P*16 positions from p; n <= P*16 of them are stored. Every
// address offset inside the channel loop is a compile-time constant except the plane width.
//  up:   taps of the weight [C][OC][4][4] at w0 - {0, 2, 8, 10}, channel q 16 floats further;
//  down: the packed tile [c][4 parities][4 taps][Q], parities 4 planes of sub_xs floats.
static inline __attribute__((always_inline)) void tile(float *restrict out, size_t ldo, int p, int n,
                                                       const float *restrict x, const float *restrict w,
                                                       const DirectGeom *g, const int P, const int Q,
                                                       const int UP) {
    static const int tw_up[4] = {0, -2, -8, -10};
    const int S = UP ? 1 : 4;
    v16 acc[MAXQ][MAXP];
#pragma GCC unroll 8
    for (int q = 0; q < Q; q++)
#pragma GCC unroll 3
        for (int i = 0; i < P; i++) acc[q][i] = (v16){0};
    const float *xc = x + g->x0 + p, *wc = w + (UP ? g->w0 : 0);
    const size_t xs = g->xs, ws = UP ? g->ws : (size_t)16 * Q, sub = g->sub_xs;
    const int Wp = g->Wp;
    for (int c = 0; c < g->C; c++, xc += xs, wc += ws) {
#pragma GCC unroll 4
        for (int s = 0; s < S; s++) {
            const float *r0 = xc + s * sub, *r1 = r0 + Wp;
#pragma GCC unroll 4
            for (int t = 0; t < 4; t++) {
                const float *xt = (t >> 1 ? r1 : r0) + (t & 1);
                v16 xv[MAXP];
#pragma GCC unroll 3
                for (int i = 0; i < P; i++) xv[i] = *(const v16u *)(xt + i * VL);
#pragma GCC unroll 8
                for (int q = 0; q < Q; q++) {
                    const float wv = UP ? wc[tw_up[t] + q * 16] : wc[(s * 4 + t) * Q + q];
#pragma GCC unroll 3
                    for (int i = 0; i < P; i++) acc[q][i] += xv[i] * wv;
                }
            }
        }
    }
    if (n == P * VL) {
#pragma GCC unroll 8
        for (int q = 0; q < Q; q++)
#pragma GCC unroll 3
            for (int i = 0; i < P; i++) *(v16u *)(out + q * ldo + p + i * VL) = acc[q][i];
    } else {
        float buf[MAXP * VL];
        for (int q = 0; q < Q; q++) {
#pragma GCC unroll 3
            for (int i = 0; i < P; i++) *(v16u *)(buf + i * VL) = acc[q][i];
            memcpy(out + q * ldo + p, buf, sizeof(float) * n);
        }
    }
}

#define TILE_CASE(P_, Q_) (g->up ? tile(out, ldo, p, n, x, w, g, P_, Q_, 1) : tile(out, ldo, p, n, x, w, g, P_, Q_, 0))

// Tiles of Q channels and P vectors over [p0, p1); Q in {8, 4, 2, 1}, P in {1, 2, 3}.
static void run_block(float *out, size_t ldo, int p0, int p1, const float *x, const float *w,
                      const DirectGeom *g, int P, int Q) {
    for (int p = p0; p < p1; p += P * VL) {
        int n = p1 - p < P * VL ? p1 - p : P * VL;
        switch (P * 10 + Q) {
        case 38: TILE_CASE(3, 8); break;
        case 28: TILE_CASE(2, 8); break;
        case 18: TILE_CASE(1, 8); break;
        case 34: TILE_CASE(3, 4); break;
        case 24: TILE_CASE(2, 4); break;
        case 14: TILE_CASE(1, 4); break;
        case 32: TILE_CASE(3, 2); break;
        case 22: TILE_CASE(2, 2); break;
        case 12: TILE_CASE(1, 2); break;
        case 31: TILE_CASE(3, 1); break;
        case 21: TILE_CASE(2, 1); break;
        default: TILE_CASE(1, 1); break;
        }
    }
}

// Vectors per tile for n positions: the fewest wasted positions, the widest tile on a tie.
static int pick_p(int n) {
    int best = MAXP, waste = 1 << 30;
    for (int P = MAXP; P >= 1; P--) {
        int w = ((n + P * VL - 1) / (P * VL)) * P * VL - n;
        if (w < waste) waste = w, best = P;
    }
    return best;
}

// Floats of padded input one chunk of positions should touch (x stays in L2 while every
// tile of output channels passes over it).
#define CHUNK_FLOATS (1 << 16)

void direct_run(float *out, size_t ldo, int M, int p0, int p1, const float *x, const float *w,
                const DirectGeom *g) {
    if (p1 <= p0 || M <= 0) return;
    const int P = pick_p(p1 - p0);
    const size_t per_pos = (size_t)g->C * (g->up ? 1 : 4);
    long len = (long)(CHUNK_FLOATS / per_pos) - (g->Wp + 1);
    len = len / (P * VL) * (P * VL);
    if (len < P * VL) len = P * VL;
    for (long c0 = p0; c0 < p1; c0 += len) {
        int c1 = c0 + len < p1 ? (int)(c0 + len) : p1;
        for (int m = 0; m < M;) {
            int Q = tile_q(M - m);
            const float *wm = w + (g->up ? (size_t)m * 16 : (size_t)m * g->wpacked);
            run_block(out + (size_t)m * ldo, ldo, (int)c0, c1, x, wm, g, P, Q);
            m += Q;
        }
    }
}

// ---------------------------------------------------------------- few output channels

// All four output parities of a convT at once for M <= 4 output channels (the decoder's
// last layer): per input channel, 9 shifted vectors of the padded input (rows i..i+2, columns
// j..j+2) feed 16 taps x M channels, and the two column parities are interleaved in
// registers, so raw sums go straight to the output rows.
static inline __attribute__((always_inline)) void up_few_tile(float *out, size_t ldo, int OW, int i, int j,
                                                              int n, const float *x, const float *w,
                                                              const DirectGeom *g, const int M) {
    v16 acc[4][4];   // [m][py*2 + px]
    for (int m = 0; m < M; m++)
        for (int q = 0; q < 4; q++) acc[m][q] = (v16){0};
    const int Wp = g->Wp;
    const float *xc = x + (size_t)i * Wp + j, *wc = w;
    for (int c = 0; c < g->C; c++, xc += g->xs, wc += g->ws) {
        v16 X[3][3];
        for (int r = 0; r < 3; r++)
            for (int cc = 0; cc < 3; cc++) X[r][cc] = *(const v16u *)(xc + r * Wp + cc);
        for (int m = 0; m < M; m++) {
            const float *wm = wc + m * 16;   // [ky][kx]
            for (int py = 0; py < 2; py++)
                for (int px = 0; px < 2; px++)
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++)
                            acc[m][py * 2 + px] += X[py + dy][px + dx] * wm[(3 - 2 * dy - py) * 4 + 3 - 2 * dx - px];
        }
    }
    for (int m = 0; m < M; m++)
        for (int py = 0; py < 2; py++) {
            v16 a0 = acc[m][py * 2], a1 = acc[m][py * 2 + 1];
            v16 lo = __builtin_shufflevector(a0, a1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            v16 hi = __builtin_shufflevector(a0, a1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            float *o = out + (size_t)m * ldo + (size_t)(2 * i + py) * OW + 2 * j;
            if (n == VL) {
                *(v16u *)o = lo, *(v16u *)(o + VL) = hi;
            } else {
                float buf[2 * VL];
                *(v16u *)buf = lo, *(v16u *)(buf + VL) = hi;
                memcpy(o, buf, sizeof(float) * 2 * n);
            }
        }
}

void direct_up_few(float *out, size_t ldo, int M, int i0, int i1, const float *x, const float *w,
                   const DirectGeom *g, int W) {
    const int OW = 2 * W;
    for (int i = i0; i < i1; i++)
        for (int j = 0; j < W; j += VL) {
            const int n = W - j < VL ? W - j : VL;
            switch (M) {
            case 4: up_few_tile(out, ldo, OW, i, j, n, x, w, g, 4); break;
            case 3: up_few_tile(out, ldo, OW, i, j, n, x, w, g, 3); break;
            case 2: up_few_tile(out, ldo, OW, i, j, n, x, w, g, 2); break;
            default: up_few_tile(out, ldo, OW, i, j, n, x, w, g, 1); break;
            }
        }
}

// The inverse of direct_conv_prep for one row (conv_direct.h).
void direct_conv_row(float *dst, const float *x, const DirectGeom *g, int c, int r, int W) {
    const int Y = (r + 1) >> 1, py = (r + 1) & 1, OW = W / 2;
    const float *e0 = x + (size_t)c * g->xs + (size_t)(2 * py) * g->sub_xs + (size_t)Y * g->Wp, *e1 = e0 + g->sub_xs;
    int X = 0;
    for (; X + 16 <= OW; X += 16) {   // even columns from parity px 1, odd ones from px 0
        const v16 a = *(const v16u *)(e1 + X), b = *(const v16u *)(e0 + X + 1);
        *(v16u *)(dst + 2 * X) = __builtin_shufflevector(a, b, ZIP_LO);
        *(v16u *)(dst + 2 * X + 16) = __builtin_shufflevector(a, b, ZIP_HI);
    }
    for (; X < OW; X++) dst[2 * X] = e1[X], dst[2 * X + 1] = e0[X + 1];
}
