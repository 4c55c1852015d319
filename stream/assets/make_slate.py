"""Dev-time tool: render stream/assets/slate.png (1280x720) with Pillow and Debian's Noto Sans.

Pillow is not a runtime dependency; run this by hand after changing the wording and commit the PNG:
    pip install pillow; apt-get install fonts-noto-core; python stream/assets/make_slate.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"
OUT = Path(__file__).with_name("slate.png")
SIZE = (1280, 720)
BACKGROUND = (18, 28, 44)  # dark calm blue
MAIN = ("Phiên đối thoại sẽ tiếp tục trong giây lát", 48, (236, 236, 236))
SUB = ("The dialogue will resume shortly", 30, (150, 162, 180))


def main() -> None:
    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    cx, cy = SIZE[0] / 2, SIZE[1] / 2
    # A thin rule between the two lines; anchors "md"/"ma" centre each line on it.
    draw.line([(cx - 160, cy + 10), (cx + 160, cy + 10)], fill=(70, 84, 108), width=2)
    text, size, colour = MAIN
    draw.text((cx, cy - 14), text, font=ImageFont.truetype(FONT, size), fill=colour, anchor="md")
    text, size, colour = SUB
    draw.text((cx, cy + 34), text, font=ImageFont.truetype(FONT, size), fill=colour, anchor="ma")
    # Few colours compress far better than full-colour antialiasing.
    image.quantize(colors=32, dither=Image.Dither.NONE).save(OUT, optimize=True)


if __name__ == "__main__":
    main()
