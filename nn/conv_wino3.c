/*
 * conv_wino3.c - Winograd F(4x4, 3x3) for conv2d 3x3 stride 1 padding 1 on small grids (the
 * conv dynamics' 10x10 and 30x32 latents, issue #23). See conv_wino3.h.
 *
 * The output grid is cut into 4x4 tiles (th x tw of them; a 10x10 grid: 3x3 tiles covering
 * 12x12, the last rows and columns computed and dropped), each computed from the 6x6 input
 * window around it with 36 products per channel pair instead of 144:
 *     Y = A^T [ (G g G^T) (.) (B^T d B) ] A          (Lavin and Gray's F(4, 3) matrices)
 * so the conv is 36 GEMMs, one per element e of the 6x6 transform:
 *     M[e] [OC, cols] = V[e] [OC, C] x U[e] [C, cols],    V = G g G^T, U = B^T d B
 * with 2.25 multiplications an output per channel pair instead of 9 (2.9 at 10x10 with the
 * dropped rows). The vectors run over 16 samples: a group of 16 samples is one block of work,
 * its planes interleaved ([position][16 samples]: a 16x16 transpose in registers) so that every
 * transform is plain vector arithmetic, and a GEMM column is (tile, sample): col = tile*16 + lane
 * (lanes past the batch hold zeros and are never written back). Tile rows are taken in chunks of
 * about W3_CHUNK_COLS columns (a 10x10 grid: all 9 tiles, 144 columns; 30x32: 2 tile rows of 8).
 * Backward, with dP = dL/d(pre-activation) (the ReLU / sigmoid of this layer applied first):
 *     Z[e] = (A dP A^T)[e]   (the output transform's adjoint, zero past the grid's edges)
 *     dV[e] += Z[e] x U[e]^T,    dW = G^T dV G
 *     dU[e] = V[e]^T x Z[e],     dX += B dU B^T   (the input transform's adjoint, the 6x6 windows
 *                                                   overlapping by 2: added into padded planes)
 * Threads: the sample groups, each thread a fixed contiguous run with single-threaded BLAS and
 * its own scratch, dV and db partials (summed in thread order: deterministic for a thread count;
 * the forward and the input gradient do not depend on the split at all). One group (up to 16
 * samples) runs on the calling thread.
 */
// a*b + c in the transforms may be one FMA
#pragma GCC optimize("fp-contract=fast")

#include "nn/conv_wino3.h"

#include <string.h>

#include "nn/fastmath.h"
#include "nn/gemm.h"
#include "nn/simd.h"
#include "base/err.h"
#include "base/threads.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define NE 36               // elements of a 6x6 transform
#define W3_MAX_GRID 1024    // H*W up to this (30x32 and smaller)
#define W3_CHUNK_COLS 256   // GEMM columns a chunk of tile rows aims at

int wino3_fits(const ConvShape *s) {
    return s->K == 3 && s->S == 1 && s->P == 1 && s->OH == s->H && s->OW == s->W && (long)s->H * s->W <= W3_MAX_GRID;
}

typedef struct {
    int th, tw, Hp, Wp, Wq;   // tiles; padded input plane Hp x Wp (a border of 1, zeros to 4th+2); output plane 4th x Wq
    int rpc, nchunk, ngroups, T;   // tile rows a chunk, chunks, sample groups, threads laid out for
    size_t plane, cols;            // floats of a padded plane (x16); columns of a full chunk
    size_t xp, yq, u, m, du, dx, dv, db, thr_floats;   // offsets inside a thread's area
    size_t v, thr, total;          // V [36][OC][C] (shared), then the T thread areas
} W3;

static size_t r16(size_t n) { return (n + 15) & ~(size_t)15; }

// The floats between two elements e of a transform's arrays [36][rows][cols]: rows*cols plus one
// cache line, so that the 36 lines a tile's transform touches (rows*cols often a multiple of 1024
// floats: 64 x 144 is 9 x 4 KB) do not all fall in one set of the 8-way L1 cache.
static inline size_t estride(size_t n) { return n + 16; }

