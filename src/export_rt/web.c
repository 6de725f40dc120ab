/* web.c - the exported emulator behind a few calls for the page (index.html) */
static EMU_(state) st;
static unsigned char rgba[EMU_UP(HEIGHT) * EMU_UP(WIDTH) * 4];
void web_reset(void) { EMU_(init)(&st, 1); }
/* buttons as bits, bit j = button j of EMU_BUTTON_NAMES */
void web_step(int bits) {
    unsigned char b[EMU_UP(BUTTONS)];
    int j;
    for (j = 0; j < EMU_UP(BUTTONS); j++) b[j] = (unsigned char)((bits >> j) & 1);
    EMU_(step)(&st, b);
}
unsigned char *web_frame(void) {
    EMU_(frame_rgba)(&st, rgba);
    return rgba;
}
void web_temperature(float t) { EMU_(set_temperature)(&st, t); }
int web_width(void) { return EMU_UP(WIDTH); }
int web_height(void) { return EMU_UP(HEIGHT); }
int web_vae(void) { return EMU_UP(VAE); }
const char *web_buttons(void) { return EMU_UP(BUTTON_NAMES); }
const char *web_format(void) { return EMU_UP(FORMAT); }
