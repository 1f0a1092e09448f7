import { expect, it } from 'vitest';
import { counted } from './counted.js';

it('words a count with the singular only for one', () => {
  expect(counted(1, 'record')).toBe('1 record');
  expect(counted(0, 'record')).toBe('0 records');
  expect(counted(2, 'row')).toBe('2 rows');
  expect(counted(1n, 'row')).toBe('1 row');
  expect(counted(3n, 'row')).toBe('3 rows');
  expect(counted(1, 'batch', 'batches')).toBe('1 batch');
  expect(counted(2, 'batch', 'batches')).toBe('2 batches');
});
