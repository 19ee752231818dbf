/* Default management-frame sink: the flashing issue's SMP server (firmware/mgmt/) overrides it
 * with a strong ek_mgmt_rx_frame. Without it, SMP frames on the link are ignored. */
#include <stddef.h>
#include <stdint.h>

__attribute__((weak)) void ek_mgmt_rx_frame(const uint8_t *buf, size_t len)
{
    (void)buf;
    (void)len;
}

__attribute__((weak)) void ek_mgmt_selftest_done(int ok, int32_t detail)
{
    (void)ok;
    (void)detail;
}
