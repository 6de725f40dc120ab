/*
 * png.c - PNG read/write with libpng's classic API (see png.h).
 *
 * libpng reports errors by calling our error function, which records the message and
 * longjmps back to the setjmp in png_read/png_write. Everything that changes between the
 * setjmp and a possible longjmp (the message, FILE*, row pointers, pixel buffer) lives in a
 * heap-allocated state struct, never in a local of the function that called setjmp, so
 * nothing becomes indeterminate after the jump (C11 7.13.2.1) and cleanup sees it all.
 */
#include "data/png.h"
#include "base/path.h"   // path_check_file
#include "base/err.h"
#include "base/alloc.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    jmp_buf jb;
    char msg[200];
} PngErr;

static void png_error_fn(png_structp png, png_const_charp msg) {
    PngErr *pe = png_get_error_ptr(png);
    snprintf(pe->msg, sizeof pe->msg, "%s", msg ? msg : "unknown error");
    longjmp(pe->jb, 1);
}

static void png_warning_fn(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

// Resources of one read, released by read_cleanup whatever path is taken.
typedef struct {
    PngErr pe;     // first member: libpng's error pointer is the state itself
    FILE *fp;
    png_structp png;
    png_infop info;
    png_bytep *rows;
    uint8_t *px;
} ReadState;

static void read_cleanup(ReadState *st, int keep_px) {
    if (st->png) png_destroy_read_struct(&st->png, st->info ? &st->info : NULL, NULL);
    if (st->fp) fclose(st->fp);
    free(st->rows);
    if (!keep_px) free(st->px);
    free(st);
}

// The part of png_read that libpng may longjmp out of. Returns channels (1 or 3).
static int read_body(const char *path, ReadState *st, int *w_out, int *h_out, Err *err) {
    png_structp png = st->png;
    png_infop info = st->info;
    png_init_io(png, st->fp);
    png_set_sig_bytes(png, 8);
    png_set_user_limits(png, PNG_MAX_SIDE, PNG_MAX_SIDE);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (w == 0 || h == 0 || w > PNG_MAX_SIDE || h > PNG_MAX_SIDE)
        return err_set(err, "%s: image size %ux%u out of range (1..%d)", path, (unsigned)w,
                       (unsigned)h, PNG_MAX_SIDE);
    if (depth == 16) png_set_strip_16(png);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    // tRNS (transparency by key colour or palette alpha) is simply ignored: never expanded.
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int c = png_get_channels(png, info);
    if ((c != 1 && c != 3) || png_get_bit_depth(png, info) != 8)
        return err_set(err, "%s: unsupported PNG layout (%d channels after conversion)", path, c);
    size_t stride = (size_t)w * c;
    CHECK(png_get_rowbytes(png, info) == stride, "rowbytes %zu != %zu",
          (size_t)png_get_rowbytes(png, info), stride);
    st->px = xmalloc(stride * h);
    st->rows = xmalloc(sizeof(png_bytep) * h);
    for (png_uint_32 y = 0; y < h; y++) st->rows[y] = st->px + y * stride;
    png_read_image(png, st->rows);
    png_read_end(png, NULL);
    *w_out = (int)w;
    *h_out = (int)h;
    return c;
}

int png_read(const char *path, Image *img, Err *err) {
    memset(img, 0, sizeof *img);
    if (path_check_file(path, "PNG file", err) < 0) return -1;   // a FIFO would block, a folder read as empty
    FILE *fp = fopen(path, "rb");
    if (!fp) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    unsigned char sig[8];
    errno = 0;
    size_t got = fread(sig, 1, 8, fp);
    if (got < 8 || png_sig_cmp(sig, 0, 8)) {
        int e = ferror(fp) ? errno : 0;
        fclose(fp);
        if (e) return err_set(err, "%s: cannot read: %s", path, strerror(e));
        return err_set(err, "%s: not a PNG file (%s)", path,
                       got == 0 ? "empty file" : got < 8 ? "shorter than a PNG signature" : "bad signature");
    }
    ReadState *st = xcalloc(1, sizeof *st);
    st->fp = fp;
    st->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &st->pe, png_error_fn, png_warning_fn);
    if (st->png) st->info = png_create_info_struct(st->png);
    if (!st->png || !st->info) {
        read_cleanup(st, 0);
        return err_set(err, "%s: libpng could not allocate its structures", path);
    }
    if (setjmp(st->pe.jb)) {
        err_set(err, "%s: truncated or corrupt PNG (libpng: %s)", path, st->pe.msg);
        read_cleanup(st, 0);
        return -1;
    }
    int w = 0, h = 0;   // written by read_body only when it returns normally
    int c = read_body(path, st, &w, &h, err);
    if (c < 0) { read_cleanup(st, 0); return -1; }
    img->w = w;
    img->h = h;
    img->c = c;
    img->px = st->px;
    read_cleanup(st, 1);
    return 0;
}

