/**
 * The interpreter a configured Python name stands for. A name such as `python3` is often a
 * shim (pyenv, asdf) that costs a process start on every run and leaks its own variables
 * (PYENV_*) into the script's environment, so tapline asks it once for the real executable and
 * spawns that.
 */

import { execFile } from 'node:child_process';
import { isAbsolute } from 'node:path';

const resolveTimeoutMs = 10_000;
const resolved = new Map<string, Promise<string>>();

/**
 * The real executable behind `python`, or `python` itself when asking fails: the run then
 * reports the start failure as it would have anyway.
 */
export function resolvePython(python: string): Promise<string> {
  let answer = resolved.get(python);
  if (answer === undefined) {
    answer = ask(python);
    resolved.set(python, answer);
  }
  return answer;
}

function ask(python: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      python,
      ['-c', 'import sys; print(sys.executable)'],
      { timeout: resolveTimeoutMs, encoding: 'utf8' },
      (error, stdout) => {
        const executable = stdout?.trim() ?? '';
        if (error !== null || !isAbsolute(executable) || executable.includes('\n')) {
          // Not cached as an answer: a Python installed later should be found on the next run.
          resolved.delete(python);
          resolve(python);
        } else {
          resolve(executable);
        }
      },
    );
  });
}
