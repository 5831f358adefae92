/* The page's side of the worker (wasm_bindings/worker.js): requests that answer by id, and
 * handlers for the training messages. The page never touches the engine itself. */
export class EngineClient {
  constructor(url = 'worker.js') {
    this.worker = new Worker(url);
    this.pending = new Map();
    this.handlers = new Map();
    this.nextId = 1;
    this.worker.onmessage = (event) => {
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
    this.worker.onerror = (event) => {
      const fn = this.handlers.get('crash');
      if (fn) fn({ message: event.message });
    };
  }

  /** Handles one message type ('ready', 'progress', 'done', …; 'crash' for worker errors). */
  on(type, fn) { this.handlers.set(type, fn); }

  /** Sends a request ('table', 'describe') and resolves with the worker's answer. */
  request(type, experiment, data) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type, id, experiment, data }, data ? [data] : []);
    });
  }

  post(msg, transfer = []) { this.worker.postMessage(msg, transfer); }
}
