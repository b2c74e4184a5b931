// The feedback kiosks of the world (world.kiosks): standing within 3 m of one
// shows a panel with its name and a "Give feedback" button, which asks the
// server for a kiosk survey (survey_request). The panel goes away beyond 4 m
// (the server's own limit, feedback.kiosk_radius_m). "Walk to" lists the kiosks
// (world.places), so the keyboard gets there too; the panel is announced.
//
//   const kiosks = new FeedbackKiosks({ send, errorText, announce });
//   kiosks.setWorld(world); kiosks.near(x, z);  // every frame
//   kiosks.showError(code);                      // an `error` whose ref is survey_request

import { onLanguageChange, t } from '../../core/i18n.js';
import { kioskName } from '../../world.js';

const $ = (id) => document.getElementById(id);

/** Within this distance of a kiosk its panel shows... */
export const KIOSK_NEAR_M = 3;
/** ...and it goes away again beyond this one (no flicker at the edge; the server allows 4 m). */
const KIOSK_FAR_M = 4;

export class FeedbackKiosks {
  constructor({ send, errorText, announce }) {
    this.send = send;
    this.errorText = errorText;
    this.announce = announce;
    this.panel = $('fkiosk-panel');
    this.title = $('fkiosk-heading');
    this.button = $('fkiosk-give');
    this.error = $('fkiosk-error');
    this.world = null;
    this.current = null; // {id}
    this.enabled = false;
    this.errorCode = null;
    this.button.addEventListener('click', () => this.request());
    onLanguageChange(() => {
      this.render();
      if (this.errorCode) this.showError(this.errorCode);
    });
  }

  setWorld(world) {
    this.world = world;
    this.setKiosk(null);
  }

  /** Only people who may send survey_request see kiosks' panels. */
  setEnabled(on) {
    this.enabled = on;
    if (!on) this.setKiosk(null);
    this.render();
  }

  get kioskId() {
    return this.current?.id ?? null;
  }

  kiosk(id) {
    return (this.world?.kiosks || []).find((k) => k.id === id);
  }

  setKiosk(id) {
    const before = this.kioskId;
    this.current = id ? { id } : null;
    if (before !== this.kioskId) {
      this.showError(null);
      this.render();
      if (id) this.announce?.(t('fkiosk.here', { name: kioskName(this.kiosk(id)) }));
    }
  }

  /** The local avatar is at (x, z). */
  near(x, z) {
    if (!this.enabled || !this.world) return;
    const dist = (k) => Math.hypot(k.position[0] - x, k.position[1] - z);
    const current = this.current && this.kiosk(this.current.id);
    if (current) {
      if (dist(current) > KIOSK_FAR_M) this.setKiosk(null);
      else return;
    }
    let best = null, bestD = Infinity;
    for (const k of this.world.kiosks || []) {
      const d = dist(k);
      if (d < bestD) { best = k; bestD = d; }
    }
    if (best && bestD < KIOSK_NEAR_M) this.setKiosk(best.id);
  }

  request() {
    const id = this.kioskId;
    if (!id) return;
    this.showError(null);
    if (!this.send({ t: 'survey_request', kind: 'kiosk', kiosk: id })) this.showError('offline');
  }

  showError(code) {
    this.errorCode = code;
    let text = '';
    if (code === 'offline') text = t('survey.offline');
    else if (code === 'already_answered') text = t('fkiosk.recent'); // one kiosk answer in a while
    else if (code) text = this.errorText(code);
    this.error.textContent = text;
  }

  render() {
    const k = this.current && this.kiosk(this.current.id);
    this.panel.hidden = !(this.enabled && k);
    if (k) this.title.textContent = kioskName(k);
    this.panel.dataset.kiosk = k ? k.id : '';
  }
}
