import { describe, expect, it } from '@jest/globals';

import { lineDiff, prettyJson } from './line-diff';

describe('lineDiff', () => {
  it('marks every line the same when nothing changed', () => {
    expect(lineDiff('a\nb', 'a\nb')).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'same', text: 'b' },
    ]);
  });

  it('shows a changed line as removed then added, in place', () => {
    expect(lineDiff('a\nb\nc', 'a\nB\nc')).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'added', text: 'B' },
      { kind: 'same', text: 'c' },
    ]);
  });

  it('handles lines added at the end and removed at the start, and empty sides', () => {
    expect(lineDiff('x\na', 'a\ny')).toEqual([
      { kind: 'removed', text: 'x' },
      { kind: 'same', text: 'a' },
      { kind: 'added', text: 'y' },
    ]);
    expect(lineDiff('', 'a')).toEqual([{ kind: 'added', text: 'a' }]);
    expect(lineDiff('a', '')).toEqual([{ kind: 'removed', text: 'a' }]);
  });

  it('diffs two definitions to the one line that changed', () => {
    const v1 = { steps: [{ id: 'greet', type: 'transform', expression: '"Hello"' }] };
    const v2 = { steps: [{ id: 'greet', type: 'transform', expression: '"Hi"' }] };
    const changed = lineDiff(prettyJson(v1), prettyJson(v2)).filter((line) => line.kind !== 'same');
    expect(changed).toEqual([
      { kind: 'removed', text: '      "expression": "\\"Hello\\""' },
      { kind: 'added', text: '      "expression": "\\"Hi\\""' },
    ]);
  });
});
