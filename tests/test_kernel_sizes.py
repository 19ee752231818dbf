"""The lowering plans each kernel's scratch and checks its limits with sizes that ek_kernels.h
defines as macros (the C side's home); edgekit.codegen.lower_conv restates them. Compiled here, the
macros must give what the Python gives, for every shape the kernels take."""
from __future__ import annotations

import subprocess
from pathlib import Path

from edgekit.codegen import lower_conv

RUNTIME = Path(__file__).resolve().parents[1] / "firmware" / "runtime"

_PRINT = r"""
#include <stdio.h>
#include "ek_kernels.h"
int main(void) {
    int k_h, s, w, c;
    printf("%d %d\n", EK_CONV_ROWS_MAX_RING, EK_CONV_PW_CHUNK);
    for (k_h = 1; k_h <= 7; ++k_h)
        for (s = 1; s <= 3; ++s)
            for (w = 1; w <= 20; ++w) printf("%d ", EK_CONV_ROWS_RING(k_h, s, w));
    printf("\n");
    for (c = 4; c <= EK_CONV_PW_CHUNK / 8; c += 4) printf("%d ", EK_CONV_PW_PIXELS(c));
    printf("\n%d %d\n", EK_CONV_FIRST16_MAX_GROUPS, EK_CONV_FIRST16_BLOCK);
    for (w = 1; w <= 40; w += 3)   /* out_w, stride_w, k_w = k_h, in_c */
        for (s = 1; s <= 2; ++s)
            for (k_h = 1; k_h <= 4; ++k_h)
                for (c = 1; c <= 4; ++c)
                    printf("%zu %zu ", EK_CONV_FIRST_ROW_BYTES(w, s, k_h, c), EK_CONV_FIRST16_SCRATCH(w, s, k_h, k_h, c));
    printf("\n");
    return 0;
}
"""


def test_the_lowering_restates_ek_kernels_h_sizes_exactly(tmp_path):
    (tmp_path / "sizes.c").write_text(_PRINT)
    exe = tmp_path / "sizes"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{RUNTIME / 'include'}",
                    str(tmp_path / "sizes.c"), "-o", str(exe)], check=True)
    consts, ring, pw, c16, first = subprocess.run([str(exe)], capture_output=True, text=True,
                                                  check=True).stdout.splitlines()
    assert [int(v) for v in consts.split()] == [lower_conv.ROWS_MAX_RING, lower_conv.PW_CHUNK]
    assert [int(v) for v in ring.split()] == [lower_conv.rows_ring(k_h, s, w) for k_h in range(1, 8)
                                              for s in range(1, 4) for w in range(1, 21)]
    assert [int(v) for v in pw.split()] == [lower_conv.pw_pixels(c) for c in range(4, lower_conv.PW_CHUNK // 8 + 1, 4)]
    assert [int(v) for v in c16.split()] == [lower_conv.FIRST16_MAX_GROUPS, lower_conv.FIRST16_BLOCK]
    assert [int(v) for v in first.split()] == [v for w in range(1, 41, 3) for s in (1, 2) for k in range(1, 5)
                                               for c in range(1, 5)
                                               for v in (lower_conv.first_row_bytes(w, s, k, c),
                                                         lower_conv.first16_scratch(w, s, k, k, c))]
