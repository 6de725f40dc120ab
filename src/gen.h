/* gen.h - subcommands of ./gen, each a main() of its own (src/gen_*.c). */
#ifndef NEMU_GEN_H
#define NEMU_GEN_H
int gen_tetris_main(int argc, char **argv);   // ./gen tetris ...   (src/gen_tetris.c)
int gen_import_main(int argc, char **argv);   // ./gen import ...   (src/gen_import.c)
int gen_info_main(int argc, char **argv);     // ./gen info FILE    (src/gen_info.c)
#include "data/game.h"
// ./gen NAME for a built-in game with GameDef.title and edge_case (src/gen_game.c)
int gen_game_main(const GameDef *g, int argc, char **argv);

#endif
