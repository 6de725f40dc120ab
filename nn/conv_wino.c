/*
 * conv_wino.c - Winograd F(2x2, 2x2) for the K4 S2 P1 convolutions (conv_internal.h): the
 * transforms (16-float vectors, nn/simd.h) and the three paths built on them, the forward /
 * backward-data product, its adjoint and the weight gradient. conv_plan (conv.c) says when
 * they run.
 */
// a*b + c in the transforms must be one FMA (ISO C mode turns contraction off by default);
// the paths below them have no floating-point arithmetic of their own (their epilogue is
// conv.c's)
#pragma GCC optimize("fp-contract=fast")

#include "nn/conv_internal.h"
#include "nn/gemm.h"
#include "nn/simd.h"
#include "base/threads.h"

#include <string.h>

// Winograd F(2x2, 2x2) on the conv2d geometry's 2x2 sub-convolutions (4C parity planes of the
// big grid, from direct_conv_prep): 9 GEMMs of [M, 4C] x [4C, tiles] in place of 16 products
// per 2x2 output tile. Tile t covers rows 2i, 2i+1 and columns 2j, 2j+1 of the small grid
// (t = i * TW + j). conv2d backward-data and convT forward are its adjoint, the weight
// gradients its third product (below).
// The run of tiles from tile t (at most `left` of them) within its tile row: row *i, first
// column *j0; returns the run's length.
static inline int wino_run(int t, int left, int TW, int *i, int *j0) {
    *i = t / TW, *j0 = t % TW;
    return TW - *j0 < left ? TW - *j0 : left;
}
// wino_weights: conv_internal.h.
// U [9][K][nt] = B^T X B for tiles [t0, t0 + nt) of K planes xs floats apart, Wp wide, whose
// windows start at row 2i, column 2j; rows from `rows` on are read from zrow (at least
// Wp + 64 zeros).
static void wino_input(float *U, const float *x, size_t xs, int K, int Wp, int rows, int TW, int t0, int nt,
                       const float *zrow);
// Its adjoint: planes x += B Q B^T of tiles [t0, t0 + nt), Q [9][K][nt]; positions past
// `rows` x Wp are dropped. tmp: 3 wino_adj_row_floats(TW) floats.
static inline size_t wino_adj_row_floats(int TW) { return 2 * (size_t)TW + 48; }
static void wino_input_adj(float *x, size_t xs, int K, int Wp, int rows, int TW, int t0, int nt, const float *Q,
                           float *tmp);
// Y = A^T P A of n consecutive tiles, products P [9] ps floats apart: the tiles' two output
// rows, 2n floats each (written up to the next multiple of 32; P read up to the next of 16).
static void wino_rows_down(float *r0, float *r1, const float *P, size_t ps, int n);
// Z [9][M][nt] = A dY A^T of the tiles of dy (M planes ldc floats apart, Hs x Ws, zero past
// the edges): the adjoint's input transform and the weight gradient's, dV [9][M][K] +=
// Z x U^T; wino_dw_add adds G^T dV G into the transposed weight gradient [C*16][M].
static void wino_grad_z(float *Z, const float *dy, size_t ldc, int M, int Hs, int Ws, int TW, int t0, int nt);

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

