#include <string.h>
#include "ek_app.h"
#include "ek_hal.h"

void line_start(ek_line *l, const char *prefix)
{
    l->n = 0;
    line_str(l, prefix);
}

/* Appends one character; a full buffer goes out as the first part of the line, so a reply may be
 * longer than the buffer (a raw result line of a 640-output model is ~3 kB) and never truncated. */
static void put(ek_line *l, char c)
{
    if (l->n >= sizeof(l->buf) - 2) { /* keep room for "\r\n" */
        hal_link_write(l->buf, l->n);
        l->n = 0;
    }
    l->buf[l->n++] = c;
}

void line_str(ek_line *l, const char *s)
{
    while (*s)
        put(l, *s++);
}

static void put_u64(ek_line *l, uint64_t u, int min_digits)
{
    char tmp[24];
    int i = 0;
    do {
        tmp[i++] = (char)('0' + u % 10);
        u /= 10;
    } while (u || i < min_digits);
    while (i)
        put(l, tmp[--i]);
}

void line_int(ek_line *l, int64_t v)
{
    if (v < 0)
        put(l, '-');
    put_u64(l, v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v, 1);
}

/* v = m * 2^e exactly, written in decimal for e >= 0: the digits of m doubled e times (float32
 * tops out at 39 digits), so even 3.4e38 prints exactly as printf would. */
static void put_scaled_int(ek_line *l, uint32_t m, int e)
{
    uint8_t d[40]; /* little-endian decimal digits */
    int n = 0;
    do {
        d[n++] = (uint8_t)(m % 10);
        m /= 10;
    } while (m);
    while (e-- > 0) {
        int carry = 0;
        for (int i = 0; i < n; i++) {
            int x = d[i] * 2 + carry;
            d[i] = (uint8_t)(x % 10);
            carry = x / 10;
        }
        if (carry && n < (int)sizeof d) d[n++] = (uint8_t)carry;
    }
    while (n)
        put(l, (char)('0' + d[--n]));
}

/* printf("%.3f", (double)v) without libc float formatting (not in newlib-nano's printf): the exact
 * decimal value of the float32 rounded to 3 decimals, ties to even, as glibc printf and Python's
 * '%.3f' % v do. The sign is kept for negative values that round to zero ("-0.000"). */
void line_fixed3(ek_line *l, float v)
{
    union { float f; uint32_t u; } b;
    b.f = v;
    uint32_t m = b.u & 0x7FFFFFu;
    int e = (int)((b.u >> 23) & 0xFFu);
    if (e == 0xFF) {
        line_str(l, m ? "nan" : (b.u >> 31) ? "-inf" : "inf");
        return;
    }
    if (b.u >> 31)
        put(l, '-');
    if (e) m |= 0x800000u; else e = 1; /* normal / subnormal */
    e -= 150;                           /* |v| = m * 2^e */
    if (e >= 0) {
        put_scaled_int(l, m, e);
        line_str(l, ".000");
        return;
    }
    uint64_t x = (uint64_t)m * 1000u; /* < 2^34: |v| * 1000 = x / 2^k */
    int k = -e;
    uint64_t q = 0;
    if (k < 64) {
        uint64_t rem = x & ((1ull << k) - 1), half = 1ull << (k - 1);
        q = x >> k;
        if (rem > half || (rem == half && (q & 1))) q++;
    } /* else x / 2^k < 2^-30: rounds to 0 */
    put_u64(l, q / 1000, 1);
    put(l, '.');
    put_u64(l, q % 1000, 3);
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
