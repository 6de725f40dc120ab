/* ---- format int8: int8 weights with one scale per output channel, the layer's input
   quantised to int8 with one scale per layer (calibrated at export), int32 product sums;
   between layers, and the latent, in Q16.16 */
typedef int8_t w_t;
typedef int8_t in_t;
typedef int32_t acc_t;
/* m[oc] = round(w_scale[oc] * in_scale * 2^32): acc * m / 2^16 is the sum in Q16.16;
   qin = round(65536 / in_scale): q16 * qin / 2^32 is the input in int8 steps */
typedef struct { const w_t *w; const int32_t *b; int C, H, W, OC, OH, OW, K, S, P, T; const int64_t *m; int64_t qin; } layer_t;
#define MAC(w, x) ((int32_t)(w) * (x))
static const in_t *layer_input(const layer_t *L, const act_t *in, in_t *scratch) {
    long i, n = (long)L->C * L->H * L->W;
    for (i = 0; i < n; i++) {
        int64_t q = q_round_shift((int64_t)in[i] * L->qin, 32);
        scratch[i] = (in_t)(q > 127 ? 127 : q < -127 ? -127 : q);
    }
    return scratch;
}
static act_t layer_finish(const layer_t *L, int oc, acc_t acc, int act) {
    return q_finish(q_round_shift((int64_t)acc * L->m[oc], 16) + L->b[oc], act);
}
