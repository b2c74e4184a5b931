// For staff: comments citizens chose to share with the staff member who served
// them (`feedback_shared`), newest last, as "A citizen rated 4/5: comment".
// The citizen is never named; the line only carries the service and the time.
//
//   const panel = new SharedFeedback();
//   panel.show(isStaffInHall); panel.add(msg); panel.clear();

import { clockTime, localName, onLanguageChange, t } from '../../core/i18n.js';
import { serviceById } from '../../world.js';

const $ = (id) => document.getElementById(id);
/** Lines kept in the panel. */
const KEEP = 20;

export class SharedFeedback {
  constructor() {
    this.panel = $('shared-panel');
    this.list = $('shared-list');
    this.empty = $('shared-empty');
    this.world = null;
    this.entries = []; // {service, rating, comment, at}
    onLanguageChange(() => this.render());
  }

  setWorld(world) {
    this.world = world;
    this.render();
  }

  show(visible) {
    this.panel.hidden = !visible;
  }

  clear() {
    this.entries = [];
    this.render();
  }

  text(e) {
    const service = serviceById(this.world, e.service);
    return t('shared.line', {
      rating: e.rating,
      comment: e.comment || '',
      has_comment: e.comment ? 'yes' : 'no',
      service: service ? localName(service.name) : (e.service || ''),
    });
  }

  add(msg) {
    const entry = { service: msg.service, rating: Number(msg.rating), comment: msg.comment || '', at: Date.now() / 1000 };
    this.entries.push(entry);
    // Appended, not re-rendered: the list is a polite log, which reads additions only.
    this.list.append(this.line(entry));
    if (this.entries.length > KEEP) {
      this.entries.shift();
      this.list.firstElementChild?.remove();
    }
    this.empty.hidden = true;
  }

  line(e) {
    const li = document.createElement('li');
    li.className = 'shared-line';
    li.dataset.rating = String(e.rating);
    const time = document.createElement('span');
    time.className = 'chat-time';
    time.textContent = clockTime(e.at);
    li.append(time, ' ', this.text(e));
    return li;
  }

  render() {
    this.empty.hidden = this.entries.length > 0;
    this.list.replaceChildren(...this.entries.map((e) => this.line(e)));
  }
}