void image_free(Image *img) {
    if (!img) return;
    free(img->px);
    memset(img, 0, sizeof *img);
}

typedef struct {
    PngErr pe;
    FILE *fp;
    png_structp png;
    png_infop info;
    png_bytep *rows;
} WriteState;

static void write_body(WriteState *st, const uint8_t *px, int w, int h, int c) {
    png_init_io(st->png, st->fp);
    png_set_IHDR(st->png, st->info, (png_uint_32)w, (png_uint_32)h, 8,
                 c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(st->png, 6);
    st->rows = xmalloc(sizeof(png_bytep) * h);
    for (int y = 0; y < h; y++) st->rows[y] = (png_bytep)(px + (size_t)y * w * c);
    png_write_info(st->png, st->info);
    png_write_image(st->png, st->rows);
    png_write_end(st->png, NULL);
}

int png_write(const char *path, const uint8_t *px, int w, int h, int c, Err *err) {
    CHECK(c == 1 || c == 3, "png_write: %d channels", c);
    CHECK(w > 0 && h > 0 && w <= PNG_MAX_SIDE && h <= PNG_MAX_SIDE, "png_write: %dx%d", w, h);
    size_t n = strlen(path) + 5;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp", path);
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        err_set(err, "%s: cannot create %s: %s", path, tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    WriteState *st = xcalloc(1, sizeof *st);
    st->fp = fp;
    st->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &st->pe, png_error_fn, png_warning_fn);
    if (st->png) st->info = png_create_info_struct(st->png);
    int rc = 0;   // only assigned after setjmp has returned, never across a jump
    if (!st->png || !st->info) {
        rc = err_set(err, "%s: libpng could not allocate its structures", path);
    } else if (setjmp(st->pe.jb)) {
        rc = err_set(err, "%s: writing PNG failed (libpng: %s)", path, st->pe.msg);
    } else {
        write_body(st, px, w, h, c);
    }
    if (st->png) png_destroy_write_struct(&st->png, st->info ? &st->info : NULL);
    free(st->rows);
    int close_failed = fclose(st->fp) != 0;
    free(st);
    if (rc == 0 && close_failed) rc = err_set(err, "%s: writing %s failed: %s", path, tmp, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = err_set(err, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
    if (rc != 0) remove(tmp);
    free(tmp);
    return rc;
}

void image_to_planar(const Image *img, int c, float *dst) {
    CHECK(c == 1 || c == 3, "image_to_planar: %d channels", c);
    size_t hw = (size_t)img->w * img->h;
    const float s = 1.0f / 255.0f;
    for (size_t i = 0; i < hw; i++) {
        const uint8_t *p = img->px + i * img->c;
        if (c == img->c) {
            for (int k = 0; k < c; k++) dst[k * hw + i] = p[k] * s;
        } else if (c == 3) {   // grey -> RGB
            for (int k = 0; k < 3; k++) dst[k * hw + i] = p[0] * s;
        } else {               // RGB -> grey, ITU-R 601 luma
            dst[i] = (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]) * s;
        }
    }
}