static W3 layout(const ConvShape *s, int B) {
    W3 l;
    l.th = (s->H + 3) / 4, l.tw = (s->W + 3) / 4;
    l.Hp = 4 * l.th + 2, l.Wp = 4 * l.tw + 2, l.Wq = 4 * l.tw;
    int rpc = W3_CHUNK_COLS / (16 * l.tw);
    l.rpc = rpc < 1 ? 1 : rpc > l.th ? l.th : rpc;
    l.nchunk = (l.th + l.rpc - 1) / l.rpc;
    l.cols = (size_t)l.rpc * l.tw * 16;
    l.ngroups = (B + 15) / 16;
    l.T = threads_cap();
    const size_t C = s->C, OC = s->OC;
    l.plane = (size_t)l.Hp * l.Wp * 16;
    size_t o = 0;
    l.xp = o;  o += l.plane;
    l.yq = o;  o += (size_t)4 * l.th * l.Wq * 16;
    l.u = o;   o += NE * estride(C * l.cols);
    l.m = o;   o += NE * estride(OC * l.cols);
    l.du = o;  o += NE * estride(C * l.cols);
    l.dx = o;  o += C * l.plane;
    l.dv = o;  o += NE * estride(OC * C);
    l.db = o;  o += r16(2 * OC);
    l.thr_floats = o;
    l.v = 0;
    l.thr = r16(NE * OC * C);
    l.total = l.thr + (size_t)l.T * l.thr_floats;
    return l;
}

size_t wino3_workspace(const ConvShape *s, int B) { return layout(s, B).total; }

// ---------------------------------------------------------------- transforms (16 samples a vector)
// 1-D: B^T (6 -> 6), A^T (6 -> 4), and their adjoints B (6 -> 6), A (4 -> 6).
static inline void bt6(v16 o[6], v16 d0, v16 d1, v16 d2, v16 d3, v16 d4, v16 d5) {
    o[0] = 4.0f * d0 - 5.0f * d2 + d4;
    o[1] = d3 + d4 - 4.0f * (d1 + d2);
    o[2] = 4.0f * (d1 - d2) + d4 - d3;
    o[3] = 2.0f * (d3 - d1) + d4 - d2;
    o[4] = 2.0f * (d1 - d3) + d4 - d2;
    o[5] = 4.0f * d1 - 5.0f * d3 + d5;
}
static inline void at4(v16 o[4], v16 m0, v16 m1, v16 m2, v16 m3, v16 m4, v16 m5) {
    const v16 p12 = m1 + m2, n12 = m1 - m2, p34 = m3 + m4, n34 = m3 - m4;
    o[0] = m0 + p12 + p34;
    o[1] = n12 + 2.0f * n34;
    o[2] = p12 + 4.0f * p34;
    o[3] = n12 + 8.0f * n34 + m5;
}
static inline void b6(v16 o[6], v16 u0, v16 u1, v16 u2, v16 u3, v16 u4, v16 u5) {
    o[0] = 4.0f * u0;
    o[1] = 4.0f * (u2 - u1 + u5) + 2.0f * (u4 - u3);
    o[2] = -5.0f * u0 - 4.0f * (u1 + u2) - u3 - u4;
    o[3] = u1 - u2 + 2.0f * (u3 - u4) - 5.0f * u5;
    o[4] = u0 + u1 + u2 + u3 + u4;
    o[5] = u5;
}
static inline void a6(v16 o[6], v16 d0, v16 d1, v16 d2, v16 d3) {
    const v16 p02 = d0 + d2, p13 = d1 + d3, q02 = d0 + 4.0f * d2, q13 = 2.0f * d1 + 8.0f * d3;
    o[0] = d0;
    o[1] = p02 + p13;
    o[2] = p02 - p13;
    o[3] = q02 + q13;
    o[4] = q02 - q13;
    o[5] = d3;
}

#define LD(p) (*(const v16u *)(p))
#define ST(p, v) (*(v16u *)(p) = (v))

// U[e] (es floats apart) = B^T d B of the 6x6 window at x (rows rs floats apart, elements 16).
static inline void input_tile(float *u, size_t es, const float *x, size_t rs) {
    v16 t[6][6], o[6];
    for (int j = 0; j < 6; j++) {
        const float *c = x + 16 * j;
        bt6(o, LD(c), LD(c + rs), LD(c + 2 * rs), LD(c + 3 * rs), LD(c + 4 * rs), LD(c + 5 * rs));
        for (int i = 0; i < 6; i++) t[i][j] = o[i];
    }
    for (int i = 0; i < 6; i++) {
        bt6(o, t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5]);
        for (int k = 0; k < 6; k++) ST(u + (size_t)(6 * i + k) * es, o[k]);
    }
}

// The 4x4 tile at y (rows rs apart) = A^T M A of the products M[e] (es floats apart).
static inline void output_tile(float *y, size_t rs, const float *m, size_t es) {
    v16 t[4][6], o[4];
    for (int k = 0; k < 6; k++) {
        at4(o, LD(m + k * es), LD(m + (6 + k) * es), LD(m + (12 + k) * es), LD(m + (18 + k) * es),
            LD(m + (24 + k) * es), LD(m + (30 + k) * es));
        for (int p = 0; p < 4; p++) t[p][k] = o[p];
    }
    for (int p = 0; p < 4; p++) {
        at4(o, t[p][0], t[p][1], t[p][2], t[p][3], t[p][4], t[p][5]);
        for (int q = 0; q < 4; q++) ST(y + p * rs + 16 * q, o[q]);
    }
}

