import { RUNS_ENDED_CHANNEL } from '../../common/change.feed.js';

// 200 ids of 36 characters and their commas stay well under PostgreSQL's 8000-byte payload limit.
const IDS_PER_NOTICE = 200;

/**
 * Every statement that gives runs a final status (completed, failed, cancelled) must tell the processes where
 * requests wait on runs (`?wait=`), in the same transaction, so that they learn it at commit and not before.
 *
 * The SELECT of a CTE to add to such a statement: `endedRows` names a CTE (or table expression) with an `id`
 * column, usually the `RETURNING id` of the UPDATE that ended them. It sends one notification per 200 ids, none
 * when no row ended, and yields one row (`notices`). PostgreSQL skips a SELECT CTE that nothing reads: join it,
 * e.g. `WITH ended AS (UPDATE … RETURNING id), notified AS (${runsEndedNotice('ended')}) SELECT id FROM ended,
 * notified`.
 */
export function runsEndedNotice(endedRows: string): string {
  return `SELECT count(pg_notify('${RUNS_ENDED_CHANNEL}', chunks.ids)) AS notices
            FROM (SELECT string_agg(numbered.id::text, ',') AS ids
                    FROM (SELECT id, (row_number() OVER () - 1) / ${IDS_PER_NOTICE} AS chunk FROM ${endedRows}) numbered
                   GROUP BY numbered.chunk) chunks`;
}

/** The same for one run, as an expression for a SELECT list: `runId` is SQL, e.g. a parameter (`$1`). */
export function runEndedNotice(runId: string): string {
  return `pg_notify('${RUNS_ENDED_CHANNEL}', (${runId})::text)`;
}
