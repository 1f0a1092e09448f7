import { describe, expect, it } from 'vitest';
import { parseParam } from '../../src/cli/params.js';
import { renderTable } from '../../src/cli/table.js';

describe('renderTable', () => {
  it('aligns text left and numbers right, with headers intact when there is room', () => {
    const table = renderTable(
      ['name', 'count'],
      [
        ['a', 5],
        ['bb', 12345],
      ],
      { width: 80 },
    );
    expect(table.lines).toEqual(['name  count', 'a         5', 'bb    12345']);
    expect(table.hiddenColumns).toEqual([]);
  });

  it('cuts the longest values first, then headers, to fit the width', () => {
    const table = renderTable(['id', 'description'], [[1, 'x'.repeat(50)]], { width: 20 });
    expect(table.lines).toEqual(['id  description', ` 1  ${'x'.repeat(15)}…`]);
    for (const line of table.lines) expect(line.length).toBeLessThanOrEqual(20);
  });

  it('leaves out the rightmost columns when even narrow ones do not fit, and names them', () => {
    const headers = ['alpha', 'beta', 'gamma', 'delta'];
    const table = renderTable(headers, [['aaaaaaaa', 'bbbbbbbb', 'cccccccc', 'dddddddd']], {
      width: 20,
    });
    expect(table.hiddenColumns).toEqual(['gamma', 'delta']);
    expect(table.lines).toEqual(['alpha     beta', 'aaaaaaaa  bbbbbbbb']);
  });

  it('never cuts a whole column, such as a token to copy, and cuts the others instead', () => {
    const token = '4b0888c6-b836-4b83-bf04-f5cd2b0f3551';
    const run = '22c904d7-eede-47f3-9128-4e4d4c1e245a';
    const table = renderTable(['TOKEN', 'RUN'], [[token, run]], { width: 50, whole: ['TOKEN'] });
    expect(table.lines).toEqual([
      'TOKEN                                 RUN',
      `${token}  22c904d7-ee…`,
    ]);
    // Without room even for it, it is left out rather than cut.
    const narrow = renderTable(['RUN', 'TOKEN'], [[run, token]], { width: 30, whole: ['TOKEN'] });
    expect(narrow.hiddenColumns).toEqual(['TOKEN']);
  });

  it('writes objects as JSON, null as empty, and keeps newlines out of cells', () => {
    const table = renderTable(['v'], [[{ a: [1, 2] }], [null], ['two\nlines']], { width: 80 });
    expect(table.lines).toEqual(['v', '{"a":[1,2]}', '', 'two lines']);
  });
});

describe('parseParam', () => {
  it('takes everything after the first = as a string', () => {
    expect(parseParam('since=2015-01-01')).toEqual(['since', '2015-01-01']);
    expect(parseParam('q=a=b')).toEqual(['q', 'a=b']);
    expect(parseParam('empty=')).toEqual(['empty', '']);
  });

  it('parses key:=<json> as JSON', () => {
    expect(parseParam('n:=5')).toEqual(['n', 5]);
    expect(parseParam('opts:={"a":[1,2]}')).toEqual(['opts', { a: [1, 2] }]);
    expect(parseParam('none:=null')).toEqual(['none', null]);
  });

  it('refuses text without =, keys that are not identifiers, and bad JSON, as usage errors', () => {
    for (const bad of ['since', '=x', '1st=x', 'a-b=x', 'n:=nope']) {
      expect(() => parseParam(bad)).toThrow(expect.objectContaining({ exitCode: 2 }));
    }
  });
});