// Z[e] (es apart) = A dy A^T of the 4x4 gradient tile at dy (rows rs apart).
static inline void grad_tile(float *z, size_t es, const float *dy, size_t rs) {
    v16 t[6][4], o[6];
    for (int q = 0; q < 4; q++) {
        const float *c = dy + 16 * q;
        a6(o, LD(c), LD(c + rs), LD(c + 2 * rs), LD(c + 3 * rs));
        for (int i = 0; i < 6; i++) t[i][q] = o[i];
    }
    for (int i = 0; i < 6; i++) {
        a6(o, t[i][0], t[i][1], t[i][2], t[i][3]);
        for (int k = 0; k < 6; k++) ST(z + (size_t)(6 * i + k) * es, o[k]);
    }
}

// The 6x6 window at x (rows rs apart) += B dU B^T of dU[e] (es apart).
static inline void input_adj_tile(float *x, size_t rs, const float *du, size_t es) {
    v16 t[6][6], o[6];
    for (int k = 0; k < 6; k++) {
        b6(o, LD(du + k * es), LD(du + (6 + k) * es), LD(du + (12 + k) * es), LD(du + (18 + k) * es),
           LD(du + (24 + k) * es), LD(du + (30 + k) * es));
        for (int i = 0; i < 6; i++) t[i][k] = o[i];
    }
    for (int i = 0; i < 6; i++) {
        b6(o, t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5]);
        float *r = x + i * rs;
        for (int j = 0; j < 6; j++) ST(r + 16 * j, LD(r + 16 * j) + o[j]);
    }
}

