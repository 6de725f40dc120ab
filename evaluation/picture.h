/*
 * picture.h - small RGB drawing kit for the pictures nemu writes: frame grids with
 * captions (recon.png, rollouts.png) and line plots (loss.png, eval plots).
 *
 * A Canvas is RGB uint8, px [h, w, 3]. Everything drawn is clipped to the canvas.
 * Images come in two layouts: planar float [c, h, w] in [0,1] as the models output them
 * (values are clamped to [0,1], NaN draws black), and uint8 HWC [h, w, c] as datasets and
 * PNG files hold them; c = 1 (grey) or 3 (RGB). Blits upscale by an integer factor
 * (nearest neighbour, so pixels stay sharp). Text uses the 5x7 font of font.h.
 */
#ifndef NEMU_PICTURE_H
#define NEMU_PICTURE_H

#include <stdint.h>
#include "base/err.h"

typedef struct { uint8_t r, g, b; } Rgb;
typedef struct { int w, h; uint8_t *px; } Canvas;   // px [h, w, 3]

#define RGB_WHITE ((Rgb){255, 255, 255})
#define RGB_BLACK ((Rgb){0, 0, 0})

void canvas_init(Canvas *cv, int w, int h, Rgb bg);     // w, h >= 1
void canvas_free(Canvas *cv);
int canvas_write_png(const Canvas *cv, const char *path, Err *err);   // atomic (png_write)

void canvas_fill_rect(Canvas *cv, int x, int y, int w, int h, Rgb col);
void canvas_rect_outline(Canvas *cv, int x, int y, int w, int h, Rgb col);
// Straight line from (x0,y0) to (x1,y1), `thick` pixels wide (square pen).
void canvas_line(Canvas *cv, int x0, int y0, int x1, int y1, Rgb col, int thick);
// Text with its top-left corner at (x, y); '\n' starts a new line. Returns the width drawn.
int canvas_text(Canvas *cv, int x, int y, const char *s, Rgb col, int scale);
// Text rotated 90 degrees counter-clockwise (reads bottom to top), its glyph tops facing
// left; (x, y) is the bottom-left corner of the rotated text box.
void canvas_text_up(Canvas *cv, int x, int y, const char *s, Rgb col, int scale);

// img [c, h, w] floats, drawn at (x, y) with each pixel a scale x scale block.
void canvas_blit_planar(Canvas *cv, const float *img, int c, int h, int w, int x, int y, int scale);
// px [h, w, c] uint8.
void canvas_blit_hwc(Canvas *cv, const uint8_t *px, int c, int h, int w, int x, int y, int scale);

// ---- frame grids
typedef struct {
    int rows, cols;                 // cells
    int c, h, w;                    // every image is planar [c, h, w]
    int scale;                      // upscaling; 0 = automatic (frames about 160 px)
    const char *title;              // NULL = none
    const char *const *col_labels;  // cols strings above the columns, or NULL
    const char *const *row_labels;  // rows strings left of the rows, or NULL
    int col_group, row_group;       // a wider gap after every col_group columns / row_group rows (0 = none)
} GridSpec;
// imgs[r * cols + col] -> image [c, h, w], or NULL for an empty cell. Initialises cv.
void picture_grid(Canvas *cv, const GridSpec *g, const float *const *imgs);
// recon.png: n frames beside their reconstructions, 4 pairs per row, columns "true"/"recon".
// truth, recon: [n, c, h, w].
int picture_recon(const char *path, const float *truth, const float *recon, int n, int c, int h,
                  int w, Err *err);
// rollouts.png: for each of n_starts start points a row of true frames and a row of predicted
// frames at the given steps (columns "t+1", "t+5", ...). truth, pred: [n_starts, n_steps, c, h, w].
int picture_rollouts(const char *path, const float *truth, const float *pred, int n_starts,
                     int n_steps, const int *steps, int c, int h, int w, Err *err);

// ---- line plots
typedef struct {
    const char *name;       // legend entry (NULL or "" = not in the legend)
    const double *x, *y;    // n points; non-finite y (and y <= 0 on a log axis) break the line
    int n;
} PlotSeries;
typedef struct {
    const char *title, *xlabel, *ylabel;   // any may be NULL
    int logy;                               // log10 y axis
    int width, height;                      // 0 = 640 x 400
} PlotSpec;
// Draws the plot into a new canvas (initialises cv): axes, ticks and tick labels, axis
// labels, title, one coloured line per series (with markers when it has <= 40 points), and a
// legend in the upper right corner.
void plot_lines(Canvas *cv, const PlotSpec *p, const PlotSeries *s, int ns);
int plot_lines_png(const char *path, const PlotSpec *p, const PlotSeries *s, int ns, Err *err);

#endif
