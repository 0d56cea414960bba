// The offline queue against a real IndexedDB implementation (fake-indexeddb): items persist
// across reopening, are sent oldest first with the key they were made with, wait (in order)
// while there is no connection, are sent once even when flushes overlap, keep the progress of a
// case already created, and a refused item stays visible as failed until retried or discarded.
import { describe, it, expect, beforeEach } from 'vitest';
import { IDBFactory } from 'fake-indexeddb';
import { openQueue, newKey, isTransient } from './queue.js';

let idb;
beforeEach(() => {
  idb = new IDBFactory();
});

const offline = () => Object.assign(new Error('Failed to fetch'), { status: 0 });

describe('offline queue', () => {
  it('keeps items across reopening, oldest first', async () => {
    let clock = 1000;
    const q = await openQueue({ indexedDB: idb, now: () => clock++ });
    await q.add({ kind: 'report', payload: { description: 'a' } });
    await q.add({ kind: 'report', payload: { description: 'b' } });
    q.close();
    const q2 = await openQueue({ indexedDB: idb });
    const items = await q2.pending();
    expect(items.map((i) => i.payload.description)).toEqual(['a', 'b']);
    expect(items.every((i) => i.state === 'pending' && /^[0-9a-f-]{36}$/.test(i.key))).toBe(true);
    expect(new Set(items.map((i) => i.key)).size).toBe(2);
  });

  it('waits while offline and sends each item once with its own key when back', async () => {
    const q = await openQueue({ indexedDB: idb, now: () => 5000 }); // same millisecond: order still kept
    const a = await q.add({ kind: 'report', payload: { description: 'a' } });
    const b = await q.add({ kind: 'report', payload: { description: 'b' } });
    let online = false;
    const seen = [];
    const send = async (item) => {
      if (!online) throw offline();
      seen.push(item.key);
      return { case_id: seen.length };
    };
    const r1 = await q.flush(send);
    expect(r1).toEqual({ sent: 0, failed: 0, waiting: 2 });
    expect((await q.pending()).length).toBe(2);
    online = true;
    const r2 = await q.flush(send);
    expect(r2.sent).toBe(2);
    expect(seen).toEqual([a.key, b.key]);
    expect(await q.pending()).toEqual([]);
    const sent = await q.sent();
    expect(sent.map((s) => s.result.case_id).sort()).toEqual([1, 2]);
    const r3 = await q.flush(send);
    expect(r3.sent).toBe(0);
    expect(seen.length).toBe(2);
  });

  it('overlapping flushes send an item once', async () => {
    const q = await openQueue({ indexedDB: idb });
    await q.add({ kind: 'report', payload: {} });
    let calls = 0;
    const send = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      return {};
    };
    const [x, y] = await Promise.all([q.flush(send), q.flush(send)]);
    expect(calls).toBe(1);
    expect(x).toBe(y);
  });

  it('keeps progress: a retried report does not create its case again', async () => {
    const q = await openQueue({ indexedDB: idb });
    await q.add({ kind: 'report', payload: {}, photo: new Uint8Array([1, 2, 3]) });
    let creates = 0;
    let photoOk = false;
    const send = async (item, progress) => {
      if (!item.progress.case_id) {
        creates++;
        await progress({ case_id: 42 });
      }
      if (!photoOk) throw Object.assign(new Error('server busy'), { status: 503 });
      return { case_id: item.progress.case_id || 42 };
    };
    await q.flush(send);
    const [left] = await q.pending();
    expect(left.progress.case_id).toBe(42);
    expect(left.attempts).toBe(1);
    expect(left.error).toBe('server busy');
    photoOk = true;
    await q.flush(send);
    expect(creates).toBe(1);
    expect(await q.pending()).toEqual([]);
  });

  it('a refused item is kept as failed, does not block the next, and can be retried or discarded', async () => {
    const q = await openQueue({ indexedDB: idb });
    const bad = await q.add({ kind: 'report', payload: { description: '' } });
    await q.add({ kind: 'report', payload: { description: 'ok' } });
    const send = async (item) => {
      if (!item.payload.description) throw Object.assign(new Error('description: required'), { status: 400 });
      return { case_id: 7 };
    };
    const r = await q.flush(send);
    expect(r).toEqual({ sent: 1, failed: 1, waiting: 0 });
    let [f] = await q.pending();
    expect(f.key).toBe(bad.key);
    expect(f.state).toBe('failed');
    expect(f.error).toBe('description: required');
    expect((await q.flush(send)).failed).toBe(0); // failed items wait for the user
    await q.retry(bad.key);
    [f] = await q.pending();
    expect(f.state).toBe('pending');
    await q.remove(bad.key);
    expect(await q.pending()).toEqual([]);
  });

  it('tells listeners about changes', async () => {
    const q = await openQueue({ indexedDB: idb });
    let n = 0;
    q.onChange(() => n++);
    await q.add({ kind: 'report', payload: {} });
    expect(n).toBeGreaterThan(0);
  });
});

describe('keys and errors', () => {
  it('makes version-4 UUIDs without crypto.randomUUID', () => {
    const fake = { getRandomValues: (b) => b.fill(0xff) };
    expect(newKey(fake)).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(newKey()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
  it('retries only what may succeed later', () => {
    expect(isTransient({ status: 0 })).toBe(true);
    expect(isTransient({ status: 503 })).toBe(true);
    expect(isTransient({ status: 429 })).toBe(true);
    expect(isTransient({ status: 400 })).toBe(false);
    expect(isTransient({ status: 409 })).toBe(false);
    expect(isTransient({ status: 403 })).toBe(false);
  });
});
