// Phones and tablets: the touch joystick and drag-to-look (src/touch.js), a help
// line for them, and the side panels as a bottom sheet on narrow screens (sheet.js).
// Styles: src/mobile.css (touch targets of 44 px on coarse pointers, the sheet).
//
// Test hook: state().touch = {enabled, pushed: {x, y} | null},
//            state().sheet = {narrow, expanded}.

import { t } from '../../core/i18n.js';
import { addAxesSource } from '../../input.js';
import { installTouchControls } from '../../touch.js';
import { BottomSheet } from './sheet.js';

export const name = 'touch';
export const messages = new URL('./messages/', import.meta.url);

const $ = (id) => document.getElementById(id);

export function install(app) {
  const canvas = $('view');
  const help = document.createElement('p');
  help.id = 'touch-help';
  help.className = 'help';
  help.dataset.i18n = 'touch.help';
  help.textContent = t('touch.help');
  help.hidden = true;
  $('view-help').after(help);

  const touch = installTouchControls({
    wrap: canvas.closest('.view-wrap'),
    canvas,
    turnBy: (dyaw) => {
      if (app.self && app.net?.state === 'joined') app.local?.turnBy(dyaw);
    },
    onChange: (on) => {
      help.hidden = !on;
      const described = (canvas.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
      const rest = described.filter((id) => id !== 'touch-help');
      canvas.setAttribute('aria-describedby', (on ? [...rest, 'touch-help'] : rest).join(' '));
    },
  });
  addAxesSource(() => (app.self ? touch.axes() : null));
  app.onJoined(() => touch.setActive(true));
  app.onLeft(() => touch.setActive(false));

  const sheet = new BottomSheet({ side: $('side-panels'), toggle: $('sheet-toggle') });
  // A call to a desk must not go unseen under a collapsed sheet.
  const called = $('called-panel');
  new MutationObserver(() => { if (!called.hidden) sheet.expand(); })
    .observe(called, { attributes: true, attributeFilter: ['hidden'] });

  app.expose(() => ({
    touch: { enabled: touch.enabled, pushed: touch.pushed() },
    sheet: { narrow: sheet.narrow(), expanded: sheet.expanded },
  }));
}
