"""Benchmark fixtures for scripts/bench-thumbnails.sh: `python3 thumbnail_fixtures.py DIR`.

Photo-like images (a scene of soft gradients and hard-edged shapes under sensor grain; at
JPEG quality 90 about 3 bits per pixel, like a camera's photos), a screenshot-like PNG
(flat panels and lines of "text", what PNG uploads mostly are) and a noise PNG, the worst
case for decoding. Deterministic: fixed seeds.
"""

import random
import sys

from PIL import Image, ImageChops, ImageDraw, ImageFilter


def photo(w, h):
    random.seed(7)
    small = (max(1, w // 16), max(1, h // 16))
    base = Image.linear_gradient("L").resize(small).convert("RGB")
    channels = [Image.effect_noise(small, 60).point(lambda v, o=o: min(255, max(0, v + o))) for o in (-20, 10, 30)]
    base = Image.blend(base, Image.merge("RGB", channels), 0.5).filter(ImageFilter.GaussianBlur(6))
    draw = ImageDraw.Draw(base)
    for _ in range(60):
        x, y = random.randrange(small[0]), random.randrange(small[1])
        r = random.randrange(3, max(4, small[0] // 8))
        shape = draw.ellipse if random.random() < 0.5 else draw.rectangle
        shape((x, y, x + r, y + r * 2 // 3), fill=tuple(random.randrange(256) for _ in range(3)))
    img = base.resize((w, h), Image.BICUBIC)
    return ImageChops.add(img, Image.effect_noise((w, h), 12).convert("RGB"), offset=-128)


def screenshot(w, h):
    random.seed(3)
    img = Image.new("RGB", (w, h), (246, 247, 249))
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y = random.randrange(w), random.randrange(h)
        fill = tuple(random.randrange(180, 256) for _ in range(3))
        draw.rectangle((x, y, x + random.randrange(80, 600), y + random.randrange(30, 300)), fill=fill, outline=(120, 120, 130))
    for row in range(0, h, 18):
        x = random.randrange(0, 200)
        while x < w - 80:
            word = random.randrange(12, 70)
            draw.rectangle((x, row + 5, x + word, row + 12), fill=(40, 40, 48))
            x += word + 8
    return img


def main(out):
    photo(4000, 3000).save(f"{out}/photo-4000x3000.jpg", quality=90)
    photo(8000, 6000).save(f"{out}/photo-8000x6000.jpg", quality=90)
    photo(1920, 1080).save(f"{out}/photo-1920x1080.png")
    screenshot(1920, 1080).save(f"{out}/screen-1920x1080.png")
    random.seed(1)
    Image.effect_noise((1920, 1080), 64).convert("RGB").save(f"{out}/noise-1920x1080.png")


if __name__ == "__main__":
    main(sys.argv[1])
