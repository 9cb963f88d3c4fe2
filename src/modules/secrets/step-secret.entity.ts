import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A value that http steps use as `{{ secrets.NAME }}`: written through the API, never read back out of it. */
@Entity({ name: 'step_secrets' })
export class StepSecret {
  @PrimaryColumn('text')
  name: string;

  /** `SecretCipher` token; its associated data is `stepSecretAssociatedData(name)`, so it opens only in this row. */
  @Column('text')
  ciphertext: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;
}

/** Not a trigger id (those are UUIDs): a token copied between the two kinds of rows does not open either. */
export function stepSecretAssociatedData(name: string): string {
  return `step-secret:${name}`;
}
