import type { MigrationInterface, QueryRunner } from 'typeorm';

// Admissions to concurrency keys and hand-overs of a key's free places, a batch per round trip, each run under its
// key's advisory lock (the name is FlowTransaction.lockKeys's). Keys are taken in name order, as lockKeys takes
// them. Each statement of a PL/pgSQL function takes its own snapshot: the counts made after a lock see every run
// that the lock's last holder started or ended, and the runs of the same batch before it.
export class ConcurrencyAdmission1764217350000 implements MigrationInterface {
  name = 'ConcurrencyAdmission1764217350000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION hookrun_admit_to_keys(p_runs uuid[], p_workflows uuid[], p_keys text[],
                                                       p_limits integer[], p_locks text[])
        RETURNS TABLE (run uuid, decision text)
      LANGUAGE plpgsql AS $$
      DECLARE
        i integer;
        v_running integer;
        v_older integer;
      BEGIN
        FOR i IN SELECT u.o FROM unnest(p_locks, p_runs) WITH ORDINALITY AS u(lock, id, o) ORDER BY u.lock, u.id LOOP
          PERFORM pg_advisory_xact_lock(hashtextextended(p_locks[i], 0));
          run := p_runs[i];
          -- Stored first: a run that has to wait is found by the hand-over of the key's next end.
          UPDATE workflow_runs SET concurrency_key = p_keys[i] WHERE id = p_runs[i] AND status = 'queued';
          IF NOT FOUND THEN
            decision := 'ended';
          ELSE
            SELECT count(*) FILTER (WHERE status = 'running'),
                   count(*) FILTER (WHERE status = 'queued' AND id < p_runs[i])
              INTO v_running, v_older
              FROM workflow_runs
             WHERE workflow_id = p_workflows[i] AND concurrency_key = p_keys[i] AND completed_at IS NULL;
            IF v_running + v_older >= p_limits[i] THEN
              decision := 'parked';
            ELSE
              UPDATE workflow_runs SET status = 'running', started_at = COALESCE(started_at, clock_timestamp()),
                     wake_at = NULL, updated_at = now()
               WHERE id = p_runs[i];
              decision := 'admitted';
            END IF;
          END IF;
          RETURN NEXT;
        END LOOP;
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION hookrun_hand_over_keys(p_workflows uuid[], p_keys text[], p_limits integer[],
                                                        p_locks text[])
        RETURNS TABLE (item integer, run uuid)
      LANGUAGE plpgsql AS $$
      DECLARE
        i integer;
      BEGIN
        FOR i IN SELECT u.o FROM unnest(p_locks) WITH ORDINALITY AS u(lock, o) ORDER BY u.lock LOOP
          PERFORM pg_advisory_xact_lock(hashtextextended(p_locks[i], 0));
          RETURN QUERY
            WITH running AS (
                   SELECT count(*)::integer AS n FROM workflow_runs
                    WHERE workflow_id = p_workflows[i] AND concurrency_key = p_keys[i] AND completed_at IS NULL
                      AND status = 'running'),
                 next AS (
                   SELECT id FROM workflow_runs
                    WHERE workflow_id = p_workflows[i] AND concurrency_key = p_keys[i] AND completed_at IS NULL
                      AND status = 'queued'
                    ORDER BY id LIMIT GREATEST(p_limits[i] - (SELECT n FROM running), 0)),
                 started AS (
                   UPDATE workflow_runs r
                      SET status = 'running', started_at = COALESCE(r.started_at, clock_timestamp()), wake_at = NULL,
                          updated_at = now()
                     FROM next WHERE r.id = next.id AND r.status = 'queued'
                   RETURNING r.id)
            SELECT i, started.id FROM started;
        END LOOP;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS hookrun_hand_over_keys(uuid[], text[], integer[], text[])`);
    await q.query(`DROP FUNCTION IF EXISTS hookrun_admit_to_keys(uuid[], uuid[], text[], integer[], text[])`);
  }
}
