/* ---- layers (format-generic: the format above defines act_t, in_t, w_t, acc_t, MAC,
   layer_input, layer_finish). Tensors are [C][H][W]. Per output channel, every product
   is summed into the plane acc (OH*OW sums), then layer_finish adds the bias, rounds
   (fixed point) and applies the activation. */

/* first i of 0..n-1 with 0 <= i*S + off < lim, and one past the last */
static void valid_range(int off, int S, int lim, int n, int *lo, int *hi) {
    int a = off < 0 ? (-off + S - 1) / S : 0, b = lim - 1 - off < 0 ? 0 : (lim - 1 - off) / S + 1;
    *lo = a;
    *hi = b < n ? b : n;
}

/* Conv2d (L->T = 0): w [OC][C][K][K]; out [OC][OH][OW], OH = (H + 2P - K) / S + 1; output
   (u, v) reads input (u S - P + kh, v S - P + kw).
   ConvTranspose2d (L->T = 1): w [C][OC][K][K]; OH = (H - 1) S - 2P + K; input (u, v) adds
   to output (u S - P + kh, v S - P + kw). Either way u, v run over the positions whose
   partner is inside its plane. */
static void layer(const layer_t *L, act_t *out, const act_t *in, int act, in_t *scratch, acc_t *acc) {
    const in_t *x = layer_input(L, in, scratch);
    const int T = L->T, UH = T ? L->H : L->OH, UW = T ? L->W : L->OW, PH = T ? L->OH : L->H, PW = T ? L->OW : L->W;
    int oc, ic, kh, kw, u, v, h0, h1, v0, v1;
    long n = (long)L->OH * L->OW, i;
    for (oc = 0; oc < L->OC; oc++) {
        for (i = 0; i < n; i++) acc[i] = 0;
        for (ic = 0; ic < L->C; ic++)
            for (kh = 0; kh < L->K; kh++) {
                valid_range(kh - L->P, L->S, PH, UH, &h0, &h1);
                for (kw = 0; kw < L->K; kw++) {
                    const w_t wv = L->w[((T ? (long)ic * L->OC + oc : (long)oc * L->C + ic) * L->K + kh) * L->K + kw];
                    valid_range(kw - L->P, L->S, PW, UW, &v0, &v1);
                    for (u = h0; u < h1; u++) {
                        const int p = u * L->S - L->P + kh;
                        const long ab = T ? (long)p * L->OW - L->P + kw : (long)u * L->OW;
                        const long xb = T ? ((long)ic * L->H + u) * L->W : ((long)ic * L->H + p) * L->W - L->P + kw;
                        if (T) /* two loops, each with one stride the compiler can see */
                            for (v = v0; v < v1; v++) acc[ab + (long)v * L->S] += MAC(wv, x[xb + v]);
                        else
                            for (v = v0; v < v1; v++) acc[ab + v] += MAC(wv, x[xb + (long)v * L->S]);
                    }
                }
            }
        for (i = 0; i < n; i++) out[(long)oc * n + i] = layer_finish(L, oc, acc[i], act);
    }
}
