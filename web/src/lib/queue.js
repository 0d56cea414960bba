// The field app's offline queue: reports and task updates made without signal wait in IndexedDB
// and are sent, oldest first, when the connection returns. Each item gets its idempotency key when
// it is made, and that key goes with every attempt, so the server makes the case once however
// often the item is retried (a lost answer, a second tab, a reload mid-send). The storage is
// injected (fake-indexeddb in the tests, the browser's IndexedDB in the app).

const STORE = 'outbox';
const SENT = 'sent';
const SENT_KEEP = 50;

/** A random UUID, also where crypto.randomUUID is missing (plain http on an intranet). */
export function newKey(cryptoImpl = globalThis.crypto) {
  if (cryptoImpl && typeof cryptoImpl.randomUUID === 'function') return cryptoImpl.randomUUID();
  const b = new Uint8Array(16);
  cryptoImpl.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function promised(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

/** Whether an error means "try again later" (no answer, server trouble) rather than "refused". */
export function isTransient(err) {
  const s = err && typeof err.status === 'number' ? err.status : 0;
  return s === 0 || s === 408 || s === 429 || s === 503 || s >= 500;
}

/**
 * Opens the queue. options: indexedDB (factory), name (database name), now (clock, ms),
 * crypto (for keys), locks (navigator.locks or undefined: one flush across tabs).
 */
export async function openQueue(options = {}) {
  const idb = options.indexedDB || globalThis.indexedDB;
  const name = options.name || 'civgrid-field';
  const now = options.now || (() => Date.now());
  const cryptoImpl = options.crypto || globalThis.crypto;
  const locks = options.locks;
  const listeners = new Set();

  const db = await new Promise((resolve, reject) => {
    const req = idb.open(name, 1);
    req.onupgradeneeded = () => {
      const d = req.result;
      if (!d.objectStoreNames.contains(STORE)) d.createObjectStore(STORE, { keyPath: 'key' });
      if (!d.objectStoreNames.contains(SENT)) d.createObjectStore(SENT, { keyPath: 'key' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

  const changed = () => listeners.forEach((f) => f());
  // Order of making: milliseconds, then a counter for items made within the same millisecond.
  let lastMs = 0;
  let sub = 0;
  const nextSeq = () => {
    const ms = now();
    sub = ms === lastMs ? sub + 1 : 0;
    lastMs = ms;
    return ms * 1000 + Math.min(sub, 999);
  };

  async function all(store) {
    const tx = db.transaction(store, 'readonly');
    const rows = await promised(tx.objectStore(store).getAll());
    return rows.sort((a, b) => (a.seq ?? a.created_at * 1000) - (b.seq ?? b.created_at * 1000));
  }

  async function write(store, fn) {
    const tx = db.transaction(store, 'readwrite');
    const result = fn(tx.objectStore(store));
    await done(tx);
    changed();
    return result;
  }

  const q = {
    /** Queues one item: {kind, payload, photo?, label?}; returns it with its key. */
    async add(item) {
      const row = {
        key: newKey(cryptoImpl),
        kind: item.kind,
        payload: item.payload,
        photo: item.photo || null,
        label: item.label || '',
        created_at: now(),
        seq: nextSeq(),
        attempts: 0,
        state: 'pending',
        error: '',
        progress: {},
      };
      await write(STORE, (s) => s.put(row));
      return row;
    },
    /** Items still to send (pending and failed), oldest first. */
    pending: () => all(STORE),
    /** Items sent, newest first (the last 50). */
    async sent() {
      return (await all(SENT)).reverse();
    },
    async remove(key) {
      await write(STORE, (s) => s.delete(key));
    },
    /** Sends a failed item again with the same key. */
    async retry(key) {
      const tx = db.transaction(STORE, 'readwrite');
      const s = tx.objectStore(STORE);
      const row = await promised(s.get(key));
      if (row) s.put({ ...row, state: 'pending', error: '' });
      await done(tx);
      changed();
    },
    onChange(f) {
      listeners.add(f);
      return () => listeners.delete(f);
    },
    close() {
      db.close();
    },
  };

  async function update(key, patch) {
    const tx = db.transaction(STORE, 'readwrite');
    const s = tx.objectStore(STORE);
    const row = await promised(s.get(key));
    if (row) s.put({ ...row, ...patch });
    await done(tx);
    changed();
    return row ? { ...row, ...patch } : null;
  }

  async function finish(row, result) {
    const tx = db.transaction([STORE, SENT], 'readwrite');
    tx.objectStore(STORE).delete(row.key);
    const sent = tx.objectStore(SENT);
    sent.put({ key: row.key, kind: row.kind, label: row.label, created_at: row.created_at, seq: nextSeq(), sent_at: now(), result: result || null });
    await done(tx);
    const rows = await all(SENT);
    if (rows.length > SENT_KEEP) {
      await write(SENT, (s) => rows.slice(0, rows.length - SENT_KEEP).forEach((r) => s.delete(r.key)));
    }
    changed();
  }

  let running = null;
  async function flushOnce(send) {
    const report = { sent: 0, failed: 0, waiting: 0 };
    const rows = (await all(STORE)).filter((r) => r.state === 'pending');
    for (let i = 0; i < rows.length; i++) {
      let row = rows[i];
      row = await update(row.key, { attempts: row.attempts + 1 });
      if (!row) continue; // removed meanwhile
      try {
        const progress = async (p) => {
          row = await update(row.key, { progress: { ...row.progress, ...p } });
        };
        const result = await send(row, progress);
        await finish(row, result);
        report.sent++;
      } catch (err) {
        if (isTransient(err)) {
          await update(row.key, { error: String(err.message || err) });
          report.waiting += rows.length - i; // keep the order: stop at the first that must wait
          break;
        }
        await update(row.key, { state: 'failed', error: String(err.message || err), status: err.status || 0 });
        report.failed++;
      }
    }
    return report;
  }

  /**
   * Sends every pending item with send(item, progress) -> result (throws ApiError-like errors
   * with .status). One flush at a time: a call during a flush gets that flush's report.
   */
  q.flush = (send) => {
    if (running) return running;
    const run = () => flushOnce(send);
    running = (locks ? locks.request('civgrid-outbox', run) : run()).finally(() => {
      running = null;
    });
    return running;
  };

  return q;
}
