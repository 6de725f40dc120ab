/* train.c - ./train (not written yet). */
#include "nn/util.h"
int main(int argc, char **argv) { (void)argc; set_progname(argv[0]); die("not implemented yet"); }
