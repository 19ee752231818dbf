/* Shared pieces of the car app: reply formatting, the inference buffers, the drive loop. */
#ifndef EK_APP_H
#define EK_APP_H
#include <stddef.h>
#include <stdint.h>
#include "ek_model.h"

/* Line building without printf (no malloc, no float formatting in libc). A line longer than the
 * buffer goes out in parts (never truncated). */
typedef struct { char buf[1024]; size_t n; } ek_line;
void line_start(ek_line *l, const char *prefix);
void line_str(ek_line *l, const char *s);
void line_int(ek_line *l, int64_t v);
void line_fixed3(ek_line *l, float v); /* as printf("%.3f", (double)v) */
void line_send(ek_line *l); /* appends "\r\n" and writes to the link */
void reply(const char *text);  /* one whole line */

extern int8_t ek_input[EK_MODEL_INPUT_BYTES];
extern int8_t ek_output[EK_MODEL_OUTPUT_BYTES];

/* MLPerf Tiny DUT commands (ek_dut.c); returns 1 if handled. */
int dut_command(char *cmd);
/* Drive commands and the control loop (ek_drive.c). */
int drive_command(char *cmd);
void drive_init(void);
void drive_poll(uint64_t now_us);
void drive_link_activity(uint64_t now_us);
#endif
