#include <string.h>
#include "ek_app.h"
#include "ek_hal.h"

void line_start(ek_line *l, const char *prefix)
{
    l->n = 0;
    line_str(l, prefix);
}

void line_str(ek_line *l, const char *s)
{
    while (*s && l->n < sizeof(l->buf) - 3)
        l->buf[l->n++] = *s++;
}

void line_int(ek_line *l, int64_t v)
{
    char tmp[24];
    int i = 0;
    uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    do {
        tmp[i++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[i++] = '-';
    while (i && l->n < sizeof(l->buf) - 3)
        l->buf[l->n++] = tmp[--i];
}

void line_send(ek_line *l)
{
    l->buf[l->n++] = '\r';
    l->buf[l->n++] = '\n';
    hal_link_write(l->buf, l->n);
}

void reply(const char *text)
{
    ek_line l;
    line_start(&l, text);
    line_send(&l);
}

/* The flashing issue's SMP server sends its replies through this. */
void ek_mgmt_tx(const uint8_t *buf, size_t len)
{
    hal_link_write(buf, len);
}
