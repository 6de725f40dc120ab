/*
 * gen.c - ./gen: make and inspect episode datasets.
 *   ./gen tetris [--episodes N --steps T --seed S --frame-skip K] --out FILE   record the built-in game
 *   ./gen scroller|maze ...  (same options)                                          another built-in game
 *   ./gen import --frames DIR --actions FILE.csv --out FILE                    PNG frames + CSV -> dataset
 *   ./gen info [--accept-odd] FILE                                             summary and validation
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "src/gen.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: gen tetris [--episodes N] [--steps T] [--seed S] [--frame-skip K] --out FILE.h5\n"
            "       gen scroller|maze [same options as gen tetris; gen scroller --help]\n"
            "       gen import --frames DIR --actions FILE.csv --out FILE.h5\n"
            "       gen info [--accept-odd] FILE.h5   (--accept-odd: gaps in the episode ids, extra root objects)\n");
}

int main(int argc, char **argv) {
    set_progname(argv[0]);
    if (argc < 2) { usage(stderr); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) { usage(stdout); return 0; }
    if (!strcmp(cmd, "tetris")) return gen_tetris_main(argc - 1, argv + 1);
    const GameDef *g = game_find(cmd);
    if (g && g->edge_case) return gen_game_main(g, argc - 1, argv + 1);
    if (!strcmp(cmd, "import")) return gen_import_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "info")) return gen_info_main(argc - 1, argv + 1);
    die("unknown command '%s' (expected tetris, scroller, maze, import or info; see gen --help)", cmd);
}
