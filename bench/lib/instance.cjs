'use strict';
// A cold function instance for the cold-start benchmark: a fresh `node` that requires a bundle and hands it
// one event, as the FC runtime does. Timings are read off this process's own clock (0 = process start) and
// reported on fd 3, so nothing the bundle prints can pass for them. Exits at once: an instance's sockets
// would otherwise keep it alive, and its end is not part of the cold start.
const { readFileSync, writeSync } = require('node:fs');

/** Peak resident set so far (Linux, as on FC): VmHWM, in kB. */
const peakRssKb = () =>
  Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);

const [bundle, event, context] = process.argv.slice(2);
const report = (outcome) => {
  writeSync(3, JSON.stringify(outcome));
  process.exit(0);
};
const loadStart = performance.now();
const { handler } = require(bundle);
const loaded = performance.now();
const loadedRssKb = peakRssKb();
const logger = { debug() {}, info() {}, warn() {}, error() {}, log() {} };
handler(Buffer.from(event), { ...JSON.parse(context), logger }).then(
  (result) =>
    report({
      ok: true,
      loadStart,
      loaded,
      handled: performance.now(),
      cpu: process.cpuUsage(),
      loadedRssKb,
      peakRssKb: peakRssKb(),
      result,
    }),
  (error) => report({ ok: false, message: String(error?.message ?? error) }),
);
