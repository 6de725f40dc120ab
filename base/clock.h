/* clock.h - the monotonic clock every timing in nemu reads. */
#ifndef NEMU_CLOCK_H
#define NEMU_CLOCK_H

double now_seconds(void);                // monotonic clock, seconds

#endif
