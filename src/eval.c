/*
 * eval.c - ./eval: evaluate trained emulators.
 *   ./eval --compare A.png B.png    L1, SSIM and PSNR of two images (evaluation/compare.c)
 *   ./eval [--run DIR] ...          open-loop rollout evaluation (not built yet)
 */
#include <stdio.h>
#include <string.h>

#include "evaluation/compare.h"
#include "nn/util.h"

static int compare_main(int argc, char **argv) {
    if (argc != 4) die("usage: eval --compare A.png B.png");
    Err err = {{0}};
    CompareResult r;
    if (compare_png_files(argv[2], argv[3], &r, &err) < 0) die("%s", err.msg);
    compare_print(stdout, argv[2], argv[3], &r);
    return 0;
}

int main(int argc, char **argv) {
    set_progname(argv[0]);
    if (argc >= 2 && !strcmp(argv[1], "--compare")) return compare_main(argc, argv);
    die("rollout evaluation is not built yet");
}