// G (6x3) of F(4, 3), and its transpose applied to a 6x6 transform's gradient (double)
static const double G6[6][3] = {{0.25, 0, 0},
                                {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                {0, 0, 1}};

// v[6] = G (g0, g1, g2), float: its rows 1-4 share (g0 + g2) and g1
static inline void g6(float v[6], float g0, float g1, float g2) {
    const float s = g0 + g2;
    v[0] = 0.25f * g0;
    v[1] = -(s + g1) * (1.0f / 6);
    v[2] = -(s - g1) * (1.0f / 6);
    v[3] = (0.25f * g0 + g2 + 0.5f * g1) * (1.0f / 6);
    v[4] = (0.25f * g0 + g2 - 0.5f * g1) * (1.0f / 6);
    v[5] = g2;
}

// V[e][oc][c] = (G g G^T)[e] for the weight pairs of output channels [oc0, oc1) (V and w whole,
// OC x C): an output channel's 36 rows of C made in a small buffer (tmp: 36*C floats), then
// copied to their places
static void weights(float *V, const float *w, int OC, int C, int oc0, int oc1, float *tmp) {
    const size_t es = (size_t)OC * C;
    for (int oc = oc0; oc < oc1; oc++) {
        for (int c = 0; c < C; c++) {
            const float *g = w + ((size_t)oc * C + c) * 9;
            float t[3][6], v[6];
            for (int b = 0; b < 3; b++) g6(t[b], g[b], g[3 + b], g[6 + b]);   // columns: G g
            for (int i = 0; i < 6; i++) {
                g6(v, t[0][i], t[1][i], t[2][i]);                              // rows: (G g) G^T
                for (int k = 0; k < 6; k++) tmp[(size_t)(6 * i + k) * C + c] = v[k];
            }
        }
        for (int e = 0; e < NE; e++) memcpy(V + e * es + (size_t)oc * C, tmp + (size_t)e * C, sizeof(float) * C);
    }
}

// ---------------------------------------------------------------- interleaving (16x16 transposes)
// r[i][j] -> r[j][i]: four rounds of zips, each rotating the (row, column) index bits by one.
static inline void transpose16(v16 r[16]) {
    for (int s = 0; s < 4; s++) {
        v16 o[16];
        for (int i = 0; i < 8; i++) {
            o[2 * i] = __builtin_shufflevector(r[i], r[i + 8], ZIP_LO);
            o[2 * i + 1] = __builtin_shufflevector(r[i], r[i + 8], ZIP_HI);
        }
        for (int i = 0; i < 16; i++) r[i] = o[i];
    }
}

// Positions [p0, p1) of ns <= 16 planes (sample l's at src + l*stride, W wide) into the
// interleaved plane pl (Wb positions a row, 16 floats each, the grid at row oy, column ox).
// With y: src is dL/dy of y = act(pre) and pl gets dL/dpre; *sum += its values (db).
static void interleave(float *pl, int Wb, int oy, int ox, const float *src, const float *y, int act, size_t stride,
                       int ns, int W, int p0, int p1, v16 *sum) {
    for (int p = p0; p < p1; p += 16) {
        const int n = p1 - p < 16 ? p1 - p : 16;
        v16 r[16];
        if (n == 16 && ns == 16 && !y)   // the common case: whole vectors, no masks
            for (int l = 0; l < 16; l++) r[l] = LD(src + l * stride + p);
        else
            for (int l = 0; l < 16; l++) {
                if (l >= ns) { r[l] = (v16){0}; continue; }
                v16 v = load_n(src + l * stride + p, n);
                if (y && act == CONV_ACT_RELU) v = relu_mask(v, load_n(y + l * stride + p, n));
                else if (y && act == CONV_ACT_SIGMOID) {
                    const v16 yy = load_n(y + l * stride + p, n);
                    v = v * (yy * (1.0f - yy));
                }
                r[l] = v;
            }
        if (sum)
            for (int l = 0; l < 16; l++) *sum += r[l];
        transpose16(r);
        int yy = p / W, x = p - yy * W;
        for (int k = 0; k < n; k++) {
            ST(pl + ((size_t)(yy + oy) * Wb + x + ox) * 16, r[k]);
            if (++x == W) x = 0, yy++;
        }
    }
}

// Positions [p0, p1) of the ns planes at src (l*stride apart) towards the cache, for the next
// channel's pass: 16 planes far apart are 16 streams the hardware prefetcher does not follow.
static inline void prefetch_planes(const float *src, size_t stride, int ns, int p0, int p1, int write) {
    if (!src) return;
    for (int l = 0; l < ns; l++)
        for (int p = p0 & ~15; p < p1; p += 16) {
            if (write) __builtin_prefetch(src + l * stride + p, 1);
            else __builtin_prefetch(src + l * stride + p, 0);
        }
}

enum { OUT_FWD, OUT_SET, OUT_ADD };   // forward epilogue (bias, act); dinp set / add (mask: relu)

// The adjoint move: positions [p0, p1) of the interleaved plane pl to ns planes at dst (sample
// l's at dst + l*stride) with the epilogue `mode`: OUT_FWD act(v + bias); OUT_SET / OUT_ADD v
// masked by mask > 0 when mask (the layer before's ReLU output, same indexing as dst).
// mask_il instead of mask: the mask in the interleaved layout (position p's 16 samples at
// mask_il + p*16), applied before the transpose.
static void deinterleave(float *dst, size_t stride, int ns, int W, int p0, int p1, const float *pl, int Wb, int oy,
                         int ox, int mode, float bias, int act, const float *mask, const float *mask_il) {
    for (int p = p0; p < p1; p += 16) {
        const int n = p1 - p < 16 ? p1 - p : 16;
        v16 r[16];
        int yy = p / W, x = p - yy * W;
        for (int k = 0; k < 16; k++) {
            if (k < n) r[k] = LD(pl + ((size_t)(yy + oy) * Wb + x + ox) * 16);
            else r[k] = (v16){0};
            if (k < n && mask_il) r[k] = relu_mask(r[k], LD(mask_il + (size_t)(p + k) * 16));
            if (++x == W) x = 0, yy++;
        }
        transpose16(r);
        for (int l = 0; l < ns; l++) {
            float *d = dst + l * stride + p;
            v16 v = r[l];
            if (mode == OUT_FWD) {
                v += bias;
                if (act == CONV_ACT_RELU) v = relu_mask(v, v);
                else if (act == CONV_ACT_SIGMOID) {
                    float t[16];
                    ST(t, v);
                    for (int k = 0; k < 16; k++) t[k] = sigmoid1(t[k]);
                    v = LD(t);
                }
            } else {
                if (mask) v = relu_mask(v, load_n(mask + l * stride + p, n));
                if (mode == OUT_ADD) v += load_n(d, n);
            }
            store_n(d, v, n);
        }
    }
}

// ---------------------------------------------------------------- one call, its threads
typedef struct {
    const ConvShape *s;
    const W3 *l;
    int B, act, dinp_flags, nt;   // nt: the threads that ran (thread 0 sets it)
    float *out, *dinp, *work;
    int want_dw;
    int in_il, out_il;   // inp / out in the interleaved layout of conv_wino3.h (else NCHW)
    int dout_il, dinp_il;   // dout / dinp in it
    const float *inp, *w, *b, *dout, *y;
} W3Call;

static void thread_groups(const W3 *l, int id, int nt, int *g0, int *g1) {
    *g0 = (int)((long)l->ngroups * id / nt), *g1 = (int)((long)l->ngroups * (id + 1) / nt);
}

// Chunk k of tile rows: [*r0, *r1); returns its columns.
static int chunk_rows(const W3 *l, int k, int *r0, int *r1) {
    *r0 = k * l->rpc;
    *r1 = *r0 + l->rpc < l->th ? *r0 + l->rpc : l->th;
    return (*r1 - *r0) * l->tw * 16;
}

// U of chunk [r0, r1) of group b0 (ns samples): every input channel interleaved into xp (its
// grid rows the chunk's windows reach), then transformed.
static void chunk_input(float *U, int ncols, float *xp, const W3Call *c, int b0, int ns, int r0, int r1) {
    const ConvShape *s = c->s;
    const W3 *l = c->l;
    const int H = s->H, W = s->W, C = s->C, HW = H * W;
    const int ylo = 4 * r0 - 1 < 0 ? 0 : 4 * r0 - 1, yhi = 4 * r1 + 1 > H ? H : 4 * r1 + 1;
    const size_t es = estride((size_t)C * ncols), rs = (size_t)l->Wp * 16;
    for (int ch = 0; ch < C; ch++) {
        if (c->in_il) {   // already interleaved: the rows into the padded plane
            const float *src = c->inp + ((size_t)b0 * C + (size_t)ch * 16) * HW;
            for (int y = ylo; y < yhi; y++)
                memcpy(xp + ((size_t)(y + 1) * l->Wp + 1) * 16, src + (size_t)y * W * 16, sizeof(float) * 16 * W);
        } else {
            if (ch + 1 < C)
                prefetch_planes(c->inp + ((size_t)b0 * C + ch + 1) * HW, (size_t)C * HW, ns, ylo * W, yhi * W, 0);
            interleave(xp, l->Wp, 1, 1, c->inp + ((size_t)b0 * C + ch) * HW, NULL, 0, (size_t)C * HW, ns, W, ylo * W,
                       yhi * W, NULL);
        }
        float *u = U + (size_t)ch * ncols;
        for (int ti = r0; ti < r1; ti++)
            for (int tj = 0; tj < l->tw; tj++)
                input_tile(u + ((ti - r0) * l->tw + tj) * 16, es, xp + (size_t)(4 * ti) * rs + 64 * tj, rs);
    }
}

// Rows [y0, y1) of an output plane in the interleaved layout (dst: the group's plane of this
// channel, W x 16 floats a row) from yq (Wq positions a row): act(v + bias) as deinterleave's
// OUT_FWD (ReLU or none), the lanes past the ns samples zero.
static void out_rows_il(float *dst, const float *yq, int Wq, int W, int y0, int y1, int ns, float bias, int act) {
    const vi16 live = live_lanes(ns);
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < W; x++) {
            v16 v = LD(yq + ((size_t)y * Wq + x) * 16) + bias;
            if (act == CONV_ACT_RELU) v = relu_mask(v, v);
            ST(dst + ((size_t)y * W + x) * 16, (v16)((vi16)v & live));
        }
}

