import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CliServer, runCli, startCliServer } from './cli-process.js';

let server: CliServer;
beforeAll(async () => {
  server = await startCliServer();
});
afterAll(async () => server.stop());

const tapline = (...args: string[]) => runCli(args, { TAPLINE_URL: server.url });

it('refuses to remove a secret a tap names, and removes it with --force', async () => {
  expect((await tapline('secret', 'set', 'shop', 'SHOP_TOKEN=tok_1234')).code).toBe(0);
  const created = await fetch(`${server.url}/api/v1/taps`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'orders',
      secret: 'shop',
      script: 'def fetch():\n    return []\n',
    }),
  });
  expect(created.status).toBe(201);

  const refused = await tapline('secret', 'rm', 'shop');
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("secret 'shop' is used by tap 'orders'");
  expect(refused.stderr).toContain('delete it anyway with: tapline secret rm shop --force');
  expect((await tapline('secret', 'list', '--json')).stdout).toContain('"shop"');

  const forced = await tapline('secret', 'rm', 'shop', '--force');
  expect(forced).toEqual({ code: 0, stdout: "secret 'shop' deleted\n", stderr: '' });
  expect(JSON.parse((await tapline('secret', 'list', '--json')).stdout)).toEqual([]);
});
