/*
 * conv_direct.c - see conv_direct.h. GCC vector extensions: 16-float vectors, one AVX-512
 * register here, two AVX2 registers (or four SSE) elsewhere.
 */
// a*b + c in the kernel must be one FMA (ISO C mode turns contraction off by default)
#pragma GCC optimize("fp-contract=fast")

#include "nn/conv_direct.h"

#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));   // unaligned access
#define VL 16
#define MAXP 3
#define MAXQ 8
#define TAIL 64   // floats read past the last plane by a tile that overhangs the last position

// The even and the odd ones of the 32 floats at s (unaligned), as one vector each.
#define EVEN16 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define ODD16 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
static inline v16 evens(const float *s) {
    return __builtin_shufflevector(*(const v16u *)s, *(const v16u *)(s + 16), EVEN16);
}
static inline v16 odds(const float *s) {
    return __builtin_shufflevector(*(const v16u *)s, *(const v16u *)(s + 16), ODD16);
}

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


// ---------------------------------------------------------------- Winograd F(2x2, 2x2)
// 1-D F(2, 2): outputs y0 = d0 g0 + d1 g1, y1 = d1 g0 + d2 g1 from 3 products of
// u = (d0 - d1, d1, d2 - d1) and v = (g0, g0 + g1, g1): y0 = m0 + m1, y1 = m1 + m2. Nested
// in 2-D: 9 products for a 2x2 output tile instead of 16, with only additions around them.

// v [9] (stride es) = G g G^T for the 2x2 kernel g, G = [1 0; 1 1; 0 1].
static void wino_kernel(float *v, size_t es, const float g[2][2]) {
    float h[3][2];
    for (int dx = 0; dx < 2; dx++) h[0][dx] = g[0][dx], h[1][dx] = g[0][dx] + g[1][dx], h[2][dx] = g[1][dx];
    for (int a = 0; a < 3; a++) {
        v[(size_t)(3 * a) * es] = h[a][0];
        v[(size_t)(3 * a + 1) * es] = h[a][0] + h[a][1];
        v[(size_t)(3 * a + 2) * es] = h[a][1];
    }
}

// Its adjoint: dg = G^T q G for q [9] (stride es), the gradient of the 2x2 kernel from that
// of its transform: dg[dy][dx] sums q over rows {dy, dy+1} and columns {dx, dx+1}.
static void wino_kernel_grad(float dg[2][2], const float *q, size_t es) {
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            float v = 0.0f;
            for (int i = dy; i <= dy + 1; i++)
                for (int j = dx; j <= dx + 1; j++) v += q[(size_t)(3 * i + j) * es];
            dg[dy][dx] = v;
        }
}

void wino_weights(float *V, const float *w, int M, int C) {
    const size_t ld = 4 * (size_t)C, es = (size_t)M * ld;
    for (int m = 0; m < M; m++)
        for (int c = 0; c < C; c++)
            for (int s = 0; s < 4; s++) {
                const int py = s >> 1, px = s & 1;
                float g[2][2];
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) g[dy][dx] = w[(((size_t)m * C + c) * 4 + 2 * dy + py) * 4 + 2 * dx + px];
                wino_kernel(V + (size_t)m * ld + 4 * (size_t)c + s, es, g);
            }
}

// The first n (up to 16) lanes of the 16 floats at p, the others 0 (nothing past them is read),
// and the store of v's first n lanes.
#ifdef __AVX512F__
static inline v16 load_n(const float *p, int n) {
    return (v16)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
}
static inline void store_n(float *p, v16 v, int n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v); }
#else
static inline v16 load_n(const float *p, int n) {
    float b[16] = {0};
    memcpy(b, p, sizeof(float) * n);
    return *(v16u *)b;
}
static inline void store_n(float *p, v16 v, int n) {
    float b[16];
    *(v16u *)b = v;
    memcpy(p, b, sizeof(float) * n);
}
#endif

// v [9] to o [9] (es floats apart), 16 tiles or the first n.
static inline void put9(float *o, size_t es, const v16 v[9], int n) {
    if (n >= 16)
        for (int e = 0; e < 9; e++) *(v16u *)(o + e * es) = v[e];
    else
        for (int e = 0; e < 9; e++) store_n(o + e * es, v[e], n);
}

// The transforms of a 3-column window at even columns 2j, for 16 consecutive j: the row's
// even and odd columns and the even columns one pair on.
static inline void win3(const float *r, v16 *e0, v16 *o, v16 *e1) {
    *e0 = evens(r), *o = odds(r), *e1 = evens(r + 2);
}

