import { describe, expect, it } from 'vitest';
import { cliSession } from './cli-process.js';

// Saving, showing, changing and deleting taps and pipelines through the CLI.

const session = cliSession('tapline-cli-registry-');
const { tapline, file } = session;

const firstScript = `# orders, first version
def fetch():
    return [{"id": 1}]
`;

const secondScript = `# orders, second version
def fetch():
    return [{"id": 1}, {"id": 2}]
`;

describe('pipelines', () => {
  it('saves a pipeline from a JSON file and shows its definition as JSON', async () => {
    const definition = file(
      'orders.json',
      JSON.stringify({
        name: 'orders',
        primaryKey: ['id'],
        destinations: [{ type: 'sqlite', table: 'orders', writeMode: 'merge' }],
      }),
    );
    expect(await tapline('pipeline', 'add', definition)).toEqual({
      code: 0,
      stdout: "saved pipeline 'orders' (sqlite:orders:merge)\n",
      stderr: '',
    });

    const shown = await tapline('pipeline', 'show', 'orders');
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      name: 'orders',
      primaryKey: ['id'],
      schemaPolicy: 'evolve',
      destinations: [{ type: 'sqlite', table: 'orders', writeMode: 'merge' }],
    });
  });

  it('names the near pipelines when one does not exist', async () => {
    expect(await tapline('pipeline', 'show', 'ordrs')).toEqual({
      code: 1,
      stdout: '',
      stderr: "tapline: pipeline 'ordrs' does not exist\ndid you mean: orders?\n",
    });
    const json = await tapline('pipeline', 'show', 'ordrs', '--json');
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        code: 'pipeline_not_found',
        message: "pipeline 'ordrs' does not exist",
        similar: ['orders'],
      },
    });
    expect((await tapline('pipeline', 'rm', 'zzz')).stderr).toBe(
      "tapline: pipeline 'zzz' does not exist\ntapline pipeline list shows the saved pipelines\n",
    );
    const script = file('orders.py', firstScript);
    expect(await tapline('tap', 'add', 'typo', '--script', script, '--pipeline', 'ordrs')).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "tapline: targetPipeline 'ordrs' does not exist; create the pipeline first\n" +
        'did you mean: orders?\n',
    });
  });

  it('refuses to delete a targeted pipeline, naming the flag that does', async () => {
    const pipeline = file(
      'doomed.yaml',
      'name: doomed\ndestinations:\n  - type: sqlite\n    table: doomed\n',
    );
    expect((await tapline('pipeline', 'add', pipeline)).code).toBe(0);
    const script = file('doomed.py', firstScript);
    expect(
      (await tapline('tap', 'add', 'doomed', '--script', script, '--pipeline', 'doomed')).code,
    ).toBe(0);

    expect(await tapline('pipeline', 'rm', 'doomed')).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "tapline: pipeline 'doomed' is the target of tap 'doomed'; point it at another " +
        'pipeline first, or force the delete (a tap whose pipeline is gone fails to run)\n' +
        'delete it anyway with: tapline pipeline rm doomed --force\n',
    });
    expect(await tapline('pipeline', 'rm', 'doomed', '--force')).toEqual({
      code: 0,
      stdout: "deleted pipeline 'doomed'\n",
      stderr: '',
    });
    expect((await tapline('pipeline', 'show', 'doomed')).code).toBe(1);
  });

  it('deletes a pipeline no tap targets', async () => {
    const pipeline = file(
      'spare.yaml',
      'name: spare\ndestinations:\n  - type: sqlite\n    table: spare\n',
    );
    expect((await tapline('pipeline', 'add', pipeline)).code).toBe(0);
    expect(await tapline('pipeline', 'rm', 'spare')).toEqual({
      code: 0,
      stdout: "deleted pipeline 'spare'\n",
      stderr: '',
    });
    const listed = await tapline('pipeline', 'list', '--json');
    expect(JSON.parse(listed.stdout).map((p: { name: string }) => p.name)).not.toContain('spare');
  });
});

describe('taps', () => {
  /** The label-value lines of `tap show`, as a map. */
  async function shown(name: string): Promise<Map<string, string>> {
    const result = await tapline('tap', 'show', name);
    expect(result.code).toBe(0);
    const settings = result.stdout.split('\n\n')[0]!.split('\n');
    return new Map(settings.map((line) => [line.slice(0, 12).trim(), line.slice(12)]));
  }

  it('saves a tap with a secret and a schedule', async () => {
    expect((await tapline('secret', 'set', 'shop', 'SHOP_TOKEN=abc')).code).toBe(0);
    const script = file('orders.py', firstScript);
    const added = await tapline(
      'tap',
      'add',
      'orders',
      '--script',
      script,
      '--pipeline',
      'orders',
      '--secret',
      'shop',
      '--cron',
      '0 6 * * *',
      '--timezone',
      'Europe/Berlin',
    );
    expect(added).toEqual({
      code: 0,
      stdout: "saved tap 'orders' (version 1)\ntry it: tapline tap test orders\n",
      stderr: '',
    });
    const settings = await shown('orders');
    expect(settings.get('pipeline')).toBe('orders');
    expect(settings.get('secret')).toBe('shop');
    expect(settings.get('schedule')).toBe('0 6 * * * (Europe/Berlin)');
    expect(settings.get('next run')).toMatch(/^\d{4}-\d\d-\d\dT0[45]:00:00\.000Z$/);
  });

  it('updates settings without a new version, and a changed script with one', async () => {
    expect(await tapline('tap', 'update', 'orders', '--description', 'all orders')).toEqual({
      code: 0,
      stdout: "updated tap 'orders' (script unchanged)\n",
      stderr: '',
    });
    const script = file('orders-2.py', secondScript);
    expect(await tapline('tap', 'update', 'orders', '--script', script)).toEqual({
      code: 0,
      stdout: "updated tap 'orders' (now version 2)\n",
      stderr: '',
    });
    expect((await tapline('tap', 'update', 'orders', '--no-cron', '--no-secret')).code).toBe(0);

    const settings = await shown('orders');
    expect(settings.get('description')).toBe('all orders');
    expect(settings.get('schedule')).toBe('-');
    expect(settings.get('secret')).toBe('-');
    expect(settings.get('version')).toMatch(/^2 \(updated /);

    expect((await tapline('tap', 'update', 'orders')).code).toBe(2);
  });

  it('lists script versions, newest first', async () => {
    const result = await tapline('tap', 'versions', 'orders');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VERSION +CREATED +LINES +FIRST LINE$/);
    expect(lines[1]).toMatch(/^ +2  \S+ +3  # orders, second version$/);
    expect(lines[2]).toMatch(/^ +1  \S+ +3  # orders, first version$/);
    expect(lines).toHaveLength(3);
  });
});
