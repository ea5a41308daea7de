// PNG files in Node through pngjs (a maintained encoder; loaded on first use, so browsers never fetch it — there,
// draw an RGBAImage with `new ImageData(img.data, img.width, img.height)` or canvas.toBlob instead).
import { fmt } from '../layers/layer.js';
import { toRGBA, type GrayImage, type RGBAImage } from './images.js';

type PngModule = { PNG: { sync: { write(png: { width: number; height: number; data: Uint8Array }, opts?: object): Uint8Array } } };
let pngjs: Promise<PngModule> | null = null;

function asRGBA(where: string, img: GrayImage | RGBAImage): RGBAImage {
  if (!img || !Number.isInteger(img.width) || !Number.isInteger(img.height)) throw new Error(`${where}: img must be an image { width, height, data }, got ${fmt(img)}`);
  if (img.data instanceof Float32Array) return toRGBA(img as GrayImage);
  if (img.data instanceof Uint8ClampedArray && img.data.length === img.width * img.height * 4) return img as RGBAImage;
  throw new Error(`${where}: img.data must be a Float32Array of width·height gray values or a Uint8ClampedArray of width·height·4 RGBA bytes`);
}

/** PNG bytes of a grayscale or RGBA image (Node; needs the pngjs package). */
export async function encodePng(img: GrayImage | RGBAImage): Promise<Uint8Array> {
  const rgba = asRGBA('encodePng', img);
  const name = 'pngjs';
  pngjs ??= import(/* @vite-ignore */ name).then((m) => (m.PNG ? m : m.default) as PngModule);
  const { PNG } = await pngjs;
  const bytes = PNG.sync.write({ width: rgba.width, height: rgba.height, data: new Uint8Array(rgba.data.buffer, rgba.data.byteOffset, rgba.data.length) });
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Node: writes img as a PNG file (creating its directory). Resolves to the path. */
export async function writePng(path: string, img: GrayImage | RGBAImage): Promise<string> {
  if (typeof path !== 'string' || !path) throw new Error(`writePng: path must be a non-empty string, got ${fmt(path)}`);
  const bytes = await encodePng(img);
  const fs = 'node:fs/promises', p = 'node:path';
  const { mkdir, writeFile } = await import(/* @vite-ignore */ fs);
  const { dirname } = await import(/* @vite-ignore */ p);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return path;
}