void wino_input(float *U, const float *x, size_t xs, int K, int Wp, int rows, int TW, int t0, int nt,
                const float *zrow) {
    const size_t es = (size_t)K * nt;
    for (int k = 0; k < K; k++) {
        const float *P = x + (size_t)k * xs;
        float *u = U + (size_t)k * nt;
        for (int t = 0; t < nt;) {
            int i, j0;
            const int n = wino_run(t0 + t, nt - t, TW, &i, &j0);
            const float *r0 = P + (size_t)(2 * i) * Wp, *r1 = r0 + Wp, *r2 = 2 * i + 2 < rows ? r1 + Wp : zrow;
            // 16 tiles at a time; a last partial vector reads past its tiles (within the planes
            // and their tail, or zrow) and stores only its own
            for (int jj = 0; jj < n; jj += 16) {
                const int c = 2 * (j0 + jj);
                v16 a0, a1, a2, b0, b1, b2, d0, d1, d2;
                win3(r0 + c, &a0, &a1, &a2), win3(r1 + c, &b0, &b1, &b2), win3(r2 + c, &d0, &d1, &d2);
                a0 -= b0, a1 -= b1, a2 -= b2, d0 -= b0, d1 -= b1, d2 -= b2;   // rows: d0 - d1, d1, d2 - d1
                const v16 v[9] = {a0 - a1, a1, a2 - a1, b0 - b1, b1, b2 - b1, d0 - d1, d1, d2 - d1};
                put9(u + t + jj, es, v, n - jj);
            }
            t += n;
        }
    }
}

// Y = A^T P A for n tiles (P: the 9 products, ps floats apart, tile-consecutive), A^T =
// [1 1 0; 0 1 1]: rows 0 and 1 of the 2x2 outputs, y[a][b] of each tile.
static inline void wino_out16(v16 y[2][2], const float *P, size_t ps) {
    v16 s0[3], s1[3];
    for (int c = 0; c < 3; c++) {
        const v16 p0 = *(const v16u *)(P + c * ps), p1 = *(const v16u *)(P + (3 + c) * ps),
                  p2 = *(const v16u *)(P + (6 + c) * ps);
        s0[c] = p0 + p1, s1[c] = p1 + p2;
    }
    y[0][0] = s0[0] + s0[1], y[0][1] = s0[1] + s0[2], y[1][0] = s1[0] + s1[1], y[1][1] = s1[1] + s1[2];
}

#define ZIP_LO 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define SHIFT1 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30   // (a, b) -> a15, b0..b14
#define ZIP_HI 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31

void wino_rows_down(float *r0, float *r1, const float *P, size_t ps, int n) {
    for (int j = 0; j < n; j += 16) {   // a last partial vector reads past P's tiles, writes past 2n
        v16 y[2][2];
        wino_out16(y, P + j, ps);
        for (int a = 0; a < 2; a++) {
            float *r = (a ? r1 : r0) + 2 * j;
            *(v16u *)r = __builtin_shufflevector(y[a][0], y[a][1], ZIP_LO);
            *(v16u *)(r + 16) = __builtin_shufflevector(y[a][0], y[a][1], ZIP_HI);
        }
    }
}

// The adjoint of wino_input: x planes += B Q B^T of each tile, the tile's 3x3 window
// starting at row 2i, column 2j; B^T's rows (d0 - d1, d1, d2 - d1) give back
// (u0, u1 - u0 - u2, u2) per dimension. Neighbouring windows share a row or a column, so a
// tile row's three output rows are summed in tmp first, then added to the planes within
// their `rows` x Wp.
static inline v16 adj_mid(v16 u0, v16 u1, v16 u2) { return u1 - u0 - u2; }

