/*
 * colour.h - colour measures on the falling piece of a built-in game (roadmap 4.1): whether a
 * reconstructed or predicted frame keeps the piece's hues, and whether colour bleeds across
 * its edges.
 *
 * The piece's pixels are where the game's frame differs from the same frame rendered without
 * the piece (GameDef.render_hidden), both at the data's resolution (so at 80x80 a piece cell's
 * blended border belongs to it).
 * - hue error: over the piece pixels whose true colour is chromatic (HSV saturation >= 0.25
 *   and value >= 0.15: not the white shine, not black), the circular difference in degrees
 *   between the true and the predicted HSV hue (scikit-image's rgb2hsv convention: the hue of
 *   a grey pixel is 0), mean per palette: the built-in Tetris draws each level (mod 10) with
 *   its own pair of colours, palette = GameFrameInfo.level mod 10; RGB data only.
 * - bleeding: mean absolute error over channels of the pixels in a 1-pixel band around the
 *   piece's edges (piece pixels with a non-piece 8-neighbour, and non-piece pixels with a
 *   piece 8-neighbour) against the piece's interior (piece pixels whose 8 neighbours are all
 *   piece). Colour that bleeds raises the band's error above the interior's.
 *
 *   ColourAcc a = {0};
 *   colour_frame(&a, truth, hidden, pred, C, H, W, palette, mask_scratch);   // [C,H,W] in [0,1]
 */
#ifndef NEMU_COLOUR_H
#define NEMU_COLOUR_H

#include <stdint.h>

#define COLOUR_PALETTES 10
#define COLOUR_MIN_SAT 0.25f
#define COLOUR_MIN_VAL 0.15f

typedef struct {
    double hue_sum[COLOUR_PALETTES];
    int64_t hue_n[COLOUR_PALETTES];   // chromatic piece pixels
    double band_sum, interior_sum;
    int64_t band_n, interior_n;
    int64_t frames;                   // frames with piece pixels
} ColourAcc;

// HSV hue in degrees [0, 360) as scikit-image's rgb2hsv (x 360); 0 for grey.
double colour_hue(float r, float g, float b);
// |h1 - h2| on the circle, degrees in [0, 180].
double colour_hue_diff(double h1, double h2);
// One frame: truth (with the piece), hidden (without), pred [C,H,W]; palette 0..9, or -1 (no hue
// for this frame); mask [H*W] scratch.
void colour_frame(ColourAcc *a, const float *truth, const float *hidden, const float *pred, int C, int H, int W,
                  int palette, uint8_t *mask);
void colour_add(ColourAcc *into, const ColourAcc *a);

#endif
