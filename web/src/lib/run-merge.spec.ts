import { describe, expect, it } from '@jest/globals';

import type { Page, Run } from '../api/types';
import { runMatches } from './run-filters';
import { mergeRunChanges } from './run-merge';

const run = (id: string, status: Run['status'] = 'queued', extra: Partial<Run> = {}): Run =>
  ({
    id,
    workflowId: 'w1',
    status,
    trigger: { type: 'api' },
    createdAt: '2026-12-06T06:00:00.000Z',
    ...extra,
  }) as Run;
const ids = (pages: Page<Run>[]) => pages.map((page) => page.data.map((r) => `${r.id}:${r.status}`));
const all = () => true;

describe('mergeRunChanges', () => {
  it('puts new runs at the top, newest first, in the order they sort', () => {
    const pages = [{ data: [run('05'), run('04')], nextCursor: null }];
    const merged = mergeRunChanges(pages, [run('06'), run('07')], all);
    expect(ids(merged)).toEqual([['07:queued', '06:queued', '05:queued', '04:queued']]);
    expect(ids(pages)).toEqual([['05:queued', '04:queued']]);
  });

  it('replaces a changed run in place, also on a later page, and takes a run that comes twice once', () => {
    const pages = [
      { data: [run('09'), run('08')], nextCursor: 'c1' },
      { data: [run('07'), run('06')], nextCursor: null },
    ];
    const merged = mergeRunChanges(pages, [run('07', 'running'), run('07', 'completed'), run('09', 'failed')], all);
    expect(ids(merged)).toEqual([
      ['09:failed', '08:queued'],
      ['07:completed', '06:queued'],
    ]);
    expect(merged[0].nextCursor).toBe('c1');
  });

  it('drops a run that no longer matches the filters, and ignores new ones that do not match', () => {
    const filters = { status: 'running' } as const;
    const pages = [{ data: [run('03', 'running'), run('02', 'running')], nextCursor: null }];
    const merged = mergeRunChanges(pages, [run('03', 'completed'), run('04', 'queued'), run('05', 'running')], (r) =>
      runMatches(r, filters),
    );
    expect(ids(merged)).toEqual([['05:running', '02:running']]);
  });

  it('places an older run that starts matching where it sorts, or leaves it to "Load more" past the loaded rows', () => {
    const pages = [{ data: [run('09'), run('05')], nextCursor: 'c1' }];
    expect(ids(mergeRunChanges(pages, [run('07'), run('02')], all))).toEqual([['09:queued', '07:queued', '05:queued']]);
    const complete = [{ data: [run('09'), run('05')], nextCursor: null }];
    expect(ids(mergeRunChanges(complete, [run('02')], all))).toEqual([['09:queued', '05:queued', '02:queued']]);
  });

  it('fills an empty list and returns the same pages when nothing changed', () => {
    const empty = [{ data: [] as Run[], nextCursor: null }];
    expect(ids(mergeRunChanges(empty, [run('01'), run('02')], all))).toEqual([['02:queued', '01:queued']]);
    expect(mergeRunChanges(empty, [], all)).toBe(empty);
  });
});

describe('runMatches', () => {
  const r = run('01', 'failed', { trigger: { type: 'webhook' }, createdAt: '2026-12-06T06:00:00.000Z' });
  it('applies each filter, createdFrom inclusive and createdTo exclusive', () => {
    expect(runMatches(r, {})).toBe(true);
    expect(runMatches(r, { status: 'failed', workflowId: 'w1', triggerType: 'webhook' })).toBe(true);
    expect(runMatches(r, { triggerType: 'api' })).toBe(false);
    expect(runMatches(r, { workflowId: 'w2' })).toBe(false);
    expect(runMatches(r, { createdFrom: '2026-12-06T06:00:00.000Z' })).toBe(true);
    expect(runMatches(r, { createdTo: '2026-12-06T06:00:00.000Z' })).toBe(false);
    expect(runMatches(r, { createdFrom: '2026-12-06T06:00:00.001Z' })).toBe(false);
  });
});
