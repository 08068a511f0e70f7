"""Apply one Pillow operation to every image of a folder tree.

Every file under --input-path (searched recursively) whose extension is one of
--extensions is opened, transformed by --operation and written under --output-path at the
same relative path, in the same format unless --format names another. One line is printed
per image written; the script exits with status 1 when there is no image to transform.
"""

import argparse
from pathlib import Path

from PIL import Image, ImageOps

FORMATS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp", "bmp": ".bmp", "tiff": ".tiff"}


def parse_args():
    parser = argparse.ArgumentParser(description="Transform every image of a folder with Pillow")
    parser.add_argument("--input-path", type=Path, required=True,
                        help="folder of images, searched recursively")
    parser.add_argument("--output-path", type=Path, required=True,
                        help="folder for the transformed images (created)")
    parser.add_argument("--operation", default="resize",
                        choices=["resize", "grayscale", "rotate", "flip", "thumbnail"],
                        help="resize: to width x height; thumbnail: shrink only; "
                             "rotate: by --angle; flip: mirror left to right")
    parser.add_argument("--width", type=int, default=128, help="target width in pixels")
    parser.add_argument("--height", type=int, default=128, help="target height in pixels")
    parser.add_argument("--angle", type=float, default=90.0,
                        help="degrees counter-clockwise for rotate")
    parser.add_argument("--extensions", nargs="+", default=["png", "jpg", "jpeg"],
                        help="file extensions to transform, case-insensitive")
    parser.add_argument("--keep-aspect", action=argparse.BooleanOptionalAction, default=True,
                        help="resize and thumbnail fit inside width x height keeping the "
                             "aspect ratio; without it, resize stretches and thumbnail crops")
    parser.add_argument("--format", choices=sorted(FORMATS), default=None,
                        help="output format (default: keep each image's format)")
    return parser.parse_args()


def find_images(root, extensions, skip):
    wanted = {e.lower().lstrip(".") for e in extensions}
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and p.suffix.lower().lstrip(".") in wanted
                  and skip not in p.resolve().parents)


def transform(image, args):
    size = (args.width, args.height)
    if args.operation == "resize":
        return ImageOps.contain(image, size) if args.keep_aspect else image.resize(size)
    if args.operation == "thumbnail":
        if not args.keep_aspect:
            return ImageOps.fit(image, size)
        image = image.copy()
        image.thumbnail(size)
        return image
    if args.operation == "grayscale":
        return image.convert("LA" if "A" in image.getbands() else "L")
    if args.operation == "rotate":
        return image.rotate(args.angle, resample=Image.Resampling.BICUBIC, expand=True)
    return ImageOps.mirror(image)


def flatten(image):
    """The image on a white background, for formats without transparency (JPEG)."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def main():
    args = parse_args()
    if not args.input_path.is_dir():
        raise SystemExit(f"error: --input-path {args.input_path} is not a folder")
    sources = find_images(args.input_path, args.extensions, args.output_path.resolve())
    if not sources:
        raise SystemExit(f"error: no {', '.join(args.extensions)} images under {args.input_path}")

    for source in sources:
        target = args.output_path / source.relative_to(args.input_path)
        if args.format:
            target = target.with_suffix(FORMATS[args.format])
        with Image.open(source) as original:
            image = transform(ImageOps.exif_transpose(original), args)
        if target.suffix.lower() in {".jpg", ".jpeg"} and image.mode not in {"RGB", "L"}:
            image = flatten(image)
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target)
        print(f"{source} ({original.width}x{original.height} {original.mode}) -> "
              f"{target} ({image.width}x{image.height} {image.mode})")
    print(f"{len(sources)} image(s) written to {args.output_path}")


if __name__ == "__main__":
    main()