// Thread id's share of the transformed weights V (its output channels; its own area as the
// scratch), then a barrier: every thread reads all of V after it. (nt = 1 outside a parallel
// region: the barrier is a no-op.)
static void weights_part(const W3Call *c, float *area, int id, int nt) {
    const int OC = c->s->OC;
    weights(c->work + c->l->v, c->w, OC, c->s->C, (int)((long)OC * id / nt), (int)((long)OC * (id + 1) / nt), area);
#ifdef _OPENMP
    #pragma omp barrier
#endif
}

static void forward_thread(void *arg, int id, int nt) {
    W3Call *c = arg;
    const ConvShape *s = c->s;
    const W3 *l = c->l;
    const int OC = s->OC, C = s->C, H = s->H, W = s->W, HW = H * W;
    float *area = c->work + l->thr + (size_t)id * l->thr_floats, *V = c->work + l->v;
    float *xp = area + l->xp, *yq = area + l->yq, *U = area + l->u, *M = area + l->m;
    weights_part(c, area, id, nt);
    memset(xp, 0, sizeof(float) * l->plane);   // the border: never written below
    int g0, g1;
    thread_groups(l, id, nt, &g0, &g1);
    const size_t rq = (size_t)l->Wq * 16;
    for (int g = g0; g < g1; g++) {
        const int b0 = 16 * g, ns = c->B - b0 < 16 ? c->B - b0 : 16;
        for (int k = 0; k < l->nchunk; k++) {
            int r0, r1;
            const int ncols = chunk_rows(l, k, &r0, &r1);
            chunk_input(U, ncols, xp, c, b0, ns, r0, r1);
            const size_t eu = estride((size_t)C * ncols), es = estride((size_t)OC * ncols);
            for (int e = 0; e < NE; e++)
                gemm(0, 0, OC, ncols, C, 1.0f, V + (size_t)e * OC * C, C, U + e * eu, ncols, 0.0f, M + e * es, ncols);
            const int yhi = 4 * r1 < H ? 4 * r1 : H;
            for (int oc = 0; oc < OC; oc++) {
                const float *m = M + (size_t)oc * ncols;
                if (oc + 1 < OC && !c->out_il)
                    prefetch_planes(c->out + ((size_t)b0 * OC + oc + 1) * HW, (size_t)OC * HW, ns, 4 * r0 * W, yhi * W,
                                    1);
                for (int ti = r0; ti < r1; ti++)
                    for (int tj = 0; tj < l->tw; tj++)
                        output_tile(yq + (size_t)(4 * ti) * rq + 64 * tj, rq, m + ((ti - r0) * l->tw + tj) * 16, es);
                const float bias = c->b ? c->b[oc] : 0.0f;
                if (c->out_il)
                    out_rows_il(c->out + ((size_t)b0 * OC + (size_t)oc * 16) * HW, yq, l->Wq, W, 4 * r0, yhi, ns, bias,
                                c->act);
                else
                    deinterleave(c->out + ((size_t)b0 * OC + oc) * HW, (size_t)OC * HW, ns, W, 4 * r0 * W, yhi * W, yq,
                                 l->Wq, 0, 0, OUT_FWD, bias, c->act, NULL, NULL);
            }
        }
    }
}

