import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The current secret has no expiry; rotated-out ones verify until `expiresAt`. */
@Entity({ name: 'webhook_trigger_secrets' })
export class TriggerSecret {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'trigger_id' })
  triggerId: string;

  @Column('text')
  ciphertext: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt: Date | null;
}
