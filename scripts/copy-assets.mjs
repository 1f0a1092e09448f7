// Files tsc does not copy: the Python harness, and the worker thread that is plain JavaScript
// so the tests can start it from the sources. The built package needs each beside its module.
import { copyFileSync, mkdirSync } from 'node:fs';

const assets = ['runner/harness.py', 'destinations/checkpoint-worker.mjs'];
for (const asset of assets) {
  mkdirSync(`dist/${asset.slice(0, asset.lastIndexOf('/'))}`, { recursive: true });
  copyFileSync(`src/${asset}`, `dist/${asset}`);
}
