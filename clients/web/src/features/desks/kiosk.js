// "Take a queue ticket": the service picker, which becomes a desk's ticket
// kiosk when the citizen stands at that desk (or picked it under "Walk to").
//
//   const panel = new ServicePanel({ send: (msg) => net.send(msg) });
//   panel.setWorld(world);
//   panel.near(x, z);            // every frame: opens/closes the kiosk of a nearby desk
//   panel.pickDesk('desk-2');    // from "Walk to": show that desk's kiosk now
//   panel.showError(code);       // an `error` whose ref is take_ticket
//   panel.chooseLang('sv'); panel.takeService('general');  // the VR panel's buttons
//
// The picker lists every service; a kiosk lists only its desk's services and
// offers "Show all services". The language of service comes from
// world.languages; it defaults to the UI language when that is offered.

import { getLanguage, langName, localName, onLanguageChange, t } from '../../core/i18n.js';
import { deskById, deskName, servePoint, servicesOf } from '../../world.js';

const $ = (id) => document.getElementById(id);

/** Within this distance of a desk's service spot, its kiosk opens... */
const KIOSK_OPEN_M = 3;
/** ...and it closes again beyond this one (no flicker at the edge). */
const KIOSK_CLOSE_M = 4.5;

export class ServicePanel {
  constructor({ send, errorText }) {
    this.send = send;
    this.errorText = errorText;
    this.panel = $('service-panel');
    this.form = $('service-form');
    this.choices = $('service-choices');
    this.lang = $('service-lang');
    this.error = $('service-error');
    this.kioskInfo = $('kiosk-info');
    this.kioskTitle = $('kiosk-title');
    this.world = null;
    this.kiosk = null; // {desk, source: 'near' | 'picked'}
    this.dismissed = null; // a desk whose kiosk the person closed while standing at it
    this.chosenLang = null; // the person's own choice, kept across re-renders
    this.errorCode = null;
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.take();
    });
    this.lang.addEventListener('change', () => { this.chosenLang = this.lang.value; });
    $('kiosk-all').addEventListener('click', () => {
      this.dismissed = this.kiosk?.desk ?? null;
      this.setKiosk(null);
      this.choices.querySelector('input')?.focus();
    });
    onLanguageChange(() => {
      this.render();
      if (this.errorCode) this.showError(this.errorCode);
    });
  }

  setWorld(world) {
    this.world = world;
    this.kiosk = null;
    this.dismissed = null;
    this.render();
  }

  /** The kiosk currently shown (a desk id), or null for the full picker. */
  get kioskDesk() {
    return this.kiosk?.desk ?? null;
  }

  setKiosk(deskId, source = 'near') {
    const before = this.kioskDesk;
    this.kiosk = deskId ? { desk: deskId, source } : null;
    if (before !== this.kioskDesk) {
      this.showError(null);
      this.render();
    }
  }

  /** From "Walk to": open the kiosk of that desk at once. */
  pickDesk(deskId) {
    if (!deskById(this.world, deskId)) return false;
    this.dismissed = null;
    this.setKiosk(deskId, 'picked');
    return true;
  }

  /** The local avatar is at (x, z): open the kiosk of a desk one stands at, close it on leaving. */
  near(x, z) {
    if (!this.world) return;
    let best = null, bestD = Infinity;
    for (const desk of this.world.desks || []) {
      const p = servePoint(desk);
      const d = Math.hypot(p.x - x, p.z - z);
      if (d < bestD) { best = desk; bestD = d; }
    }
    const current = this.kiosk && deskById(this.world, this.kiosk.desk);
    if (current) {
      const p = servePoint(current);
      const d = Math.hypot(p.x - x, p.z - z);
      // A kiosk picked from "Walk to" stays while walking there; once reached it behaves like any other.
      if (this.kiosk.source === 'picked' && d < KIOSK_OPEN_M) this.kiosk.source = 'near';
      if (this.kiosk.source === 'near' && d > KIOSK_CLOSE_M) this.setKiosk(null);
      // On the way to a picked desk, passing another one does not switch kiosks.
      if (this.kiosk?.source === 'picked') return;
    }
    if (this.dismissed) {
      if (best?.id === this.dismissed && bestD < KIOSK_CLOSE_M) return; // still standing there
      this.dismissed = null;
    }
    if (best && bestD < KIOSK_OPEN_M && best.id !== this.kioskDesk) this.setKiosk(best.id, 'near');
  }

  /** The services on offer: the kiosk's desk's, or all. */
  services() {
    const w = this.world;
    if (!w) return [];
    const desk = this.kiosk && deskById(w, this.kiosk.desk);
    return desk ? servicesOf(w, desk) : w.services || [];
  }

  render() {
    const w = this.world;
    if (!w) return;
    const desk = this.kiosk && deskById(w, this.kiosk.desk);
    this.kioskInfo.hidden = !desk;
    $('service-intro').hidden = Boolean(desk);
    if (desk) this.kioskTitle.textContent = t('service.kiosk', { desk: deskName(desk) });
    this.panel.dataset.kiosk = desk ? desk.id : '';

    const checked = this.form.querySelector('input[name=service]:checked')?.value;
    const services = this.services();
    this.choices.replaceChildren(...services.map((s) => {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = 'service';
      input.value = s.id;
      const letter = document.createElement('span');
      letter.className = 'service-letter';
      letter.textContent = s.letter;
      const name = document.createElement('span');
      name.textContent = localName(s.name);
      label.append(input, ' ', letter, ' ', name);
      return label;
    }));
    const keep = services.find((s) => s.id === checked) ?? (desk || services.length === 1 ? services[0] : null);
    if (keep) this.choices.querySelector(`input[value="${keep.id}"]`).checked = true;

    const languages = w.languages?.length ? w.languages : ['en'];
    const ui = getLanguage();
    const selected = [this.chosenLang, this.lang.value, ui].find((l) => l && languages.includes(l)) ?? languages[0];
    this.lang.replaceChildren(...languages.map((code) => {
      const opt = document.createElement('option');
      opt.value = code;
      opt.lang = code;
      opt.textContent = langName(code);
      return opt;
    }));
    this.lang.value = selected;
  }

  /** The VR panel's language choice: as choosing it in the form. */
  chooseLang(code) {
    this.chosenLang = code;
    this.lang.value = code;
  }

  /** The VR panel's service button: take a ticket as the form does with `service` chosen. */
  takeService(service) {
    const input = [...this.choices.querySelectorAll('input[name=service]')].find((i) => i.value === service);
    if (input) input.checked = true;
    this.take();
  }

  take() {
    const service = this.form.querySelector('input[name=service]:checked')?.value;
    if (!service) {
      this.showError('choose');
      this.choices.querySelector('input')?.focus();
      return;
    }
    this.showError(null);
    this.send({ t: 'take_ticket', service, lang: this.lang.value });
  }

  /** code: an error code from the server, 'choose' (nothing picked), or null to clear. */
  showError(code) {
    this.errorCode = code;
    this.error.textContent = !code ? '' : code === 'choose' ? t('service.choose') : this.errorText(code);
  }
}
