// Insight in the hall: alerts (`alert`) for the staff on duty for a service and
// for managers and admins, in a panel of their own next to the staff console.
//
// A firing alert is added to a role=alert region (read out at once); pending and
// resolved ones go to a role=status region (read out politely). Each line says
// its state in words, the service in the reader's language and the rule's kind
// translated (features/insight/text.js, shared with the dashboard).
//
// Messages: alert. Test hook: alerts ([{fingerprint, state, kind, service, text}]).

import { localName, onLanguageChange } from '../../core/i18n.js';
import { serviceById } from '../../world.js';
import { alertSentence } from './text.js';

export const name = 'insight';
export const messages = new URL('./messages/', import.meta.url);

const $ = (id) => document.getElementById(id);
/** Roles that get alerts (the server decides; the panel shows for these). */
const ROLES = new Set(['staff', 'admin', 'manager']);
/** Resolved alerts kept in the panel. */
const KEEP_RESOLVED = 5;

export function install(app) {
  const panel = $('alerts-panel');
  const firing = $('alerts-firing');
  const other = $('alerts-other');
  const none = $('alerts-none');
  /** fingerprint -> the last `alert`, in arrival order (resolved ones last). */
  const alerts = new Map();

  const serviceName = (id) => {
    const s = serviceById(app.world, id);
    return s ? localName(s.name) : id;
  };
  const sentence = (a) => alertSentence(a, serviceName, app.world?.timezone);

  function line(a) {
    const p = document.createElement('p');
    p.className = 'alert-line';
    p.dataset.fingerprint = a.fingerprint;
    p.dataset.state = a.state;
    p.dataset.kind = a.kind;
    p.textContent = sentence(a);
    return p;
  }

  function place(a) {
    for (const el of panel.querySelectorAll('.alert-line')) {
      if (el.dataset.fingerprint === a.fingerprint) el.remove();
    }
    const region = a.state === 'firing' ? firing : other;
    region.append(line(a));
    const resolved = [...alerts.values()].filter((x) => x.state === 'resolved');
    while (resolved.length > KEEP_RESOLVED) {
      const old = resolved.shift();
      alerts.delete(old.fingerprint);
      for (const el of other.querySelectorAll('.alert-line')) {
        if (el.dataset.fingerprint === old.fingerprint) el.remove();
      }
    }
    none.hidden = alerts.size > 0;
  }

  function rerender() {
    for (const el of panel.querySelectorAll('.alert-line')) {
      const a = alerts.get(el.dataset.fingerprint);
      if (a) el.textContent = sentence(a);
    }
  }

  function clear() {
    alerts.clear();
    firing.replaceChildren();
    other.replaceChildren();
    none.hidden = false;
  }

  const render = () => { panel.hidden = !(app.self && ROLES.has(app.role)); };

  app.onWelcome((msg) => { if (!msg.resumed) clear(); });
  app.onJoined(render);
  app.onLeft(() => { clear(); render(); });
  onLanguageChange(rerender);

  app.on('alert', (msg) => {
    alerts.delete(msg.fingerprint); // keep arrival order
    alerts.set(msg.fingerprint, { ...msg });
    place(msg);
  });

  app.expose(() => ({
    alerts: [...alerts.values()].map((a) => ({
      fingerprint: a.fingerprint, state: a.state, kind: a.kind, service: a.service ?? null, text: sentence(a),
    })),
  }));
}
