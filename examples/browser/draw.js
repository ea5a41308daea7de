// The drawing pad: a canvas the user draws on with the mouse (or touch), and the conversion of the drawing into an
// MNIST-like 28×28 digit, the way MNIST's digits were made: the ink's bounding box scaled to fit 20×20 (aspect kept),
// then placed in the 28×28 frame so that its centre of mass is at the centre.

/** Makes `canvas` drawable (white strokes on black); calls onStroke() at the end of every stroke. */
export function drawingPad(canvas, onStroke) {
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const clear = () => { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, canvas.width, canvas.height); };
  clear();
  ctx.strokeStyle = '#fff';
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.lineWidth = Math.round(canvas.width / 12);
  let last = null;
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * (canvas.width / r.width), (e.clientY - r.top) * (canvas.height / r.height)];
  };
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...last); ctx.stroke();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...p); ctx.stroke();
    last = p;
  });
  const end = () => { if (last) { last = null; onStroke(); } };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  return { clear, ctx };
}

/**
 * The drawing as 28×28 values in [0, 1] (row-major), or null when nothing is drawn.
 * Reads the red channel (the pad draws white on black).
 */
export function toDigit(canvas) {
  const { width: W, height: H } = canvas;
  const src = canvas.getContext('2d').getImageData(0, 0, W, H).data;
  let x0 = W, y0 = H, x1 = -1, y1 = -1;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    if (src[4 * (y * W + x)] > 20) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  }
  if (x1 < 0) return null;
  // Scale the box into 20×20 on a small canvas (the browser's smoothing averages the pixels).
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1, s = 20 / Math.max(bw, bh);
  const w = Math.max(1, Math.round(bw * s)), h = Math.max(1, Math.round(bh * s));
  const small = new OffscreenCanvas(28, 28);
  const sctx = small.getContext('2d', { willReadFrequently: true });
  sctx.imageSmoothingEnabled = true;
  sctx.imageSmoothingQuality = 'high';
  sctx.fillStyle = '#000';
  sctx.fillRect(0, 0, 28, 28);
  sctx.drawImage(canvas, x0, y0, bw, bh, 0, 0, w, h);
  const px = sctx.getImageData(0, 0, 28, 28).data;
  const box = new Float32Array(w * h);
  let mass = 0, cx = 0, cy = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = px[4 * (y * 28 + x)] / 255;
    box[y * w + x] = v; mass += v; cx += v * x; cy += v * y;
  }
  // Shift so the centre of mass lands on (13.5, 13.5), the centre of the frame; clipped to stay inside it.
  const ox = Math.min(28 - w, Math.max(0, Math.round(13.5 - cx / mass))), oy = Math.min(28 - h, Math.max(0, Math.round(13.5 - cy / mass)));
  const out = new Float32Array(28 * 28);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(y + oy) * 28 + x + ox] = box[y * w + x];
  return out;
}
