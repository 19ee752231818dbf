/* Call log and handle accounting shared by the vendor-library twins (one copy per library).
 * Tests read the log with ektwin_log(), count live handles with ektwin_live() and make one
 * named entry point fail with ektwin_fail(name, status) to drive the caller's error paths. */
#ifndef EKTWIN_LOG_H
#define EKTWIN_LOG_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char ektwin_log_buf[65536];
static size_t ektwin_log_len;
static long ektwin_live_handles;
static char ektwin_fail_name[64];
static int ektwin_fail_status;

static void ektwin_record(const char *fmt, ...)
{
    va_list ap;
    int n;
    if (ektwin_log_len >= sizeof ektwin_log_buf - 1) return;
    va_start(ap, fmt);
    n = vsnprintf(ektwin_log_buf + ektwin_log_len, sizeof ektwin_log_buf - ektwin_log_len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        ektwin_log_len += (size_t)n;
        if (ektwin_log_len > sizeof ektwin_log_buf - 2) ektwin_log_len = sizeof ektwin_log_buf - 2;
        ektwin_log_buf[ektwin_log_len++] = '\n';
        ektwin_log_buf[ektwin_log_len] = '\0';
    }
}

/* Nonzero when the test asked `fn` to fail; the status to return is in ektwin_fail_status. */
static int ektwin_should_fail(const char *fn)
{
    return ektwin_fail_name[0] != '\0' && strcmp(ektwin_fail_name, fn) == 0;
}

const char *ektwin_log(void) { return ektwin_log_buf; }
long ektwin_live(void) { return ektwin_live_handles; }
void ektwin_reset(void)
{
    ektwin_log_len = 0;
    ektwin_log_buf[0] = '\0';
    ektwin_fail_name[0] = '\0';
}
void ektwin_fail(const char *fn, int status)
{
    snprintf(ektwin_fail_name, sizeof ektwin_fail_name, "%s", fn ? fn : "");
    ektwin_fail_status = status;
}

#endif
