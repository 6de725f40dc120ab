/* z' = z + delta */
static void residual(act_t *z, const act_t *delta, long Z) {
    long i;
    for (i = 0; i < Z; i++) z[i] = act_add(z[i], delta[i]);
}
