import type { MigrationInterface, QueryRunner } from 'typeorm';

// Outbound notifications (docs/notifications.md). The outbox row is written by a trigger on workflow_runs, in the
// transaction that ends the run, whichever statement ends it. The trigger's WHEN is evaluated inline (no function
// call) on every update that sets `status`; only a run's change to a final status calls the function, whose one
// statement finds no endpoint row when nothing subscribes. Events have no foreign key to workflow_runs: deleting or
// updating a run checks nothing more; the notifications pruner removes events whose run is gone.
export class Notifications1764217500000 implements MigrationInterface {
  name = 'Notifications1764217500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notify_endpoints (
        id uuid PRIMARY KEY,
        -- NULL: the instance-wide endpoint of NOTIFY_URL, which every run's end reaches.
        workflow_id uuid REFERENCES workflows(id) ON DELETE CASCADE,
        url text NOT NULL,
        events text[] NOT NULL,
        secret text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        secret_rotated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX notify_endpoints_workflow_url_idx ON notify_endpoints (workflow_id, url)`);
    await q.query(
      `CREATE UNIQUE INDEX notify_endpoints_instance_idx ON notify_endpoints (url) WHERE workflow_id IS NULL`,
    );
    await q.query(`
      CREATE TABLE notification_events (
        id uuid PRIMARY KEY,
        run_id uuid NOT NULL,
        workflow_id uuid NOT NULL,
        endpoint_id uuid NOT NULL REFERENCES notify_endpoints(id) ON DELETE CASCADE,
        type text NOT NULL,
        -- The run as it ended (status, error, times): what the event says even if the run is retried later.
        run jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        -- The JSON body, written at the first attempt: every retry sends the same bytes under the same webhook-id.
        body text,
        finished_at timestamptz
      )`);
    await q.query(`CREATE INDEX notification_events_run_idx ON notification_events (run_id)`);
    await q.query(`CREATE INDEX notification_events_endpoint_idx ON notification_events (endpoint_id)`);
    await q.query(
      `CREATE INDEX notification_events_due_idx ON notification_events (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(`
      CREATE TABLE notification_attempts (
        id uuid PRIMARY KEY,
        event_id uuid NOT NULL REFERENCES notification_events(id) ON DELETE CASCADE,
        attempted_at timestamptz NOT NULL,
        duration_ms int NOT NULL,
        status_code int,
        error_code text,
        error text,
        delivered boolean NOT NULL
      )`);
    await q.query(`CREATE INDEX notification_attempts_event_idx ON notification_attempts (event_id, attempted_at)`);
    await q.query(`
      CREATE FUNCTION hookrun_run_ended_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- A plain probe first: an INSERT opens its table and indexes even when it writes nothing, and with no
        -- endpoint configured (the common case) this probe is all a run's end costs.
        IF NOT EXISTS (SELECT 1 FROM notify_endpoints e
                        WHERE (e.workflow_id = NEW.workflow_id OR e.workflow_id IS NULL)
                          AND 'run.' || NEW.status = ANY (e.events)) THEN
          RETURN NULL;
        END IF;
        INSERT INTO notification_events (id, run_id, workflow_id, endpoint_id, type, run)
        SELECT gen_random_uuid(), NEW.id, NEW.workflow_id, e.id, 'run.' || NEW.status,
               jsonb_build_object('status', NEW.status, 'error', NEW.error,
                                  'startedAt', NEW.started_at, 'completedAt', NEW.completed_at)
          FROM notify_endpoints e
         WHERE (e.workflow_id = NEW.workflow_id OR e.workflow_id IS NULL)
           AND 'run.' || NEW.status = ANY (e.events);
        -- Wakes the dispatchers at commit; one notice per transaction however many rows (PostgreSQL folds repeats).
        PERFORM pg_notify('hookrun_notifications_due', '');
        RETURN NULL;
      END
      $$`);
    await q.query(`
      CREATE TRIGGER workflow_runs_ended_notify
        AFTER UPDATE OF status ON workflow_runs
        FOR EACH ROW
        WHEN (NEW.status IN ('completed', 'failed', 'cancelled') AND OLD.status IS DISTINCT FROM NEW.status)
        EXECUTE FUNCTION hookrun_run_ended_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS workflow_runs_ended_notify ON workflow_runs`);
    await q.query(`DROP FUNCTION IF EXISTS hookrun_run_ended_notify()`);
    await q.query(`DROP TABLE IF EXISTS notification_attempts`);
    await q.query(`DROP TABLE IF EXISTS notification_events`);
    await q.query(`DROP TABLE IF EXISTS notify_endpoints`);
  }
}
