import { describe, expect, it } from 'vitest';
import { coerceValue, unfit } from './coerce.js';

describe('coerceValue', () => {
  it('converts what it can without loss', () => {
    expect(coerceValue('42', 'integer')).toBe(42);
    expect(coerceValue('2033735037361704962', 'integer')).toBe(2033735037361704962n);
    expect(coerceValue(42, 'string')).toBe('42');
    expect(coerceValue({ a: [1] }, 'string')).toBe('{"a":[1]}');
    expect(coerceValue('TRUE', 'boolean')).toBe(true);
    expect(coerceValue(0, 'boolean')).toBe(false);
    expect(coerceValue('1.5', 'number')).toBe(1.5);
    expect(coerceValue(12.5, 'decimal')).toBe('12.5');
    expect(coerceValue('2024-02-29', 'date')).toBe('2024-02-29');
    expect(coerceValue('2024-02-29T10:00:00.123456+02:00', 'timestamp')).toBe(
      '2024-02-29T10:00:00.123456+02:00',
    );
    expect(coerceValue(null, 'integer')).toBeNull();
  });

  it('refuses what would lose something', () => {
    expect(coerceValue('4x', 'integer')).toBe(unfit);
    expect(coerceValue(1.5, 'integer')).toBe(unfit);
    expect(coerceValue(2n ** 64n, 'integer')).toBe(unfit);
    expect(coerceValue('12345678901234567890.5', 'number')).toBe(unfit);
    expect(coerceValue('yes', 'boolean')).toBe(unfit);
    expect(coerceValue('2023-02-29', 'date')).toBe(unfit);
    expect(coerceValue('2024-01-01T10:00:00Z', 'date')).toBe(unfit);
    expect(coerceValue('last tuesday', 'timestamp')).toBe(unfit);
  });
});
