// What the field app sends from its outbox: a new case (POST /api/v1/cases with the item's
// idempotency key, then its photo), or a step on a task. Progress is saved after each part, so
// a retry never repeats a part that the server has confirmed.
import { createCase, addPhoto, transition } from '../lib/cases.js';

export async function sendItem(item, progress) {
  if (item.kind === 'report') {
    let caseId = item.progress && item.progress.case_id;
    if (!caseId) {
      const doc = await createCase(item.payload, item.key);
      const c = doc.case || doc;
      caseId = c.id;
      await progress({ case_id: caseId });
    }
    if (item.photo && !(item.progress && item.progress.photo)) {
      await addPhoto(caseId, item.photo);
      await progress({ photo: true });
    }
    return { case_id: caseId };
  }
  if (item.kind === 'step') {
    const { case_id: id, ...step } = item.payload;
    await transition(id, step, { 'Idempotency-Key': item.key });
    return { case_id: id };
  }
  throw Object.assign(new Error('unknown outbox item ' + item.kind), { status: 400 });
}
