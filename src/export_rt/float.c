/* ---- format float: IEEE single precision, as nemu computes */
typedef float act_t;   /* activations and the latent */
typedef float w_t;     /* weights */
typedef float in_t;    /* what a layer reads */
typedef float acc_t;   /* product sums */
typedef struct { const w_t *w; const float *b; int C, H, W, OC, OH, OW, K, S, P, T; } layer_t;
#define MAC(w, x) ((w) * (x))
#define ACT_ONE 1.0f
static const in_t *layer_input(const layer_t *L, const act_t *in, in_t *scratch) {
    (void)L, (void)scratch;
    return in;
}
static act_t layer_finish(const layer_t *L, int oc, acc_t acc, int act) {
    float v = acc + L->b[oc];
    if (act == ACT_RELU) return v > 0 ? v : 0;
    if (act == ACT_SIGMOID) return 1.0f / (1.0f + expf(-v));
    return v;
}
static act_t act_add(act_t a, act_t b) { return a + b; }
typedef double sum_t;
#define MEAN_OF(s, n) ((float)((s) / (n)))
static float act_to_float(act_t v) { return v; }
static act_t act_from_float(float v) { return v; }
static unsigned char act_to_u8(act_t v) {
    float q = v * 255.0f + 0.5f;
    return (unsigned char)(q < 0 ? 0 : q > 255 ? 255 : (int)q);
}
