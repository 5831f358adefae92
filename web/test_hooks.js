// Hooks for the browser tests only, loaded by main.js when the page's address ends in
// ?test-hooks: inject a worker fault, count the engine's live allocations, and make the next
// run pause itself at [epoch, batch] (shown as if Pause had been pressed there), so a test
// acts at a known point.

/** Installs window.latheTest over the page's app object. */
export function install(app) {
  let hold = null;
  const post = app.engine.post.bind(app.engine);
  app.engine.post = (msg, transfer) => {
    if (msg.type === 'train' && hold) {
      post({ type: 'inject-fault', kind: 'pause', at: hold });
      hold = null;
    }
    post(msg, transfer);
  };
  const paused = app.engine.handlers.get('paused');
  app.engine.on('paused', (msg) => {
    if (msg.held) app.state.set({ training: 'paused' });
    paused(msg);
  });
  window.latheTest = {
    pauseAt: (epoch, batch = 0) => {
      hold = [epoch, batch];
    },
    inject: (kind) => app.engine.post({ type: 'inject-fault', kind }),
    allocLive: () => app.engine.ask('alloc-live'),
    deployAllocLive: () => app.engine.ask('alloc-live', { tools: 'deploy' }), // the deploy tools' module
    idle: () => app.store.idle(),
    stored: (key) => app.store.get(key),
    // Chromium 156 ignores CDP's Storage.overrideQuotaForOrigin, so a test makes the next
    // write fail the way a full quota does: its transaction throws the DOMException name.
    failStorage: (name) => {
      const { db } = app.store;
      const transaction = db.transaction;
      db.transaction = function (store, mode) {
        if (mode !== 'readwrite') return transaction.call(this, store, mode);
        delete db.transaction;
        throw new DOMException('a failure injected by a test', name);
      };
    },
  };
}
