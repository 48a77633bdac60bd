// The page's own answers: ONNX Runtime Web runs the picked network on the ink the canvas draws.
//
// Loaded by the answer-source note (ui/device.py) once the page is interactive; until the runtime and
// the picked model are ready, and whenever anything here fails, the canvas asks the server as before
// (ui/canvas.py asks `canAnswer` before every update). `answer` prepares the ink with MnistGeometry,
// runs the graph (ink -> probabilities: the model's own head is in it) and keeps the page's outputs
// (the label's value and the status line) for the canvas's display event to pick up.
'use strict';
(() => {
  const D = globalThis.MnistDevice;  // made by the note's script: config, keys, lang, road, note()
  const sessions = new Map();  // model url -> {state: 'loading' | 'ready' | 'failed', session}
  let ort = null, busy = false, queued = null;
  const outputs = {};  // canvas id -> [label value, status] of its latest answer
  D.timings = [];  // ms per answer (geometry + forward), the latest 200, for benchmarks
  D.errors = [];

  function fail(what, error) {
    D.errors.push(`${what}: ${error && error.message ? error.message : error}`);
    if (D.errors.length > 20) D.errors.shift();
  }

  function model(key) { return key && D.config.models ? D.config.models[key] : null; }

  function load(key) {  // the model's session, started once per file; failures are remembered (server road)
    const entry = model(key);
    if (!ort || !entry || sessions.has(entry.url)) return;
    const slot = { state: 'loading', session: null };
    sessions.set(entry.url, slot);
    ort.InferenceSession.create(new URL(entry.url, document.baseURI).href, { executionProviders: ['wasm'] })
      .then(async (session) => {  // one forward pass now: the first answer should not pay for warming up
        await session.run({ x: new ort.Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) });
        slot.session = session; slot.state = 'ready';
        D.note();
      })
      .catch((error) => { slot.state = 'failed'; fail('model', error); });
  }

  D.preload = () => { for (const key of Object.values(D.keys)) load(key); };

  D.canAnswer = (pad) => {
    const entry = model(D.keys[pad]);
    const slot = entry && sessions.get(entry.url);
    return !!(slot && slot.state === 'ready');
  };

  function shown(pad, probs, sure) {  // what draw_tab.label_value and status_text make of a reading
    const s = TEXTS[D.lang] || TEXTS.en;
    if (!probs) return [{}, s[D.config.blanks[pad] || 'blank']];
    const ranked = D.config.classes.map((label, i) => [label, probs[i]]).sort((a, b) => b[1] - a[1]);
    const [digit, p] = ranked[0];
    const text = p < sure ? s.not_sure[`${digit},${ranked[1][0]}`]
      : s.confident[digit].replace('{prob}', `${Math.round(p * 100)}%`);
    return [{ label: digit, confidences: ranked.map(([label, confidence]) => ({ label, confidence })) }, text];
  }

  async function run(pad, bytes, side) {
    const entry = model(D.keys[pad]);
    const slot = entry && sessions.get(entry.url);
    const started = performance.now();
    const x = bytes ? MnistGeometry.prepare(bytes, side) : null;
    let probs = null;
    if (x) {
      const result = await slot.session.run({ x: new ort.Tensor('float32', x, [1, 1, 28, 28]) });
      probs = Array.from(result.p.data);
    }
    D.timings.push(performance.now() - started);
    if (D.timings.length > 200) D.timings.shift();
    outputs[pad] = shown(pad, probs, entry.sure);
  }

  // Answers the ink (null: blank) on the device; resolves true when `outputs(pad)` holds the answer to
  // show, false when the device could not (the caller asks the server), null when a newer ink came first
  // (nothing to show or send: its answer follows). One forward pass at a time; a newer ink waiting replaces
  // an older one (as the server's always_last does).
  D.answer = (pad, bytes, side) => new Promise((resolve) => {
    if (queued) queued.resolve(null);
    queued = { pad, bytes, side, resolve };
    pump();
  });

  async function pump() {
    if (busy || !queued) return;
    busy = true;
    const job = queued; queued = null;
    let ok = false;
    try {
      if (D.canAnswer(job.pad)) { await run(job.pad, job.bytes, job.side); ok = true; }
    } catch (error) {  // a forward pass that throws: this model goes back to the server road
      const entry = model(D.keys[job.pad]);
      if (entry && sessions.get(entry.url)) sessions.get(entry.url).state = 'failed';
      fail('forward', error);
    }
    busy = false;
    if (ok) D.setRoad('device');
    // A newer ink already waiting: this answer would be drawn and replaced at once (a slow phone spends
    // tens of ms on each display), so only the newest is shown.
    job.resolve(ok && queued ? null : ok);
    pump();
  }

  D.outputs = (pad) => outputs[pad] || shown(pad, null, 0);

  (async () => {
    try {
      if (typeof WebAssembly !== 'object') throw new Error('no WebAssembly');
      await new Promise((resolve, reject) => {
        const script = document.createElement('script');
        script.src = new URL(D.config.assets.ort, document.baseURI).href;
        script.onload = resolve; script.onerror = () => reject(new Error('runtime file'));
        document.head.appendChild(script);
      });
      ort = globalThis.ort;
      ort.env.wasm.numThreads = 1;  // no cross-origin isolation on Spaces: threads are unavailable anyway
      ort.env.wasm.wasmPaths = {
        mjs: new URL(D.config.assets.mjs, document.baseURI).href,
        wasm: new URL(D.config.assets.wasm, document.baseURI).href,
      };
      D.runtime = 'ready';
      D.preload();
    } catch (error) {
      D.runtime = 'failed';
      fail('runtime', error);
    }
  })();
})();
