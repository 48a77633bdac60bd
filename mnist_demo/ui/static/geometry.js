// MNIST's geometry in the browser: the canvas's ink map -> the 28x28 model input, step for step what
// mnist_demo/reading/geometry.py does, so the page's input is the server's (tests/browser/test_device.py
// and bench/device_parity.py compare them on thousands of drawings).
//
// Every value that NumPy keeps in float32 is rounded to float32 here too (Math.fround after each
// operation: one double operation rounded once is the float32 result), PIL's BOX resampling is its
// own algorithm (Pillow's Resample.c: double weights, double sums, float32 pixels), Python's round()
// rounds half to even, and sums follow NumPy's float32 pairwise summation. The constants come from
// Python (`GEOMETRY`, written before this file by ui/device.py), one home for each.
'use strict';
const MnistGeometry = (() => {
  const G = (typeof GEOMETRY !== 'undefined') ? GEOMETRY : globalThis.GEOMETRY;
  const F = Math.fround;
  const LEVEL = F(0.05);  // "ink" in the bounding box and in the stroke-width percentile

  function img(h, w, d) { return { h, w, d: d || new Float32Array(h * w) }; }

  function roundHalfEven(x) {  // Python's round()
    const r = Math.round(x);
    return (Math.abs(x % 1) === 0.5 && r % 2 !== 0) ? r - 1 : r;
  }

  // NumPy's pairwise sum of float32 values (its add.reduce on a contiguous run), float32 throughout.
  function pairwise(d, start, n) {
    if (n < 8) {
      let res = F(0);  // NumPy starts from -0.0 and adds; the same value for these sums
      for (let i = 0; i < n; i++) res = F(res + d[start + i]);
      return res;
    }
    if (n <= 128) {
      const r = new Float32Array(8);
      for (let j = 0; j < 8; j++) r[j] = d[start + j];
      let i = 8;
      for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = F(r[j] + d[start + i + j]);
      let res = F(F(F(r[0] + r[1]) + F(r[2] + r[3])) + F(F(r[4] + r[5]) + F(r[6] + r[7])));
      for (; i < n; i++) res = F(res + d[start + i]);
      return res;
    }
    let n2 = Math.floor(n / 2);
    n2 -= n2 % 8;
    return F(pairwise(d, start, n2) + pairwise(d, start + n2, n - n2));
  }
  const total = (im) => pairwise(im.d, 0, im.d.length);

  function maxOf(im) { let m = -Infinity; for (const v of im.d) if (v > m) m = v; return m; }

  function isBlank(im) {
    return im.d.length === 0 || maxOf(im) < G.MIN_INK || total(im) < G.MIN_INK_FRACTION * im.d.length;
  }

  function boundingBox(im) {
    let top = -1, bottom = -1, left = im.w, right = -1;
    for (let y = 0; y < im.h; y++) {
      for (let x = 0; x < im.w; x++) {
        if (im.d[y * im.w + x] > LEVEL) {
          if (top < 0) top = y;
          bottom = y;
          if (x < left) left = x;
          if (x > right) right = x;
        }
      }
    }
    return top < 0 ? null : [top, bottom + 1, left, right + 1];
  }

  function crop(im, top, bottom, left, right) {
    const out = img(bottom - top, right - left);
    for (let y = top; y < bottom; y++) out.d.set(im.d.subarray(y * im.w + left, y * im.w + right), (y - top) * out.w);
    return out;
  }

  function cropToInk(im) {
    if (isBlank(im)) return null;
    const [t, b, l, r] = boundingBox(im);
    return crop(im, t, b, l, r);
  }

  // Pillow's precompute_coeffs for the BOX filter: (first source pixel, count, weights) per output pixel.
  function coefficients(inSize, outSize) {
    const scale = inSize / outSize;
    const filterscale = Math.max(scale, 1.0);
    const support = 0.5 * filterscale;
    const ss = 1.0 / filterscale;
    const out = [];
    for (let xx = 0; xx < outSize; xx++) {
      const center = (xx + 0.5) * scale;
      const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
      const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
      const k = new Float64Array(Math.max(xmax, 0));
      let ww = 0.0;
      for (let x = 0; x < xmax; x++) {
        const t = (x + xmin - center + 0.5) * ss;
        const w = (t > -0.5 && t <= 0.5) ? 1.0 : 0.0;
        k[x] = w; ww += w;
      }
      if (ww !== 0.0) for (let x = 0; x < xmax; x++) k[x] /= ww;
      out.push([xmin, xmax, k]);
    }
    return out;
  }

  // PIL's Image.resize(BOX) of a mode-F image (horizontal pass, then vertical), clipped to [0, 1].
  function resize(im, height, width) {
    let cur = im;
    if (width !== im.w) {
      const cs = coefficients(im.w, width), out = img(im.h, width);
      for (let y = 0; y < im.h; y++) {
        for (let xx = 0; xx < width; xx++) {
          const [xmin, n, k] = cs[xx];
          let s = 0.0;
          for (let x = 0; x < n; x++) s += cur.d[y * cur.w + x + xmin] * k[x];
          out.d[y * width + xx] = s;
        }
      }
      cur = out;
    }
    if (height !== im.h) {
      const cs = coefficients(im.h, height), out = img(height, cur.w);
      for (let yy = 0; yy < height; yy++) {
        const [ymin, n, k] = cs[yy];
        for (let x = 0; x < cur.w; x++) {
          let s = 0.0;
          for (let y = 0; y < n; y++) s += cur.d[(y + ymin) * cur.w + x] * k[y];
          out.d[yy * cur.w + x] = s;
        }
      }
      cur = out;
    }
    if (cur === im) cur = img(im.h, im.w, im.d.slice());
    for (let i = 0; i < cur.d.length; i++) cur.d[i] = Math.min(Math.max(cur.d[i], 0), 1);
    return cur;
  }

  function fitBox(cropped, side) {
    const scale = side / Math.max(cropped.h, cropped.w);
    return resize(cropped, Math.max(1, roundHalfEven(cropped.h * scale)), Math.max(1, roundHalfEven(cropped.w * scale)));
  }

  function strokeWidth(im) {
    const level = F(0.5 * maxOf(im));
    const { h, w, d } = im;
    const mask = new Uint8Array((h + 2) * (w + 2));  // padded by one: beyond the edges counts as no ink
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mask[(y + 1) * (w + 2) + x + 1] = d[y * w + x] > level ? 1 : 0;
    let outline = 0;
    for (let y = 0; y <= h; y++) for (let x = 1; x <= w; x++) outline += mask[y * (w + 2) + x] !== mask[(y + 1) * (w + 2) + x];
    for (let y = 1; y <= h; y++) for (let x = 0; x <= w; x++) outline += mask[y * (w + 2) + x] !== mask[y * (w + 2) + x + 1];
    return 2.0 * total(im) / Math.max(outline, 1);
  }

  function pad(im, top, bottom, left, right, value) {
    const out = img(im.h + top + bottom, im.w + left + right);
    if (value) out.d.fill(value);
    for (let y = 0; y < im.h; y++) out.d.set(im.d.subarray(y * im.w, (y + 1) * im.w), (y + top) * out.w + left);
    return out;
  }

  function shiftMax(im, axis) {  // each pixel and its two neighbours along the axis, the largest
    const out = img(im.h, im.w, im.d.slice()), { h, w, d } = im;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        let m = d[i];
        if (axis === 1) { if (x > 0) m = Math.max(m, d[i - 1]); if (x < w - 1) m = Math.max(m, d[i + 1]); }
        else { if (y > 0) m = Math.max(m, d[i - w]); if (y < h - 1) m = Math.max(m, d[i + w]); }
        out.d[i] = m;
      }
    }
    return out;
  }

  function diskMax(im, radius) {
    const runs = [im];
    for (let i = 0; i < radius; i++) runs.push(shiftMax(runs[runs.length - 1], 1));
    const { h, w } = im;
    const out = img(h, w, runs[radius].d.slice());
    for (let dy = 1; dy <= radius; dy++) {
      const run = runs[Math.trunc(Math.sqrt(radius * radius + radius - dy * dy))].d;
      for (let y = dy; y < h; y++) for (let x = 0; x < w; x++) {
        const i = y * w + x; out.d[i] = Math.max(out.d[i], run[i - dy * w]);
      }
      for (let y = 0; y < h - dy; y++) for (let x = 0; x < w; x++) {
        const i = y * w + x; out.d[i] = Math.max(out.d[i], run[i + dy * w]);
      }
    }
    return out;
  }

  const dilate = (im, r) => diskMax(pad(im, r, r, r, r, 0), r);

  function erode(im, r) {
    const inv = pad(im, r, r, r, r, 0);
    for (let i = 0; i < inv.d.length; i++) inv.d[i] = F(1.0 - inv.d[i]);
    const m = diskMax(inv, r);
    const out = crop(m, r, m.h - r, r, m.w - r);
    for (let i = 0; i < out.d.length; i++) out.d[i] = F(1.0 - out.d[i]);
    return out;
  }

  function percentile90(values) {  // numpy's default (linear) percentile of float32 values
    const a = values.slice().sort();
    const n = a.length;
    const v = n * 0.9 + (1 + 0.9 * (1 - 1 - 1)) - 1;  // numpy's virtual index, alpha = beta = 1
    const i = Math.max(0, Math.min(Math.floor(v), n - 1));
    const j = Math.min(i + 1, n - 1);
    const g = v - Math.floor(v);
    const diff = F(a[j] - a[i]);
    return g >= 0.5 ? F(a[j] - F(diff * F(1 - g))) : F(a[i] + F(diff * F(g)));
  }

  function adjustStrokeWidth(fine) {
    const scale = G.SUPERSAMPLE;
    const inked = new Float32Array(fine.d.length);
    let count = 0;
    for (const v of fine.d) if (v > LEVEL) inked[count++] = v;
    if (count) {  // a faint hairline counts as the thin full stroke it is
      const p = F(Math.max(percentile90(inked.subarray(0, count)), 1e-3));
      const d = new Float32Array(fine.d.length);
      for (let i = 0; i < d.length; i++) d[i] = Math.min(Math.max(F(fine.d[i] / p), 0), 1);
      fine = img(fine.h, fine.w, d);
    }
    let change = null;
    for (let round = 0; round < 4; round++) {
      const width = strokeWidth(fine) / scale;
      let changed, step;
      if (width < G.MIN_STROKE_WIDTH && change !== 'thinned') {
        changed = dilate(fine, Math.max(1, roundHalfEven((G.MIN_STROKE_WIDTH - width) * scale / 2)));
        step = 'thickened';
      } else if (width > G.MAX_STROKE_WIDTH && change !== 'thickened') {
        changed = erode(fine, Math.max(1, roundHalfEven((width - G.MAX_STROKE_WIDTH) * scale / 2)));
        step = 'thinned';
      } else break;
      const cropped = cropToInk(changed);
      if (cropped === null) break;
      fine = fitBox(cropped, G.BOX * scale); change = step;
    }
    return fine;
  }

  function scaleToBox(cropped) {
    const S = G.SUPERSAMPLE;
    let fine = adjustStrokeWidth(fitBox(cropped, G.BOX * S));
    const height = Math.ceil(fine.h / S) * S, width = Math.ceil(fine.w / S) * S;
    const py = height - fine.h, px = width - fine.w;
    fine = pad(fine, py >> 1, py - (py >> 1), px >> 1, px - (px >> 1), 0);
    const boxed = img(height / S, width / S);
    for (let by = 0; by < boxed.h; by++) for (let bx = 0; bx < boxed.w; bx++) {
      let sum = F(0);  // NumPy's order for mean(axis=(1, 3)): a row's S pixels, then the next row's
      for (let y = 0; y < S; y++) sum = F(sum + pairwise(fine.d, (by * S + y) * fine.w + bx * S, S));
      boxed.d[by * boxed.w + bx] = F(sum / (S * S));
    }
    const top = F(Math.max(maxOf(boxed), 1e-6));
    for (let i = 0; i < boxed.d.length; i++) boxed.d[i] = F(boxed.d[i] / top);
    return boxed;
  }

  function centerOfMass(im) {
    const all = total(im);
    const rowSums = [], colSums = new Float32Array(im.w);
    for (let y = 0; y < im.h; y++) {
      rowSums.push(pairwise(im.d, y * im.w, im.w));
      for (let x = 0; x < im.w; x++) colSums[x] = F(colSums[x] + im.d[y * im.w + x]);
    }
    const weighted = (sums) => pairwise64(Array.from(sums, (s, i) => s * i));
    return [weighted(rowSums) / all, weighted(colSums) / all];
  }

  function pairwise64(values) {  // the same summation order in float64 (short runs: 8 accumulators)
    const n = values.length;
    if (n < 8) return values.reduce((a, b) => a + b, 0);
    if (n > 128) {
      let n2 = Math.floor(n / 2); n2 -= n2 % 8;
      return pairwise64(values.slice(0, n2)) + pairwise64(values.slice(n2));
    }
    const r = values.slice(0, 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += values[i + j];
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += values[i];
    return res;
  }

  function centerInField(boxed) {
    const FIELD = G.FIELD;
    const [rows, cols] = centerOfMass(boxed);
    const top = Math.min(Math.max(roundHalfEven(G.CENTER - rows), 0), FIELD - boxed.h);
    const left = Math.min(Math.max(roundHalfEven(G.CENTER - cols), 0), FIELD - boxed.w);
    const out = new Float32Array(FIELD * FIELD);
    for (let y = 0; y < boxed.h; y++) out.set(boxed.d.subarray(y * boxed.w, (y + 1) * boxed.w), (top + y) * FIELD + left);
    return out;
  }

  // The ink map (side x side bytes, 255 = full ink) -> the 28x28 input as a Float32Array(784), or null when blank.
  function prepare(bytes, side) {
    const ink = img(side, side);
    for (let i = 0; i < ink.d.length; i++) ink.d[i] = F(bytes[i] / 255);
    const cropped = cropToInk(ink);
    return cropped === null ? null : centerInField(scaleToBox(cropped));
  }

  return { prepare };
})();
globalThis.MnistGeometry = MnistGeometry;