// fn(call, thread, threads) on up to one thread a group (threads_run); one group runs on the
// calling thread with BLAS single-threaded.
static void run_threads(W3Call *c, void (*fn)(void *, int, int)) {
    int nt = omp_threads();
    if (nt > c->l->T) nt = c->l->T;
    if (nt > c->l->ngroups) nt = c->l->ngroups;
    threads_run(nt, fn, c);
}

void wino3_forward_il(float *out, const float *inp, const float *w, const float *b, int act, int B,
                      const ConvShape *s, float *work, int in_il, int out_il) {
    CHECK(!out_il || act == CONV_ACT_NONE || act == CONV_ACT_RELU, "wino3: an interleaved output takes ReLU or none");
    const W3 l = layout(s, B);
    W3Call c = {.s = s, .l = &l, .B = B, .act = act, .out = out, .work = work, .in_il = in_il, .out_il = out_il,
                .inp = inp, .w = w, .b = b};
    run_threads(&c, forward_thread);
}

void wino3_forward(float *out, const float *inp, const float *w, const float *b, int act, int B, const ConvShape *s,
                   float *work) {
    wino3_forward_il(out, inp, w, b, act, B, s, work, 0, 0);
}

// Rows of dV (output channels) per weight-gradient GEMM: OpenBLAS (0.3.21, AVX-512) runs this
// product (column-major "TN") on its small-matrix kernel only while C x rows <= 1200, otherwise
// packs both operands: 64x64 at 144 columns ran 133-138 GFLOP/s packed, 160 in blocks of 16
// rows, and conv_in's 64x24 98 -> 158 (cblas_sgemm alone, one thread). Blocks of 16 where
// that helps; whole otherwise (a K of 256 and more would go to gemm's own few-row kernel).
static int dv_rows(int OC, int C, int ncols) {
    return (size_t)OC * C > 1200 && 16 * C <= 1200 && ncols < 256 ? 16 : OC;
}

// Input channel ch of group b0 (ns samples): its gradient, the padded interleaved plane pl, to
// dinp (set or added, through the layer before's ReLU when asked).
static void dinp_plane(const W3Call *c, const float *pl, int b0, int ns, int ch) {
    const int C = c->s->C, W = c->s->W, HW = c->s->H * W;
    const size_t off = ((size_t)b0 * C + ch) * HW;
    const int set = c->dinp_flags & CONV_DINP_SET, relu = c->dinp_flags & CONV_DINP_RELU;
    if (c->dinp_il) {   // set (the mask from the interleaved inp), the lanes past ns zero
        const vi16 live = live_lanes(ns);
        const size_t o = ((size_t)b0 * C + (size_t)ch * 16) * HW;
        for (int y = 0; y < c->s->H; y++)
            for (int x = 0; x < W; x++) {
                const size_t q = ((size_t)y * W + x) * 16;
                v16 v = LD(pl + ((size_t)(y + 1) * c->l->Wp + x + 1) * 16);
                if (relu) v = relu_mask(v, LD(c->inp + o + q));
                ST(c->dinp + o + q, (v16)((vi16)v & live));
            }
        return;
    }
    if (ch + 1 < C) {
        prefetch_planes(c->dinp + off + HW, (size_t)C * HW, ns, 0, HW, 1);
        if (relu && !c->in_il) prefetch_planes(c->inp + off + HW, (size_t)C * HW, ns, 0, HW, 0);
    }
    const float *il = c->inp + ((size_t)b0 * C + (size_t)ch * 16) * HW;   // the input's plane, interleaved layout
    deinterleave(c->dinp + off, (size_t)C * HW, ns, W, 0, HW, pl, c->l->Wp, 1, 1, set ? OUT_SET : OUT_ADD, 0.0f, 0,
                 relu && !c->in_il ? c->inp + off : NULL, relu && c->in_il ? il : NULL);
}

