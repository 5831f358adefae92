/* What the page keeps in this browser's IndexedDB, so closing the tab loses nothing: the
 * experiment text, the uploaded data's bytes, the last finished run (metrics, model file,
 * final checkpoint) and the checkpoint of a run in progress. Writes are queued and coalesced
 * per key (the newest value wins), one transaction at a time; a failed write (a full quota,
 * storage disabled) is reported through onError, never swallowed. */
const DB_NAME = 'lathe';
const STORE = 'kv';

/** A person's sentence for a failed write. */
export function storageMessage(e) {
  const name = (e && e.name) || 'Error';
  if (name === 'QuotaExceededError') {
    return (
      "This browser's storage for the page is full, so your latest work is not saved here: " +
      'download the experiment (and the checkpoint, in Train) to keep it, or free some space.'
    );
  }
  return `Your work could not be saved in this browser (${name}: ${(e && e.message) || 'unknown error'}); download the experiment to keep it.`;
}

export class Store {
  constructor(onError, onSaved) {
    this.onError = onError; // (message) when a write fails
    this.onSaved = onSaved; // (keys) when a write has committed
    this.db = null;
    this.queued = new Map(); // key -> value (undefined: delete)
    this.flushing = null;
  }

  async open() {
    if (typeof indexedDB === 'undefined') throw new Error('this browser has no IndexedDB');
    this.db = await new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error("another tab holds an older version of the page's storage open"));
    });
  }

  /** The stored value of key, or undefined. */
  get(key) {
    if (!this.db) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const req = this.db.transaction(STORE, 'readonly').objectStore(STORE).get(key);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  /** Queues a write; resolves when it (or a newer value of the key) has committed or failed. */
  put(key, value) {
    this.queued.set(key, value);
    return this.#flush();
  }

  delete(key) {
    return this.put(key, undefined);
  }

  /** Resolves when everything queued so far is written. */
  idle() {
    return this.flushing || Promise.resolve();
  }

  #flush() {
    if (!this.flushing) {
      this.flushing = (async () => {
        while (this.queued.size) {
          const batch = new Map(this.queued);
          this.queued.clear();
          await this.#write(batch);
        }
        this.flushing = null;
      })();
    }
    return this.flushing;
  }

  #write(batch) {
    if (!this.db) return Promise.resolve();
    return new Promise((resolve) => {
      let tx;
      try {
        tx = this.db.transaction(STORE, 'readwrite');
        const store = tx.objectStore(STORE);
        for (const [key, value] of batch) {
          if (value === undefined) store.delete(key);
          else store.put(value, key);
        }
      } catch (e) {
        this.onError(storageMessage(e));
        resolve();
        return;
      }
      tx.oncomplete = () => {
        this.onSaved([...batch.keys()]);
        resolve();
      };
      // A quota error aborts the transaction; its error says why.
      tx.onabort = () => {
        this.onError(storageMessage(tx.error));
        resolve();
      };
    });
  }
}
