/* gen_info.c - ./gen info (not written yet). */
#include "nn/util.h"
#include "src/gen.h"
int gen_info_main(int argc, char **argv) { (void)argc; (void)argv; die("gen info: not implemented yet"); }
