import { describe, expect, it } from 'vitest';
import { ColumnNames, columnNameFor, quoteIdentifier } from './identifiers.js';

describe('column names', () => {
  it('follows the one rule', () => {
    expect(columnNameFor('Customer ID')).toBe('customer_id');
    expect(columnNameFor('2nd')).toBe('_2nd');
    expect(columnNameFor('')).toBe('_');
    expect(columnNameFor('café')).toBe('caf_');
    expect(columnNameFor('x'.repeat(80))).toHaveLength(63);
  });

  it('refuses two keys that become one column, naming both', () => {
    const names = new ColumnNames();
    expect(names.resolve('na!e')).toEqual({ column: 'na_e' });
    const clash = names.resolve('na%e');
    expect('collision' in clash && clash.collision).toMatch(
      /^keys 'na!e' and 'na%e' both become column 'na_e'/,
    );
  });

  it('quotes identifiers, doubling quotes', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
  });
});
