import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function folderWith(yaml?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tapline-config-'));
  folders.push(dir);
  if (yaml !== undefined) writeFileSync(path.join(dir, 'tapline.yaml'), yaml);
  return dir;
}

describe('loadConfig', () => {
  it('uses the documented defaults with no file and no variables', () => {
    const cwd = folderWith();
    const config = loadConfig({ env: {}, cwd });
    expect(config).toMatchObject({
      dataDir: path.join(cwd, '.tapline'),
      host: '127.0.0.1',
      port: 8080,
      runner: {
        python: 'python3',
        testTimeoutSeconds: 300,
        runTimeoutSeconds: 3600,
        logBytes: 1048576,
        maxTestRecordBytes: 67108864,
      },
      jobs: { workers: 2 },
    });
    expect(config.apiKey).toBeUndefined();
  });

  it('lets variables win over tapline.yaml, and flags win over both', () => {
    const cwd = folderWith(
      'port: 9000\nhost: 0.0.0.0\nrunner:\n  python: /opt/py/bin/python\n  testTimeoutSeconds: 60\n' +
        '  maxTestRecordBytes: 1048576\n',
    );
    const env = {
      TAPLINE_PORT: '9100',
      TAPLINE_PYTHON: '/usr/bin/python3.11',
      TAPLINE_DATA_DIR: '/srv/tapline',
    };
    const config = loadConfig({ env, cwd, overrides: { port: 9200 } });
    expect(config.port).toBe(9200);
    expect(config.host).toBe('0.0.0.0');
    expect(config.dataDir).toBe('/srv/tapline');
    expect(config.runner.python).toBe('/usr/bin/python3.11');
    expect(config.runner.testTimeoutSeconds).toBe(60);
    expect(config.runner.maxTestRecordBytes).toBe(1048576);
  });

  it('reads the file named by TAPLINE_CONFIG and the AI settings from variables', () => {
    const cwd = folderWith();
    const file = path.join(cwd, 'elsewhere.yaml');
    writeFileSync(file, 'logLevel: warn\n');
    const config = loadConfig({
      env: { TAPLINE_CONFIG: file, TAPLINE_AI_PROVIDER: 'openai', TAPLINE_AI_MODEL: 'llama3' },
      cwd,
    });
    expect(config.logLevel).toBe('warn');
    expect(config.ai).toMatchObject({ provider: 'openai', model: 'llama3', budgetMs: 15000 });
  });

  it('names the setting at fault in a bad configuration', () => {
    expect(() => loadConfig({ env: { TAPLINE_PORT: 'eighty' }, cwd: folderWith() })).toThrow(
      /port: /,
    );
    expect(() => loadConfig({ env: {}, cwd: folderWith('runner:\n  timeout: 5\n') })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ env: { TAPLINE_CONFIG: '/nope.yaml' }, cwd: folderWith() })).toThrow(
      'TAPLINE_CONFIG names /nope.yaml, which does not exist',
    );
  });
});