static void wino_input(float *U, const float *x, size_t xs, int K, int Wp, int rows, int TW, int t0, int nt,
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

static void wino_rows_down(float *r0, float *r1, const float *P, size_t ps, int n) {
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

static void wino_input_adj(float *x, size_t xs, int K, int Wp, int rows, int TW, int t0, int nt, const float *Q,
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

// Z [9][M][nt] = A dY A^T for tiles [t0, t0 + nt) of dy [M] planes (ldc floats apart) of
// Hs x Ws, A = [1 0; 1 1; 0 1]: per dimension (y0, y0 + y1, y1); positions past the
// plane's edge are zero.
static void wino_grad_z(float *Z, const float *dy, size_t ldc, int M, int Hs, int Ws, int TW, int t0, int nt) {
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

// ---------------------------------------------------------------- the conv paths
// Winograd F(2x2, 2x2) for the layers with enough channels (above), all in the
// "down" geometry of the 4 Cb parity planes of the big grid and 2x2 tiles of the small one:
//  - wino_down (conv2d forward, convT backward-data): per block of tiles, the input
//    transform U = B^T X B, 9 GEMMs [Cs, 4 Cb] x [4 Cb, tiles], the outputs A^T P A;
//  - wino_adj, its adjoint (convT forward, conv2d backward-data): Z = A dY A^T of the small
//    grid, the GEMMs with V_e^T, B Q B^T added into the big grid's parity planes;
//  - wino_dw (both weight gradients): dV += Z U^T.
// 9 multiplications where the direct kernel does 16. Blocks of tiles keep the transformed
// data (9 x 4 Cb x tiles floats) and the products in L2. The transforms only add and
// subtract: a 240x256 model's gradients agree with the direct kernel's to 1e-8 (relative
// norm, the same as im2col + GEMM's). NEMU_CONV_WINOGRAD=0 turns it off (A/B runs).
// Measured per layer (bench/README.md): 15-30% faster than the direct kernel from 25 tiles
// a sample (the 80x80 model's 10x10 grids) to 960 (60x64), in every direction. Slower for
// the 240x256 model's 128 <-> 256-channel layers (4.7 MB of transformed weight, repacked
// by OpenBLAS for each sample's 64 tiles), which keep the direct kernel.
#define WINO_BLOCK_FLOATS (1 << 17)   // transformed input floats per block (512 KB)
#define WINO_MIN_TILES 64
#define WINO_TILES 25                 // tiles a sample needs
#define WINO_MAX_WEIGHT ((size_t)1 << 19)   // floats of transformed weight (2 MB) it allows

// 2x2 tiles of a small-grid plane (a sub-convolution's output).
int wino_tiles(const Grids *g) { return ((g->Hs + 1) / 2) * ((g->Ws + 1) / 2); }

int wino_fits(const Grids *g) {
    return direct_fits(g, g->Cb, g->Cs) && g->Cb >= 16 && g->Cs >= 32 && wino_tiles(g) >= WINO_TILES &&
           36 * (size_t)g->Cs * g->Cb <= WINO_MAX_WEIGHT;
}

// Tiles per block: at least WINO_MIN_TILES (the GEMMs' column count), at most a sample's.
static int wino_block(const Grids *g) {
    int nt = (int)(WINO_BLOCK_FLOATS / (9 * 4 * (size_t)g->Cb));
    if (nt < WINO_MIN_TILES) nt = WINO_MIN_TILES;
    return nt < wino_tiles(g) ? nt : wino_tiles(g);
}

// A thread's Winograd scratch: the padded input x (parity planes), the transformed input U
// (or wino_adj's products) [9][4 Cb][block], the small grid's products P (or its transformed
// gradient Z) [9][Cs][block], rows for the output transforms, and a zero row for windows
// past the last row (zeroed here).
typedef struct { float *x, *U, *P, *rows, *zrow; } WinoBuf;

static size_t wino_rows_floats(const Grids *g) {
    return round16(3 * wino_adj_row_floats((g->Ws + 1) / 2)) + round16((size_t)g->Wb + 16);
}

size_t wino_floats(const Grids *g) {
    const DirectGeom d = geom_down(g);
    const size_t nt = (size_t)wino_block(g);
    return round16(d.xfloats) + round16(9 * 4 * (size_t)g->Cb * nt) + round16(9 * (size_t)g->Cs * nt) +
           wino_rows_floats(g) + round16((size_t)d.Wp + 64);
}

static WinoBuf wino_buf(float *buf, const Grids *g) {
    const DirectGeom d = geom_down(g);
    const size_t nt = (size_t)wino_block(g);
    WinoBuf b;
    b.x = buf, b.U = b.x + round16(d.xfloats), b.P = b.U + round16(9 * 4 * (size_t)g->Cb * nt);
    b.rows = b.P + round16(9 * (size_t)g->Cs * nt), b.zrow = b.rows + wino_rows_floats(g);
    memset(b.zrow, 0, sizeof(float) * ((size_t)d.Wp + 64));
    return b;
}

// As direct_down for all small channels [0, Cs), with V [9][Cs][4 Cb] from wino_weights.
void wino_down(float *out, const float *in, size_t ldc, const float *V, const Grids *g, int mode,
               const float *bias, int act, const float *mask, float *buf) {
    const DirectGeom d = geom_down(g);
    const int K = 4 * g->Cb, M = g->Cs, Hs = g->Hs, Ws = g->Ws, TW = (Ws + 1) / 2;
    const int T = wino_tiles(g), NT = wino_block(g);
    const WinoBuf wb = wino_buf(buf, g);
    float *r0 = wb.rows, *r1 = r0 + round16(2 * (size_t)TW + 32);   // two output rows
    direct_conv_prep(wb.x, in, ldc, &d, g->Hb, g->Wb);
    for (int t0 = 0; t0 < T; t0 += NT) {
        const int nt = T - t0 < NT ? T - t0 : NT;
        const size_t ps = (size_t)M * nt;
        wino_input(wb.U, wb.x, d.sub_xs, K, d.Wp, Hs + 1, TW, t0, nt, wb.zrow);
        for (int e = 0; e < 9; e++)   // P_e [M, nt] = V_e [M, K] x U_e [K, nt]
            gemm(0, 0, M, nt, K, 1.0f, V + (size_t)e * M * K, K, wb.U + (size_t)e * K * nt, nt, 0.0f, wb.P + e * ps,
                 nt);
        // the tiles' 2x2 outputs, by runs of one tile row, finished into output rows by the epilogue
        for (int m = 0; m < M; m++) {
            const float *pm = wb.P + (size_t)m * nt, b = bias ? bias[m] : 0.0f;
            for (int t = 0; t < nt;) {
                int i, j0;
                const int n = wino_run(t0 + t, nt - t, TW, &i, &j0);
                wino_rows_down(r0, r1, pm + t, ps, n);
                const int x0 = 2 * j0, w = 2 * n < Ws - x0 ? 2 * n : Ws - x0;
                for (int a = 0; a < 2 && 2 * i + a < Hs; a++) {
                    const size_t row = (size_t)m * g->L + (size_t)(2 * i + a) * Ws + x0;
                    conv_epilogue(out + row, a ? r1 : r0, (size_t)w, mode, b, act, mask ? mask + row : NULL);
                }
                t += n;
            }
        }
    }
}

// Its adjoint, small [Cs, Hs, Ws] (channels ldc floats apart) -> out [Cb, Hb, Wb] with the
// epilogue, the same V: as direct_up for all big channels.
void wino_adj(float *out, const float *in, size_t ldc, const float *V, const Grids *g, int mode,
              const float *bias, int act, const float *mask, float *buf) {
    const DirectGeom d = geom_down(g);
    const int K = 4 * g->Cb, M = g->Cs, TW = (g->Ws + 1) / 2;
    const int T = wino_tiles(g), NT = wino_block(g);
    const WinoBuf wb = wino_buf(buf, g);
    memset(wb.x, 0, sizeof(float) * d.xfloats);
    for (int t0 = 0; t0 < T; t0 += NT) {
        const int nt = T - t0 < NT ? T - t0 : NT;
        wino_grad_z(wb.P, in, ldc, M, g->Hs, g->Ws, TW, t0, nt);
        for (int e = 0; e < 9; e++)   // Q_e [K, nt] = V_e^T [K, M] x Z_e [M, nt]
            gemm(1, 0, K, nt, M, 1.0f, V + (size_t)e * M * K, K, wb.P + (size_t)e * M * nt, nt, 0.0f,
                 wb.U + (size_t)e * K * nt, nt);
        wino_input_adj(wb.x, d.sub_xs, K, d.Wp, g->Hs + 1, TW, t0, nt, wb.U, wb.rows);
    }
    float *r = wb.rows;
    for (int c = 0; c < g->Cb; c++)
        for (int y = 0; y < g->Hb; y++) {
            const size_t row = (size_t)c * g->Lb + (size_t)y * g->Wb;
            direct_conv_row(r, wb.x, &d, c, y, g->Wb);
            conv_epilogue(out + row, r, (size_t)g->Wb, mode, bias ? bias[c] : 0.0f, act, mask ? mask + row : NULL);
        }
}

// The weight gradient: dV [9][Cs][4 Cb] += Z x U^T per block of tiles, for one sample: big
// [Cb, Hb, Wb] (channels ldc floats apart: conv2d's input, convT's output gradient) and the
// small grid's gradient side dy [Cs, Hs, Ws] (channels ldd apart: conv2d's output gradient,
// convT's input). wino_dw_add turns dV into the transposed weight gradient, the same for
// both: a convT weight [Cs][Cb][4][4] is the conv2d weight it is the adjoint of.
void wino_dw(float *dV, const float *in, size_t ldc, const float *dy, size_t ldd, const Grids *g,
             float *buf) {
    const DirectGeom d = geom_down(g);
    const int K = 4 * g->Cb, M = g->Cs, TW = (g->Ws + 1) / 2;
    const int T = wino_tiles(g), NT = wino_block(g);
    const WinoBuf wb = wino_buf(buf, g);
    direct_conv_prep(wb.x, in, ldc, &d, g->Hb, g->Wb);
    for (int t0 = 0; t0 < T; t0 += NT) {
        const int nt = T - t0 < NT ? T - t0 : NT;
        wino_input(wb.U, wb.x, d.sub_xs, K, d.Wp, g->Hs + 1, TW, t0, nt, wb.zrow);
        wino_grad_z(wb.P, dy, ldd, M, g->Hs, g->Ws, TW, t0, nt);
        for (int e = 0; e < 9; e++)   // dV_e [M, K] += Z_e [M, nt] x U_e [K, nt]^T
            gemm(0, 1, M, K, nt, 1.0f, wb.P + (size_t)e * M * nt, nt, wb.U + (size_t)e * K * nt, nt, 1.0f,
                 dV + (size_t)e * M * K, K);
    }
}

// A forward pass by Winograd: wino_down (conv2d) or wino_adj (convT) with whole samples per
// thread, after the weight transform into V, made per call (a convT weight [C][OC][4][4] is
// the conv2d weight it is the adjoint of). The transform is not won back by a batch-1 frame
// split over 2 threads (the 240x256 loop), hence whole samples (conv_plan).
void wino_forward(float *out, const float *inp, const float *w, const float *b, int act, int B, const Grids *g,
                  int transposed, float *V, float *buf, size_t stride, int T) {
    wino_weights(V, w, g->Cs, g->Cb);
    const size_t big = (size_t)g->Cb * g->Lb, small = (size_t)g->Cs * g->L;
    (void)T;   // a build without OpenMP has no team to size
    #ifdef _OPENMP
    #pragma omp parallel for schedule(static) num_threads(T) if(T > 1 && B > 1)
    #endif
    for (int n = 0; n < B; n++) {
        float *tb = buf + (size_t)omp_thread_id() * stride;
        if (transposed)
            wino_adj(out + n * big, inp + n * small, g->L, V, g, EPI_SET, b, act, NULL, tb);
        else
            wino_down(out + n * small, inp + n * big, g->Lb, V, g, EPI_SET, b, act, NULL, tb);
    }
}