void wino_input_adj(float *x, size_t xs, int K, int Wp, int rows, int TW, int t0, int nt, const float *Q,
                    float *tmp) {
    const size_t es = (size_t)K * nt, RL = wino_adj_row_floats(TW);
    for (int k = 0; k < K; k++) {
        float *P = x + (size_t)k * xs;
        const float *q = Q + (size_t)k * nt;
        for (int t = 0; t < nt;) {
            int i, j0;
            const int n = wino_run(t0 + t, nt - t, TW, &i, &j0);
            // 16 tiles at a time, the lanes past the segment's n zero. Row a's column 2j is c0 of
            // tile j + c2 of tile j - 1 (`prev` carries the last lane over), column 2j + 1 is c1
            // of tile j.
            v16 prev[3] = {{0}, {0}, {0}};
            for (int jj = 0; jj < n; jj += 16) {
                const int nl = n - jj < 16 ? n - jj : 16;
                const float *p = q + t + jj;
                v16 e[9];
                for (int a = 0; a < 9; a++) e[a] = load_n(p + a * es, nl);
                for (int a = 0; a < 3; a++) {   // window row a: rows (0, mid, 2) of the 3 x 3 products
                    v16 c[3];
                    for (int b = 0; b < 3; b++) c[b] = a == 0 ? e[b] : a == 2 ? e[6 + b] : adj_mid(e[b], e[3 + b], e[6 + b]);
                    const v16 ev = c[0] + __builtin_shufflevector(prev[a], c[2], SHIFT1), od = adj_mid(c[0], c[1], c[2]);
                    float *r = tmp + a * RL + 2 * jj;
                    *(v16u *)r = __builtin_shufflevector(ev, od, ZIP_LO);
                    *(v16u *)(r + 16) = __builtin_shufflevector(ev, od, ZIP_HI);
                    prev[a] = c[2];
                }
            }
            if (n % 16 == 0)   // the last tile's c2, past the last vector
                for (int a = 0; a < 3; a++) tmp[a * RL + 2 * n] = prev[a][15];
            const int x0 = 2 * j0, w = 2 * n + 1 < Wp - x0 ? 2 * n + 1 : Wp - x0;
            for (int a = 0; a < 3 && 2 * i + a < rows; a++) {
                float *restrict row = P + (size_t)(2 * i + a) * Wp + x0;
                const float *restrict r = tmp + a * RL;
                for (int c = 0; c < w; c++) row[c] += r[c];
            }
            t += n;
        }
    }
}

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

// Z [9][M][nt] = A dY A^T for tiles [t0, t0 + nt) of dy [M] planes (ldc floats apart) of
// Hs x Ws, A = [1 0; 1 1; 0 1]: per dimension (y0, y0 + y1, y1); positions past the
// plane's edge are zero.
void wino_grad_z(float *Z, const float *dy, size_t ldc, int M, int Hs, int Ws, int TW, int t0, int nt) {
    const size_t es = (size_t)M * nt;
    for (int m = 0; m < M; m++) {
        const float *P = dy + (size_t)m * ldc;
        float *z = Z + (size_t)m * nt;
        for (int t = 0; t < nt;) {
            int i, j0;
            const int n = wino_run(t0 + t, nt - t, TW, &i, &j0);
            const float *r0 = P + (size_t)(2 * i) * Ws, *r1 = 2 * i + 1 < Hs ? r0 + Ws : NULL;
            // 16 tiles at a time, the row read only up to its end (zeros past it)
            for (int jj = 0; jj < n; jj += 16) {
                const int c = 2 * (j0 + jj), left = Ws - c;
                v16 e[2] = {{0}, {0}}, o[2] = {{0}, {0}};
                for (int a = 0; a < 2; a++) {
                    const float *r = a ? r1 : r0;
                    if (!r) continue;
                    v16 lo, hi;
                    if (left >= 32) {
                        lo = *(const v16u *)(r + c), hi = *(const v16u *)(r + c + 16);
                    } else {
                        lo = load_n(r + c, left < 16 ? left : 16), hi = load_n(r + c + 16, left > 16 ? left - 16 : 0);
                    }
                    e[a] = __builtin_shufflevector(lo, hi, EVEN16), o[a] = __builtin_shufflevector(lo, hi, ODD16);
                }
                const v16 re[3] = {e[0], e[0] + e[1], e[1]}, ro[3] = {o[0], o[0] + o[1], o[1]};
                const v16 v[9] = {re[0], re[0] + ro[0], ro[0], re[1], re[1] + ro[1], ro[1], re[2], re[2] + ro[2], ro[2]};
                put9(z + t + jj, es, v, n - jj);
            }
            t += n;
        }
    }
}

// dwT [r = (c*4 + ky)*4 + kx][M] += G^T dV G for the conv2d geometry, dV [9][M][4C]: the
// 2x2 kernel of plane s = py*2 + px at (ky, kx) = (2dy + py, 2dx + px).
void wino_dw_add(float *dwT, const float *dV, int M, int C) {
    const size_t K = 4 * (size_t)C, es = (size_t)M * K;
    for (int m = 0; m < M; m++)
        for (size_t k = 0; k < K; k++) {
            float dg[2][2];
            wino_kernel_grad(dg, dV + (size_t)m * K + k, es);
            const int c = (int)(k / 4), py = (int)(k % 4) >> 1, px = (int)(k % 4) & 1;
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++)
                    dwT[(size_t)((c * 4 + 2 * dy + py) * 4 + 2 * dx + px) * M + m] += dg[dy][dx];
        }
}
