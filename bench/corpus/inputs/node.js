// node: crypto, zlib, a worker thread and a child process.
const crypto = require('crypto');
const zlib = require('zlib');
const { Worker } = require('worker_threads');
const { execFileSync } = require('child_process');
const data = Buffer.from(Array.from({ length: 50000 }, (_, i) => String(i)).join(','));
console.log(crypto.createHash('sha256').update(data).digest('hex'));
console.log(zlib.gunzipSync(zlib.gzipSync(data)).length);
console.log(JSON.stringify({ a: [1, 2, 3], b: { c: 'd' } }));
console.log(execFileSync(process.execPath, ['-e', 'console.log(6 * 7)']).toString().trim());
const code = 'let s = 0; for (let i = 0; i < 1e7; i++) s += i % 3;' +
  ' require("worker_threads").parentPort.postMessage(s);';
const w = new Worker(code, { eval: true });
w.on('message', (s) => console.log('worker', s));