// One chunk's backward: Z from dP (and the db sums), then dV += Z U^T and dU = V^T Z added into
// the group's padded input-gradient planes dx.
static void backward_chunk(W3Call *c, float *area, int b0, int ns, int r0, int r1, int ncols) {
    const ConvShape *s = c->s;
    const W3 *l = c->l;
    const int OC = s->OC, C = s->C, H = s->H, W = s->W, HW = H * W;
    float *xp = area + l->xp, *dq = area + l->yq, *U = area + l->u, *Z = area + l->m, *dU = area + l->du;
    float *dx = area + l->dx, *dvp = area + l->dv, *V = c->work + l->v;
    double *dbp = (double *)(area + l->db);
    const size_t rq = (size_t)l->Wq * 16, rp = (size_t)l->Wp * 16, ez = estride((size_t)OC * ncols);
    const size_t eu = estride((size_t)C * ncols), ev = estride((size_t)OC * C);
    const int yhi = 4 * r1 < H ? 4 * r1 : H;
    for (int oc = 0; oc < OC; oc++) {
        const size_t off = ((size_t)b0 * OC + oc) * HW;
        if (oc + 1 < OC && !c->dout_il) {
            prefetch_planes(c->dout + off + HW, (size_t)OC * HW, ns, 4 * r0 * W, yhi * W, 0);
            if (c->y) prefetch_planes(c->y + off + HW, (size_t)OC * HW, ns, 4 * r0 * W, yhi * W, 0);
        }
        v16 sum = {0};
        if (c->dout_il) {   // already interleaved: its rows into dq, summed by sample (db)
            const float *src = c->dout + ((size_t)b0 * OC + (size_t)oc * 16) * HW;
            for (int y = 4 * r0; y < yhi; y++) {
                memcpy(dq + (size_t)y * rq, src + (size_t)y * W * 16, sizeof(float) * 16 * W);
                for (int x = 0; x < W; x++) sum += LD(src + ((size_t)y * W + x) * 16);
            }
        } else
            interleave(dq, l->Wq, 0, 0, c->dout + off, c->y ? c->y + off : NULL, c->act, (size_t)OC * HW, ns, W,
                       4 * r0 * W, yhi * W, &sum);
        double a = 0;
        for (int k = 0; k < 16; k++) a += sum[k];
        dbp[oc] += a;
        float *z = Z + (size_t)oc * ncols;
        for (int ti = r0; ti < r1; ti++)
            for (int tj = 0; tj < l->tw; tj++)
                grad_tile(z + ((ti - r0) * l->tw + tj) * 16, ez, dq + (size_t)(4 * ti) * rq + 64 * tj, rq);
    }
    if (c->want_dw) {
        chunk_input(U, ncols, xp, c, b0, ns, r0, r1);
        const int ob = dv_rows(OC, C, ncols);
        for (int e = 0; e < NE; e++)
            for (int o = 0; o < OC; o += ob)
                gemm(0, 1, OC - o < ob ? OC - o : ob, C, ncols, 1.0f, Z + e * ez + (size_t)o * ncols, ncols, U + e * eu,
                     ncols, 1.0f, dvp + e * ev + (size_t)o * C, C);
    }
    if (!c->dinp) return;
    for (int e = 0; e < NE; e++)
        gemm(1, 0, C, ncols, OC, 1.0f, V + (size_t)e * OC * C, C, Z + (size_t)e * ez, ncols, 0.0f, dU + (size_t)e * eu,
             ncols);
    const int whole = l->nchunk == 1;   // one chunk: a channel's plane is complete here, written out at once
    for (int ch = 0; ch < C; ch++) {
        float *pl = whole ? dx : dx + (size_t)ch * l->plane;
        if (whole) memset(pl, 0, sizeof(float) * l->plane);
        const float *du = dU + (size_t)ch * ncols;
        for (int ti = r0; ti < r1; ti++)
            for (int tj = 0; tj < l->tw; tj++)
                input_adj_tile(pl + (size_t)(4 * ti) * rp + 64 * tj, rp, du + ((ti - r0) * l->tw + tj) * 16, eu);
        if (whole) dinp_plane(c, pl, b0, ns, ch);
    }
}

