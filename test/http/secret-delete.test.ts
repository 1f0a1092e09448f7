import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp, threeRecordsTap } from '../support/test-app.js';

let test: TestApp;
beforeAll(async () => {
  test = await startTestApp();
  await test.call('POST', '/api/v1/secrets', { name: 'shop', values: { SHOP_TOKEN: 'tok_1234' } });
  await test.call('POST', '/api/v1/secrets', { name: 'spare', values: { A: 'unused' } });
  for (const name of ['orders', 'refunds']) {
    await test.call('PUT', `/api/v1/taps/${name}`, { script: threeRecordsTap, secret: 'shop' });
  }
});
afterAll(async () => test.close());

const names = async () =>
  (await test.call('GET', '/api/v1/secrets')).body.map((s: { name: string }) => s.name);

it('refuses to delete a secret that taps name, saying which', async () => {
  const refused = await test.call('DELETE', '/api/v1/secrets/shop');
  expect(refused.status).toBe(409);
  expect(refused.body).toEqual({
    error: {
      code: 'secret_in_use',
      message:
        "secret 'shop' is used by taps 'orders', 'refunds'; give them another secret first, or " +
        'force the delete (a tap whose secret is gone fails to run)',
      taps: ['orders', 'refunds'],
    },
  });
  expect(await names()).toEqual(['shop', 'spare']);
  const run = await test.call('POST', '/api/v1/tap/run', { name: 'orders' });
  expect(run.body.status).toBe('success');
});

it('deletes an unused secret, and a used one with ?force=true', async () => {
  expect((await test.call('DELETE', '/api/v1/secrets/spare')).status).toBe(204);
  await test.call('PUT', '/api/v1/taps/refunds', { script: threeRecordsTap, secret: null });
  const stillUsed = await test.call('DELETE', '/api/v1/secrets/shop?force=false');
  expect(stillUsed.body.error.message).toContain("used by tap 'orders'; give it another");

  expect((await test.call('DELETE', '/api/v1/secrets/shop?force=true')).status).toBe(204);
  expect(await names()).toEqual([]);
  const run = await test.call('POST', '/api/v1/tap/run', { name: 'orders' });
  expect(run.body.status).toBe('failure');
  expect(run.body.error).toContain("secret 'shop' named by tap 'orders' does not exist");
});

it('answers 404 for a secret that does not exist, forced or not', async () => {
  for (const url of ['/api/v1/secrets/nope', '/api/v1/secrets/nope?force=true']) {
    const answer = await test.call('DELETE', url);
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('secret_not_found');
  }
});
