/* ---- the flat (MLP) dynamics' own steps, float only */
static void layernorm(float *out, const float *x, const float *w, const float *b, int n) {
    double m = 0, v = 0;
    int i;
    for (i = 0; i < n; i++) m += x[i];
    m /= n;
    for (i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
    v /= n;
    v = 1.0 / sqrt(v + 1e-5);
    for (i = 0; i < n; i++) out[i] = (float)((x[i] - m) * v) * w[i] + b[i];
}
static void gelu(float *x, int n) {
    int i;
    for (i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}
