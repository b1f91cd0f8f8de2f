// node bench_ort.js MODEL N C H W [threads] [iterations]
const ort = require('onnxruntime-node');
(async () => {
  const [model, n, c, h, w, threads = '2', iters = '30'] = process.argv.slice(2);
  const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: +threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
  const size = (+n) * (+c) * (+h) * (+w);
  const data = new Float32Array(size); for (let i = 0; i < size; i++) data[i] = Math.random() * 2 - 1;
  const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', data, [+n, +c, +h, +w]) };
  for (let i = 0; i < 5; i++) await sess.run(feeds);
  const t = [];
  for (let i = 0; i < +iters; i++) { const t0 = process.hrtime.bigint(); await sess.run(feeds); t.push(Number(process.hrtime.bigint() - t0) / 1e6); }
  t.sort((a, b) => a - b);
  const med = t.length % 2 ? t[(t.length - 1) / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
  console.log(JSON.stringify({ runtime: 'onnxruntime-node ' + require('onnxruntime-node/package.json').version, median_ms: +med.toFixed(3), min_ms: +t[0].toFixed(3), max_ms: +t[t.length - 1].toFixed(3), iterations: +iters, threads: +threads }));
})();
