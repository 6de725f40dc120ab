/* ---- format q16: Q16.16 weights and activations (int32), int64 product sums */
typedef int32_t w_t;
typedef int32_t in_t;
typedef int64_t acc_t;
typedef struct { const w_t *w; const int32_t *b; int C, H, W, OC, OH, OW, K, S, P, T; } layer_t;
#define MAC(w, x) ((int64_t)(w) * (x))
static const in_t *layer_input(const layer_t *L, const act_t *in, in_t *scratch) {
    (void)L, (void)scratch;
    return in;
}
/* sum of Q32.32 products -> Q16.16 (rounded once), + bias, activation */
static act_t layer_finish(const layer_t *L, int oc, acc_t acc, int act) {
    return q_finish(q_round_shift(acc, 16) + L->b[oc], act);
}
