// The harness is Python, so tsc does not copy it; the built package needs it beside spawn.js.
import { copyFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist/runner', { recursive: true });
copyFileSync('src/runner/harness.py', 'dist/runner/harness.py');
