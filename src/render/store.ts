import type { Db } from '../db/connect.js';
import type { RenderedDigest } from './digest.js';

export async function saveRenderedEdition(db: Db, editionId: number, rendered: RenderedDigest): Promise<void> {
  await db
    .updateTable('editions')
    .set({ subject: rendered.subject, html: rendered.html, text: rendered.text, slot_nonce: rendered.slotNonce, rendered_at: new Date() })
    .where('id', '=', editionId)
    .execute();
}

export async function loadRenderedEdition(db: Db, editionId: number): Promise<RenderedDigest | undefined> {
  const row = await db
    .selectFrom('editions')
    .select(['subject', 'html', 'text', 'slot_nonce'])
    .where('id', '=', editionId)
    .executeTakeFirst();
  if (row?.subject == null || row.html == null || row.text == null || row.slot_nonce == null) return undefined;
  return { subject: row.subject, html: row.html, text: row.text, slotNonce: row.slot_nonce };
}

/** Editions that deliveries are waiting for and that nobody has rendered yet. */
export async function unrenderedEditionIds(db: Db): Promise<number[]> {
  const rows = await db
    .selectFrom('editions as e')
    .select('e.id')
    .where('e.rendered_at', 'is', null)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('deliveries as d')
          .select('d.id')
          .whereRef('d.edition_id', '=', 'e.id')
          .where('d.status', 'in', ['pending', 'sending']),
      ),
    )
    .orderBy('e.id')
    .execute();
  return rows.map((r) => r.id);
}
