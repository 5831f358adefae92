/* Editable lists of the experiment (the Prepare step's steps, the Model step's layers): an
 * <ol> of items, each with move-up / move-down / remove buttons and a place for the core's
 * message about it. Items are drawn again after every edit; these helpers keep the focus
 * where the person was and put a message on the item it names. */
import { h } from './dom.js';

/** The ↑ ↓ ✕ buttons of item i of count, named "Move <noun> n up" and so on; a reason
 * (text) disables the remove button and says why. */
export function itemTools(i, count, noun, cannotRemove = '') {
  const n = i + 1;
  const button = (action, text, label, disabled) =>
    h(
      'button',
      {
        type: 'button',
        className: 'icon',
        'data-action': action,
        'data-index': String(i),
        'aria-label': label,
        title: label,
        disabled,
      },
      text,
    );
  return h(
    'span',
    { className: 'step-tools' },
    button('up', '↑', `Move ${noun} ${n} up`, i === 0),
    button('down', '↓', `Move ${noun} ${n} down`, i === count - 1),
    button('remove', '✕', cannotRemove || `Remove ${noun} ${n}`, !!cannotRemove),
  );
}

/** The empty message line an item carries (markItem fills it). */
export function itemMessage() {
  return h('p', { className: 'error step-error', role: 'alert', hidden: true });
}

/** Wires the list's buttons: edit(fn) edits a copy of the experiment, items(x) is the array
 * the list shows. owner.focusAfter records where the focus goes when the list is drawn
 * again (restoreFocus). */
export function wireItemTools(list, owner, edit, items) {
  list.addEventListener('click', (e) => {
    const button = e.target.closest('button[data-action]');
    if (!button) return;
    const i = Number(button.dataset.index),
      action = button.dataset.action;
    const j = action === 'up' ? i - 1 : i + 1;
    owner.focusAfter = { action, index: action === 'remove' ? i : j };
    edit((x) => {
      const a = items(x);
      if (action === 'remove') a.splice(i, 1);
      else [a[i], a[j]] = [a[j], a[i]];
    });
  });
}

/** After the list is drawn again: focus = {action, index} puts the focus on that item's
 * button of the action (or its first enabled button), after a move or a removal; otherwise
 * the element whose id was active (id) gets it back. */
export function restoreFocus(list, focus, id) {
  if (focus) {
    const li = list.children[Math.min(focus.index, list.children.length - 1)];
    const target =
      li &&
      (li.querySelector(`[data-action=${focus.action}]:not(:disabled)`) || li.querySelector('button:not(:disabled)'));
    if (target) target.focus();
  } else if (id && document.getElementById(id)) {
    document.getElementById(id).focus();
  }
}

/** Clears every item's message, then puts message on the item its path names (path, e.g.
 * /^prepare\[(\d+)\]/, matched at its start), as "<Noun> n: …". Returns whether an item took it. */
export function markItem(list, message, path, noun) {
  const items = [...list.children];
  items.forEach((li) => {
    li.classList.remove('invalid');
    li.querySelector('.step-error').hidden = true;
  });
  const at = message && message.match(path);
  const li = at && items[Number(at[1])];
  if (!li) return false;
  li.classList.add('invalid');
  const p = li.querySelector('.step-error');
  p.textContent = `${noun} ${Number(at[1]) + 1}${message.slice(at[0].length)} (${at[0]} in the experiment file)`;
  p.hidden = false;
  return true;
}
