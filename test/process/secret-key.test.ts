import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { api, freePort, startServerProcess } from '../support/server-process.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'tapline-secret-key-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const value = 'sk_live_plaintext_7c6b5a4d3e';
const keyHex = '5e'.repeat(32);
const keyBase64 = Buffer.from(keyHex, 'hex').toString('base64');
/** A tap whose one record says whether its script got the secret's value. */
const checkScript = `import os
def fetch():
    return [{"length": len(os.environ["STRIPE_KEY"]), "prefix": os.environ["STRIPE_KEY"][:3]}]
`;

/** A data directory of its own; the server process runs in it. */
function dataDirNamed(name: string): string {
  const dir = path.join(scratch, name);
  mkdirSync(dir);
  return dir;
}

async function stopped(server: Awaited<ReturnType<typeof startServerProcess>>) {
  server.child.kill('SIGTERM');
  return server.exited;
}

it('keeps secret values out of the metadata files, with the key file mode 0600', async () => {
  const dataDir = dataDirNamed('file-key');
  const server = await startServerProcess(dataDir, await freePort());
  try {
    expect(
      (await api(server.url, 'POST', '/secrets', { name: 'stripe', values: { STRIPE_KEY: value } }))
        .status,
    ).toBe(201);
    expect(statSync(path.join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
  } finally {
    expect(await stopped(server)).toBe(0);
  }
  const files = readdirSync(dataDir).filter((name) => name.startsWith('tapline.db'));
  expect(files).toContain('tapline.db');
  for (const name of files) {
    const bytes = readFileSync(path.join(dataDir, name));
    expect(bytes.includes(value), name).toBe(false);
    expect(bytes.includes(Buffer.from(value).toString('base64').slice(0, 20)), name).toBe(false);
  }
  // The field name is stored in the clear, for listing; only the value is sealed.
  expect(readFileSync(path.join(dataDir, 'tapline.db')).includes('STRIPE_KEY')).toBe(true);
});

it('opens secrets with TAPLINE_SECRET_KEY as hex or base64, and refuses a wrong key', async () => {
  const dataDir = dataDirNamed('env-key');
  const first = await startServerProcess(dataDir, await freePort(), {
    TAPLINE_SECRET_KEY: keyHex,
  });
  try {
    await api(first.url, 'POST', '/secrets', { name: 'stripe', values: { STRIPE_KEY: value } });
    await api(first.url, 'POST', '/taps', { name: 'check', secret: 'stripe', script: checkScript });
  } finally {
    await stopped(first);
  }

  const again = await startServerProcess(dataDir, await freePort(), {
    TAPLINE_SECRET_KEY: keyBase64,
  });
  try {
    const run = await api(again.url, 'POST', '/tap/run', { name: 'check' });
    expect(run.body.records).toEqual([{ length: value.length, prefix: 'sk_' }]);
  } finally {
    await stopped(again);
  }

  const wrong = await startServerProcess(dataDir, await freePort(), {
    TAPLINE_SECRET_KEY: '7f'.repeat(32),
  }).catch((error: Error) => error);
  expect(wrong).toBeInstanceOf(Error);
  const message = (wrong as Error).message;
  expect(message).toContain(
    "tapline: the secret key from TAPLINE_SECRET_KEY cannot open secret 'stripe': it is not " +
      'the key the secrets were saved with',
  );
  expect(message).not.toContain('    at ');
});

it('refuses a TAPLINE_SECRET_KEY that is not 32 bytes', async () => {
  const dataDir = dataDirNamed('short-key');
  const refused = await startServerProcess(dataDir, await freePort(), {
    TAPLINE_SECRET_KEY: 'hunter2',
  }).catch((error: Error) => error);
  expect((refused as Error).message).toContain(
    'tapline: TAPLINE_SECRET_KEY must hold a 32-byte key written as 64 hex digits or as base64',
  );
  expect((refused as Error).message).not.toContain('    at ');
});
