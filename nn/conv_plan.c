/*
 * conv_plan.c - the convolutions' shapes and conv_plan, the one place that decides which
 * path (GEMM, direct, few channels, Winograd, shift) runs each product of a layer (conv.h).
 */
#include "nn/conv_internal.h"
#include "nn/conv_same.h"
#include "nn/conv_wino3.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>

// ---------------------------------------------------------------- shapes

ConvShape conv2d_shape(int C, int H, int W, int OC, int K, int S, int P) {
    CHECK(C > 0 && H > 0 && W > 0 && OC > 0 && K > 0 && S > 0 && P >= 0,
          "conv2d_shape: bad args C=%d H=%d W=%d OC=%d K=%d S=%d P=%d", C, H, W, OC, K, S, P);
    ConvShape s = {C, H, W, OC, 0, 0, K, S, P};
    CHECK(H + 2 * P >= K && W + 2 * P >= K, "conv2d_shape: kernel %d larger than padded input %dx%d (P=%d)",
          K, H, W, P);
    s.OH = (H + 2 * P - K) / S + 1;
    s.OW = (W + 2 * P - K) / S + 1;
    return s;
}

ConvShape convt2d_shape(int C, int H, int W, int OC, int K, int S, int P) {
    CHECK(C > 0 && H > 0 && W > 0 && OC > 0 && K > 0 && S > 0 && P >= 0,
          "convt2d_shape: bad args C=%d H=%d W=%d OC=%d K=%d S=%d P=%d", C, H, W, OC, K, S, P);
    ConvShape s = {C, H, W, OC, 0, 0, K, S, P};
    s.OH = (H - 1) * S - 2 * P + K;
    s.OW = (W - 1) * S - 2 * P + K;
    CHECK(s.OH > 0 && s.OW > 0, "convt2d_shape: empty output %dx%d", s.OH, s.OW);
    return s;
}

// ---------------------------------------------------------------- the plan (conv.h)

// Whether environment variable `name` leaves a path on (anything but a leading '0'), read once
// into *cache.
static int env_on(_Atomic int *cache, const char *name) {
    int v = *cache;
    if (v < 0) {
        const char *e = getenv(name);
        v = !(e && e[0] == '0');
        *cache = v;
    }
    return v;
}

// The direct kernels run "down" (big grid to small: conv2d forward, convT backward-data) or
// "up" (convT forward, conv2d backward-data).
ConvPlan conv_plan(const ConvShape *s, int transposed, int batch, int threads) {
    static _Atomic int direct_env = -1, wino_env = -1, shift_env = -1;
    const Grids g = grids(s, transposed);
    const int T = threads > 0 ? threads : conv_threads();
    const int direct = env_on(&direct_env, "NEMU_CONV_DIRECT");
    const int down = direct && direct_fits(&g, g.Cb, g.Cs), up = direct && direct_fits(&g, g.Cs, g.Cb);
    const int wino = direct && env_on(&wino_env, "NEMU_CONV_WINOGRAD") && wino_fits(&g) &&
                     (long)batch * wino_tiles(&g) >= WINO_CALL_TILES;
    const int wino_fwd = wino && (batch >= T || T == 1);   // whole samples per thread
    ConvPlan p;
    if (!transposed) {
        p.forward = wino_fwd ? CONV_WINOGRAD : down ? CONV_DIRECT : CONV_GEMM;
        p.dinp = !up ? CONV_GEMM : wino ? CONV_WINOGRAD : CONV_DIRECT;
    } else {
        p.forward = direct && few_fits(&g) ? CONV_FEW : wino_fwd ? CONV_WINOGRAD : up ? CONV_DIRECT : CONV_GEMM;
        p.dinp = !down ? CONV_GEMM : wino ? CONV_WINOGRAD : CONV_DIRECT;
    }
    p.dw = wino ? CONV_WINOGRAD : CONV_GEMM;
    if (!transposed && direct && env_on(&shift_env, "NEMU_CONV_SHIFT") && conv_same_fits(s))
        p.forward = p.dinp = p.dw = CONV_SHIFT;
    if (!transposed && direct && env_on(&wino_env, "NEMU_CONV_WINOGRAD") && wino3_fits(s) && batch >= WINO3_MIN_BATCH)
        p.forward = p.dinp = p.dw = CONV_WINOGRAD;
    return p;
}

int conv_plan_ok(const ConvShape *s, int transposed, const ConvPlan *p) {
    const Grids g = grids(s, transposed);
    const int down = direct_fits(&g, g.Cb, g.Cs), up = direct_fits(&g, g.Cs, g.Cb), wino = wino_fits(&g);
    const int fwd_direct = transposed ? up : down, dinp_direct = transposed ? down : up;
    const int fwd = p->forward == CONV_GEMM || (p->forward == CONV_DIRECT && fwd_direct) ||
                    (p->forward == CONV_WINOGRAD && wino) || (p->forward == CONV_FEW && transposed && few_fits(&g));
    const int dinp = p->dinp == CONV_GEMM || (p->dinp == CONV_DIRECT && dinp_direct) ||
                     (p->dinp == CONV_WINOGRAD && dinp_direct && wino);
    const int dw = p->dw == CONV_GEMM || (p->dw == CONV_WINOGRAD && wino);
    const int shift = !transposed && conv_same_fits(s);   // CONV_SHIFT for any of the three
    const int w3 = !transposed && wino3_fits(s);           // and Winograd F(4x4, 3x3)
    return (fwd || (p->forward == CONV_SHIFT && shift) || (p->forward == CONV_WINOGRAD && w3)) &&
           (dinp || (p->dinp == CONV_SHIFT && shift) || (p->dinp == CONV_WINOGRAD && w3)) &&
           (dw || (p->dw == CONV_SHIFT && shift) || (p->dw == CONV_WINOGRAD && w3));
}

const char *conv_path_name(ConvPath p) {
    switch (p) {
    case CONV_GEMM: return "gemm";
    case CONV_DIRECT: return "direct";
    case CONV_WINOGRAD: return "winograd";
    case CONV_FEW: return "few";
    case CONV_SHIFT: return "shift";
    }
    return "?";
}

const char *conv_plan_str(const ConvPlan *p, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%s/%s", conv_path_name(p->forward), conv_path_name(p->dinp), conv_path_name(p->dw));
    return buf;
}

void conv_check_plan(const ConvShape *s, int transposed, const ConvPlan *p) {
    char buf[64];
    CHECK(conv_plan_ok(s, transposed, p), "%s %dx%dx%d -> %dx%dx%d: no path %s for this shape",
          transposed ? "convt2d" : "conv2d", s->C, s->H, s->W, s->OC, s->OH, s->OW, conv_plan_str(p, buf, sizeof buf));
}
