// The event feed over Kysely (both adapters). Its order is
// (feed_tx, feed_seq), written at publish (see migration 8 of each adapter for why two columns).
import { type Kysely, type RawBuilder, sql } from 'kysely'
import type { FeedEventRow, Store } from '../store.ts'
import type { Database } from './database.ts'
import type { Run } from './sql-store.ts'

export interface FeedTraits {
  /**
   * Rows at or past this feed_tx are held back: transactions below it have all ended
   * (PostgreSQL: the snapshot's xmin). Absent: every committed row is safe (one writer).
   */
  feedHorizon?: RawBuilder<number>
  listenFeed?: (onEvents: (envId: string) => void) => Promise<() => Promise<void>>
}

export function sqlFeed(db: Kysely<Database>, run: Run, traits: FeedTraits): Store['feed'] {
  return {
    read: (envId, q) =>
      run(async () => {
        const after = q.after ?? { tx: -1, seq: -1 }
        const rows = await db
          .selectFrom('events')
          .select(['id', 'event_name', 'created', 'body', 'feed_tx', 'feed_seq'])
          .where('env_id', '=', envId)
          .where(sql<boolean>`(feed_tx, feed_seq) > (${after.tx}, ${after.seq})`)
          .$if(q.eventName !== undefined, (w) => w.where('event_name', '=', q.eventName!))
          .$if(traits.feedHorizon !== undefined, (w) => w.where('feed_tx', '<', traits.feedHorizon!))
          .orderBy('feed_tx')
          .orderBy('feed_seq')
          .limit(q.limit)
          .execute()
        return rows.map(
          (r): FeedEventRow => ({
            id: r.id,
            eventName: r.event_name,
            created: Number(r.created),
            body: Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body),
            position: { tx: Number(r.feed_tx), seq: Number(r.feed_seq) },
          }),
        )
      }),
    listen: (onEvents) => (traits.listenFeed ? traits.listenFeed(onEvents) : Promise.resolve(async () => {})),
  }
}
