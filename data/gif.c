/*
 * gif.c - animated GIF writing with giflib (see gif.h).
 */
#include "data/gif.h"

#include <errno.h>
#include <fcntl.h>
#include <gif_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"

struct GifWriter {
    GifFileType *f;
    char path[1024], part[1040];
    int w, h, c, delay_cs, frames;
    uint8_t *idx, *r, *g, *b;   // [h*w] palette indices and RGB planes (RGB frames)
    ColorMapObject *map;        // RGB frames: the local palette of the frame being written
};

static int gif_fail(GifWriter *g, Err *err, const char *what, int code) {
    return err_set(err, "%s: %s failed (giflib: %s)", g->path, what, GifErrorString(code));
}

GifWriter *gif_open(const char *path, int w, int h, int c, int delay_cs, Err *err) {
    if (w < 1 || h < 1 || w > 65535 || h > 65535 || (c != 1 && c != 3) || delay_cs < 0 || delay_cs > 65535) {
        err_set(err, "%s: cannot write a %dx%d GIF with %d channel(s) and delay %d", path, w, h, c, delay_cs);
        return NULL;
    }
    GifWriter *g = xcalloc(1, sizeof *g);
    snprintf(g->path, sizeof g->path, "%s", path);
    snprintf(g->part, sizeof g->part, "%s.part", path);
    g->w = w, g->h = h, g->c = c, g->delay_cs = delay_cs;
    int code = 0, fd = open(g->part, O_WRONLY | O_CREAT | O_TRUNC, 0666);   // giflib's own open makes 0600 files
    g->f = fd >= 0 ? EGifOpenFileHandle(fd, &code) : NULL;
    if (!g->f) {
        err_set(err, "%s: cannot create %s: %s", path, g->part, fd < 0 ? strerror(errno) : GifErrorString(code));
        if (fd >= 0) close(fd), remove(g->part);
        free(g);
        return NULL;
    }
    ColorMapObject *grey = NULL;
    if (c == 1) {
        GifColorType col[256];
        for (int i = 0; i < 256; i++) col[i].Red = col[i].Green = col[i].Blue = (GifByteType)i;
        grey = GifMakeMapObject(256, col);
    }
    EGifSetGifVersion(g->f, true);
    int ok = EGifPutScreenDesc(g->f, w, h, 8, 0, grey) == GIF_OK;
    GifFreeMapObject(grey);
    // NETSCAPE2.0 application extension: loop forever
    static const GifByteType app[] = "NETSCAPE2.0", loop[] = {1, 0, 0};
    ok = ok && EGifPutExtensionLeader(g->f, APPLICATION_EXT_FUNC_CODE) == GIF_OK &&
         EGifPutExtensionBlock(g->f, 11, app) == GIF_OK && EGifPutExtensionBlock(g->f, 3, loop) == GIF_OK &&
         EGifPutExtensionTrailer(g->f) == GIF_OK;
    if (!ok) {
        gif_fail(g, err, "writing the header", g->f->Error);
        gif_abort(g);
        return NULL;
    }
    size_t n = (size_t)w * h;
    g->idx = xmalloc(n);
    if (c == 3) g->r = xmalloc(n), g->g = xmalloc(n), g->b = xmalloc(n), g->map = GifMakeMapObject(256, NULL);
    return g;
}

int gif_add(GifWriter *g, const uint8_t *px, Err *err) {
    size_t n = (size_t)g->w * g->h;
    ColorMapObject *local = NULL;
    if (g->c == 1) {
        memcpy(g->idx, px, n);
    } else {
        for (size_t i = 0; i < n; i++) g->r[i] = px[3 * i], g->g[i] = px[3 * i + 1], g->b[i] = px[3 * i + 2];
        int size = 256;
        if (GifQuantizeBuffer((unsigned)g->w, (unsigned)g->h, &size, g->r, g->g, g->b, g->idx, g->map->Colors) !=
            GIF_OK)
            return err_set(err, "%s: cannot quantise frame %d to 256 colours", g->path, g->frames);
        local = g->map;
    }
    GraphicsControlBlock gcb = {.DisposalMode = DISPOSE_DO_NOT, .UserInputFlag = false,
                                .DelayTime = g->delay_cs, .TransparentColor = NO_TRANSPARENT_COLOR};
    GifByteType ext[4];
    size_t len = EGifGCBToExtension(&gcb, ext);
    if (EGifPutExtension(g->f, GRAPHICS_EXT_FUNC_CODE, (int)len, ext) != GIF_OK)
        return gif_fail(g, err, "writing a frame's delay", g->f->Error);
    if (EGifPutImageDesc(g->f, 0, 0, g->w, g->h, false, local) != GIF_OK)
        return gif_fail(g, err, "writing a frame", g->f->Error);
    for (int y = 0; y < g->h; y++)
        if (EGifPutLine(g->f, g->idx + (size_t)y * g->w, g->w) != GIF_OK)
            return gif_fail(g, err, "writing a frame", g->f->Error);
    g->frames++;
    return 0;
}

static void gif_free(GifWriter *g) {
    free(g->idx), free(g->r), free(g->g), free(g->b);
    GifFreeMapObject(g->map);
    free(g);
}

int gif_close(GifWriter *g, Err *err) {
    int code = 0, rc = 0;
    if (EGifCloseFile(g->f, &code) != GIF_OK) rc = err_set(err, "%s: cannot finish the file (giflib: %s)", g->path,
                                                           GifErrorString(code));
    if (!rc && rename(g->part, g->path) != 0) rc = err_set(err, "%s: cannot rename %s into place", g->path, g->part);
    if (rc) remove(g->part);
    gif_free(g);
    return rc;
}

void gif_abort(GifWriter *g) {
    if (!g) return;
    int code;
    EGifCloseFile(g->f, &code);
    remove(g->part);
    gif_free(g);
}
