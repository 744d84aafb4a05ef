#!/usr/bin/env python3
"""render.py -- the renderer of examples/sunset-generate: writes a 320x240 PNG
filled with one colour, with nothing but Python's standard library (zlib).

usage: render.py R G B OUTPUT.png      (what sunset.json's "command" runs)

`loupe generate` also passes the params as $LOUPE_PARAM_R, ... and as the JSON
file $LOUPE_PARAMS_JSON; a renderer may read them instead of its arguments.
"""
import struct
import sys
import zlib

WIDTH, HEIGHT = 320, 240


def chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(r: int, g: int, b: int) -> bytes:
    row = b"\x00" + bytes((r, g, b)) * WIDTH  # filter type 0, then RGB pixels
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", zlib.compress(row * HEIGHT, 9)) + chunk(b"IEND", b""))


def main() -> int:
    if len(sys.argv) != 5:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        r, g, b = (int(v) for v in sys.argv[1:4])
    except ValueError:
        print(f"render.py: R, G and B must be integers, not {sys.argv[1:4]}", file=sys.stderr)
        return 2
    if not all(0 <= v <= 255 for v in (r, g, b)):
        print(f"render.py: R, G and B must be from 0 to 255, not {r} {g} {b}", file=sys.stderr)
        return 2
    with open(sys.argv[4], "wb") as f:
        f.write(png(r, g, b))
    return 0


if __name__ == "__main__":
    sys.exit(main())