static void backward_thread(void *arg, int id, int nt) {
    W3Call *c = arg;
    const ConvShape *s = c->s;
    const W3 *l = c->l;
    const int OC = s->OC, C = s->C;
    float *area = c->work + l->thr + (size_t)id * l->thr_floats;
    if (id == 0) c->nt = nt;
    if (c->dinp) weights_part(c, area, id, nt);
    memset(area + l->xp, 0, sizeof(float) * l->plane);   // borders: never written
    memset(area + l->yq, 0, sizeof(float) * 4 * l->th * l->Wq * 16);
    memset(area + l->dv, 0, sizeof(float) * NE * estride((size_t)OC * C));
    double *dbp = (double *)(area + l->db);
    for (int oc = 0; oc < OC; oc++) dbp[oc] = 0.0;
    int g0, g1;
    thread_groups(l, id, nt, &g0, &g1);
    for (int g = g0; g < g1; g++) {
        const int b0 = 16 * g, ns = c->B - b0 < 16 ? c->B - b0 : 16;
        if (c->dinp && l->nchunk > 1) memset(area + l->dx, 0, sizeof(float) * C * l->plane);
        for (int k = 0; k < l->nchunk; k++) {
            int r0, r1;
            const int ncols = chunk_rows(l, k, &r0, &r1);
            backward_chunk(c, area, b0, ns, r0, r1, ncols);
        }
        if (!c->dinp || l->nchunk == 1) continue;
        for (int ch = 0; ch < C; ch++) dinp_plane(c, area + l->dx + (size_t)ch * l->plane, b0, ns, ch);
    }
}

void wino3_backward(float *dinp, float *dw, float *db, const float *dout, const float *y, int act, int dinp_flags,
                    const float *inp, const float *w, int B, const ConvShape *s, float *work) {
    wino3_backward_il(dinp, dw, db, dout, y, act, dinp_flags, inp, w, B, s, work, 0, 0, 0);
}

void wino3_backward_il(float *dinp, float *dw, float *db, const float *dout, const float *y, int act, int dinp_flags,
                       const float *inp, const float *w, int B, const ConvShape *s, float *work, int in_il, int dout_il,
                       int dinp_il) {
    CHECK(!(in_il || dout_il) || act == CONV_ACT_NONE,
          "wino3: an interleaved input or output gradient with the output's activation in the backward");
    CHECK(!dinp_il || ((dinp_flags & CONV_DINP_SET) && (in_il || !(dinp_flags & CONV_DINP_RELU))),
          "wino3: an interleaved input gradient is set, its ReLU mask from an interleaved input");
    const W3 l = layout(s, B);
    const int OC = s->OC, C = s->C;
    W3Call c = {.s = s, .l = &l, .B = B, .act = act, .dinp_flags = dinp_flags, .nt = 1, .dinp = dinp, .work = work,
                .want_dw = dw != NULL, .in_il = in_il, .dout_il = dout_il, .dinp_il = dinp_il, .inp = inp, .w = w, .dout = dout,
                .y = act == CONV_ACT_NONE ? NULL : y};
    run_threads(&c, backward_thread);
    // the threads' partials in thread order: deterministic for a thread count
    const float *area0 = work + l.thr;
    if (db)
        for (int oc = 0; oc < OC; oc++) {
            double a = 0;
            for (int i = 0; i < c.nt; i++) a += ((const double *)(area0 + (size_t)i * l.thr_floats + l.db))[oc];
            db[oc] += (float)a;
        }
    if (!dw) return;
    const size_t es = estride((size_t)OC * C);
    OMP_FOR_IF(c.nt > 1)   // an output channel per thread at a time: the same sums whatever the split
    for (int oc = 0; oc < OC; oc++)
        for (int ch = 0; ch < C; ch++) {
            double v[NE], t[6][3];   // dV summed over the threads, then G^T dV G
            for (int e = 0; e < NE; e++) {
                double a = 0;
                for (int i = 0; i < c.nt; i++) a += area0[(size_t)i * l.thr_floats + l.dv + e * es + (size_t)oc * C + ch];
                v[e] = a;
            }
            for (int i = 0; i < 6; i++)
                for (int b = 0; b < 3; b++)
                    t[i][b] = v[6 * i] * G6[0][b] + v[6 * i + 1] * G6[1][b] + v[6 * i + 2] * G6[2][b] +
                              v[6 * i + 3] * G6[3][b] + v[6 * i + 4] * G6[4][b] + v[6 * i + 5] * G6[5][b];
            float *g = dw + ((size_t)oc * C + ch) * 9;
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) {
                    double acc = 0;
                    for (int i = 0; i < 6; i++) acc += G6[i][a] * t[i][b];
                    g[3 * a + b] += (float)acc;
                }
        }
}
