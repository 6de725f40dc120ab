/* ---- VAE dynamics: delta = mean + temperature * exp(logvar / 2) * eps, eps ~ N(0, 1)
   from the state's own generator (xorshift64*, Box-Muller); temperature 0 = the mean */
static double rng_uniform(unsigned long long *s) {   /* in (0, 1) */
    unsigned long long x = *s;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    *s = x;
    return ((double)((x * 2685821657736338717ULL) >> 11) + 0.5) / 9007199254740992.0;
}
static void vae_step(act_t *z, const act_t *head, long Z, float temperature, unsigned long long *rng) {
    long i;
    for (i = 0; i < Z; i++) {
        float delta = head[i];
        if (temperature > 0) {
            double u1 = rng_uniform(rng), u2 = rng_uniform(rng);
            float eps = (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
            delta = head[i] + temperature * expf(0.5f * head[Z + i]) * eps;
        }
        z[i] = act_add(z[i], delta);
    }
}
