/* ---- fixed point (Q16.16: value = q / 65536), shared by the q16 and int8 formats.
   Rounding: every product sum is rounded once, to nearest with ties towards +infinity
   (floor((acc + half) / 2^k)), then saturated to the int32 range. */
typedef int32_t act_t;   /* activations and the latent, Q16.16 */
static int32_t q_sat(int64_t v) { return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v; }
/* floor(v / 2^k) without relying on >> of a negative number (implementation-defined in C99) */
static int64_t q_floor_shift(int64_t v, int k) {
    int64_t d = (int64_t)1 << k;
    return v >= 0 ? v / d : -((-v + d - 1) / d);
}
static int64_t q_round_shift(int64_t v, int k) { return q_floor_shift(v + ((int64_t)1 << (k - 1)), k); }
/* sigmoid of a Q16 value: linear interpolation in SIGMOID_Q16 (257 points over [-8, 8], step
   1/16; |error| < 6e-5 inside, < 3.4e-4 outside, where it is 0 or 1) */
static int32_t q_sigmoid(int32_t x) {
    int64_t u = (int64_t)x + 8 * 65536;
    int64_t i, f;
    if (u <= 0) return 0;
    if (u >= 16 * 65536) return 65536;
    i = u / 4096, f = u % 4096;
    return (int32_t)(SIGMOID_Q16[i] + q_round_shift((int64_t)(SIGMOID_Q16[i + 1] - SIGMOID_Q16[i]) * f, 12));
}
static int32_t q_finish(int64_t v, int act) {
    int32_t y = q_sat(v);
    if (act == ACT_RELU) return y > 0 ? y : 0;
    if (act == ACT_SIGMOID) return q_sigmoid(y);
    return y;
}
static act_t act_add(act_t a, act_t b) { return q_sat((int64_t)a + b); }
typedef int64_t sum_t;
static act_t q_mean(int64_t s, int n) { return (act_t)(s >= 0 ? (s + n / 2) / n : -((-s + n / 2) / n)); }
#define MEAN_OF(s, n) q_mean(s, n)
static float act_to_float(act_t v) { return (float)v / 65536.0f; }
static act_t act_from_float(float v) {
    double q = (double)v * 65536.0;
    return q >= 2147483647.0 ? INT32_MAX : q <= -2147483648.0 ? INT32_MIN : (act_t)(q < 0 ? q - 0.5 : q + 0.5);
}
static unsigned char act_to_u8(act_t v) {   /* integer only: round(v * 255 / 65536), clamped */
    int64_t q = q_round_shift((int64_t)v * 255, 16);
    return (unsigned char)(q < 0 ? 0 : q > 255 ? 255 : q);
}
#define ACT_ONE 65536
