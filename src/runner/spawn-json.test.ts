import { describe, expect, it } from 'vitest';
import { runScript } from './spawn.js';

const python = process.env.TAPLINE_PYTHON ?? 'python3';

async function firstRecord(script: string) {
  const result = await runScript({
    script,
    kind: 'structured',
    mode: 'test',
    params: {},
    state: undefined,
    secretEnv: {},
    testLimit: 20,
    timeoutSeconds: 30,
    python,
    logBytes: 1024 * 1024,
    maxRecordBytes: 16 * 1024 * 1024,
    memoryBytes: 2 * 1024 * 1024 * 1024,
  });
  expect(result.error).toBeNull();
  expect(result.outcome).toBe('success');
  return { record: result.records[0], result };
}

describe('runScript: values json cannot write', () => {
  it('converts them by the documented rule', async () => {
    const { record } = await firstRecord(`
import datetime, decimal, uuid

class Station:
    def __str__(self):
        return "station OSL"

def fetch():
    return [{
        "at": datetime.datetime(2026, 5, 1, 12, 30, 5, tzinfo=datetime.timezone.utc),
        "naive": datetime.datetime(2026, 5, 1, 12, 30),
        "day": datetime.date(2026, 5, 1),
        "time": datetime.time(6, 15),
        "price": decimal.Decimal("1.10"),
        "huge": decimal.Decimal("12345678901234567890.123456789"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "raw": b"\\x00\\xff tap",
        "buffer": bytearray(b"ab"),
        "tags": {"b", "c", "a"},
        "mixed": frozenset([1]),
        "nan": float("nan"),
        "inf": float("inf"),
        "minus_inf": float("-inf"),
        "fine": 1.5,
        "tuple": (1, "two"),
        "station": Station(),
        "nested": {"when": datetime.date(2026, 1, 2), "list": [decimal.Decimal("0.5")]},
    }]
`);
    expect(record).toEqual({
      at: '2026-05-01T12:30:05+00:00',
      naive: '2026-05-01T12:30:00',
      day: '2026-05-01',
      time: '06:15:00',
      price: '1.10',
      huge: '12345678901234567890.123456789',
      id: '12345678-1234-5678-1234-567812345678',
      raw: 'AP8gdGFw',
      buffer: 'YWI=',
      tags: ['a', 'b', 'c'],
      mixed: [1],
      nan: null,
      inf: null,
      minus_inf: null,
      fine: 1.5,
      tuple: [1, 'two'],
      station: 'station OSL',
      nested: { when: '2026-01-02', list: ['0.5'] },
    });
  });

  it('writes dict keys json cannot, and names the columns as written', async () => {
    const { record, result } = await firstRecord(`
import datetime

def fetch():
    return [{1: "one", None: "none", False: "no", 2.5: "half", datetime.date(2026, 5, 1): "day"}]
`);
    expect(record).toEqual({
      '1': 'one',
      null: 'none',
      false: 'no',
      '2.5': 'half',
      '2026-05-01': 'day',
    });
    expect(result.columns).toEqual(['1', 'null', 'false', '2.5', '2026-05-01']);
  });

  it('keeps integers of any size exact, and text that is not ASCII', async () => {
    const { record } = await firstRecord(`
def fetch():
    return [{"big": 2033735037361704962, "negative": -9007199254740993,
             "small": 42, "text": "café ☕ 北京", "lone": "\\ud800"}]
`);
    expect(record).toEqual({
      big: 2033735037361704962n,
      negative: -9007199254740993n,
      small: 42,
      text: 'café ☕ 北京',
      lone: '\ud800',
    });
  });

  it('writes an integer of 5000 digits exact', async () => {
    const { record } = await firstRecord('def fetch():\n    return [{"n": 7 * 10 ** 4999}]\n');
    expect(record).toEqual({ n: 7n * 10n ** 4999n });
  });
});
