/* ---- the conv dynamics' own steps */
/* x0 = [z ; one constant plane per button] */
static void planes(act_t *x0, const act_t *z, long Z, const unsigned char *buttons, int A, int HW) {
    long i;
    int j, k;
    for (i = 0; i < Z; i++) x0[i] = z[i];
    for (j = 0; j < A; j++)
        for (k = 0; k < HW; k++) x0[Z + (long)j * HW + k] = buttons[j] ? ACT_ONE : 0;
}
static void pool_mean(act_t *out, const act_t *x, int C, int HW) {
    int c, k;
    for (c = 0; c < C; c++) {
        sum_t s = 0;
        for (k = 0; k < HW; k++) s += x[(long)c * HW + k];
        out[c] = MEAN_OF(s, HW);
    }
}
/* x = ReLU(x + g[c]) over each plane c: blocks.0 with the global context */
static void add_ctx_relu(act_t *x, const act_t *g, int C, int HW) {
    int c, k;
    for (c = 0; c < C; c++)
        for (k = 0; k < HW; k++) {
            act_t v = act_add(x[(long)c * HW + k], g[c]);
            x[(long)c * HW + k] = v > 0 ? v : 0;
        }
}
