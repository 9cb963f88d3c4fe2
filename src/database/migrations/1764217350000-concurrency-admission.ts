import type { MigrationInterface, QueryRunner } from 'typeorm';

// The admission of a run to a concurrency key and the hand-over of a key's free places, each one round trip under
// the key's advisory lock (the name is FlowTransaction.lockKeys's). Each statement of a PL/pgSQL function takes its
// own snapshot, so the counts made after the lock see every run that the lock's last holder started or ended.
export class ConcurrencyAdmission1764217350000 implements MigrationInterface {
  name = 'ConcurrencyAdmission1764217350000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION hookrun_admit_to_key(p_run uuid, p_workflow uuid, p_key text, p_limit integer,
                                                      p_lock text) RETURNS text
      LANGUAGE plpgsql AS $$
      DECLARE
        v_running integer;
        v_older integer;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended(p_lock, 0));
        -- Stored first: a run that has to wait is found by the hand-over of the key's next end.
        UPDATE workflow_runs SET concurrency_key = p_key WHERE id = p_run AND status = 'queued';
        IF NOT FOUND THEN RETURN 'ended'; END IF;
        SELECT count(*) FILTER (WHERE status = 'running'), count(*) FILTER (WHERE status = 'queued' AND id < p_run)
          INTO v_running, v_older
          FROM workflow_runs WHERE workflow_id = p_workflow AND concurrency_key = p_key AND completed_at IS NULL;
        IF v_running + v_older >= p_limit THEN RETURN 'parked'; END IF;
        UPDATE workflow_runs SET status = 'running', started_at = COALESCE(started_at, clock_timestamp()),
               wake_at = NULL, updated_at = now()
         WHERE id = p_run;
        RETURN 'admitted';
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION hookrun_hand_over_key(p_workflow uuid, p_key text, p_limit integer, p_lock text)
        RETURNS SETOF uuid
      LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended(p_lock, 0));
        RETURN QUERY
          WITH running AS (
                 SELECT count(*)::integer AS n FROM workflow_runs
                  WHERE workflow_id = p_workflow AND concurrency_key = p_key AND completed_at IS NULL
                    AND status = 'running'),
               next AS (
                 SELECT id FROM workflow_runs
                  WHERE workflow_id = p_workflow AND concurrency_key = p_key AND completed_at IS NULL
                    AND status = 'queued'
                  ORDER BY id LIMIT GREATEST(p_limit - (SELECT n FROM running), 0)),
               started AS (
                 UPDATE workflow_runs r
                    SET status = 'running', started_at = COALESCE(r.started_at, clock_timestamp()), wake_at = NULL,
                        updated_at = now()
                   FROM next WHERE r.id = next.id AND r.status = 'queued'
                 RETURNING r.id)
          SELECT id FROM started;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS hookrun_hand_over_key(uuid, text, integer, text)`);
    await q.query(`DROP FUNCTION IF EXISTS hookrun_admit_to_key(uuid, uuid, text, integer, text)`);
  }
}
