/* The page's side of the worker (wasm_bindings/worker.js): requests that answer by id, and
 * handlers for the training messages. The page never touches the engine itself. A worker that
 * faults is replaced by restart(); requests it had not answered are refused with the reason. */
export class EngineClient {
  constructor(url = 'worker.js') {
    this.url = url;
    this.pending = new Map();
    this.handlers = new Map();
    this.nextId = 1;
    this.#spawn();
  }

  #spawn() {
    const worker = new Worker(this.url);
    this.worker = worker;
    worker.onmessage = (event) => {
      if (worker !== this.worker) return; // a replaced worker's last words
      const msg = event.data;
      if (msg.type === 'reply') {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (p) msg.ok ? p.resolve(msg.value) : p.reject(new Error(msg.message));
        return;
      }
      const fn = this.handlers.get(msg.type);
      if (fn) fn(msg);
    };
    worker.onerror = (event) => {
      event.preventDefault(); // reported in the page, not as an uncaught error
      if (worker !== this.worker) return;
      const fn = this.handlers.get('crash');
      if (fn) fn({ message: event.message || 'the worker stopped' });
    };
  }

  /** Replaces the worker with a fresh one (a new engine, an empty heap). */
  restart(reason) {
    this.worker.terminate();
    this.lastSet = null; // the new worker has read no image set
    for (const p of this.pending.values()) p.reject(new Error(`the engine was restarted (${reason})`));
    this.pending.clear();
    this.#spawn();
  }

  /** Handles one message type ('ready', 'progress', 'done', …; 'crash' for worker errors). */
  on(type, fn) {
    this.handlers.set(type, fn);
  }

  /** Sends a request ('table', 'describe') and resolves with the worker's answer. */
  request(type, experiment, data) {
    const { message, transfer } = this.data(data);
    return this.ask(type, { experiment, data: message }, transfer);
  }

  /** A request's data as posted: CSV bytes (transferred: a copy the caller made), null, or an
   * image set, whose files (often 30 MB and more) are copied to the worker only the first
   * time in a row it is sent; after that {kind, id} names it, and the worker uses the set it
   * read last. */
  data(data) {
    if (data instanceof ArrayBuffer) return { message: data, transfer: [data] };
    if (!data || data.kind !== 'idx') return { message: data, transfer: [] };
    if (this.lastSet === data.id) return { message: { kind: 'idx', id: data.id }, transfer: [] };
    this.lastSet = data.id;
    return { message: data, transfer: [] };
  }

  /** Sends a request of any type with its fields and resolves with the worker's answer. */
  ask(type, fields = {}, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...fields, type, id }, transfer);
    });
  }

  post(msg, transfer = []) {
    this.worker.postMessage(msg, transfer);
  }
}
