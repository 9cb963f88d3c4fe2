import type { Page, Run } from '../api/types';

/** Newest first, as the API pages them: run ids are time-ordered (UUIDv7). */
function newerFirst(a: Run, b: Run): number {
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * The loaded pages with the runs the changes feed brought (oldest change first): a loaded run is replaced in place
 * or dropped when it no longer matches; a new matching run goes where it sorts, unless that is past the last
 * loaded row while more pages wait (it comes with "Load more"). Pages keep their cursors.
 */
export function mergeRunChanges(pages: Page<Run>[], changes: Run[], matches: (run: Run) => boolean): Page<Run>[] {
  if (changes.length === 0 || pages.length === 0) return pages;
  const next = pages.map((page) => ({ ...page, data: [...page.data] }));
  for (const run of changes) {
    const pageIndex = next.findIndex((page) => page.data.some((row) => row.id === run.id));
    if (pageIndex >= 0) {
      const data = next[pageIndex].data;
      const index = data.findIndex((row) => row.id === run.id);
      if (matches(run)) data[index] = run;
      else data.splice(index, 1);
      continue;
    }
    if (!matches(run)) continue;
    let placed = false;
    for (const page of next) {
      const index = page.data.findIndex((row) => newerFirst(run, row) < 0);
      if (index >= 0) {
        page.data.splice(index, 0, run);
        placed = true;
        break;
      }
    }
    const last = next[next.length - 1];
    if (!placed && last.nextCursor === null) last.data.push(run);
  }
  return next;
}
