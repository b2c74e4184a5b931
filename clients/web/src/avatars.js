// One avatar of the 3D view, as state: who it is (entity), its body build and
// colours, where it is (pose), how it moves (speed and walk phase, for the walk
// animation), whether it speaks, and its name tag. Drawing is crowd.js's: every
// avatar is a few instances of shared instanced meshes, so this holds no mesh.
//
// Body builds keep the protocol's avatar values (protocol/messages/common.py AVATAR):
// 'round' is a broad build, 'tall' a tall slim one, 'box' a compact one.
// The person's colour is their clothing; trousers are a darker shade of it.
// Staff, hosts, admins, managers, bots and captioners get a badge: a gold marker
// above the head, and a coloured band and role line on the tag.

import { makeLabel } from './labels.js';
import { extraLines, tagExtras } from './tags.js';
import { t } from './core/i18n.js';
import * as THREE from 'three';

export const BADGE_COLORS = {
  staff: '#0b6e4f', host: '#7b2cbf', admin: '#9d174d', manager: '#9a3412', bot: '#0e7490', captioner: '#1d4ed8',
};

/**
 * Body builds by the protocol's avatar value: w (shoulder and hip width), h (height),
 * d (depth), limb (arm and leg thickness), relative to a 1.75 m person.
 */
export const BUILDS = {
  round: { w: 1.24, h: 0.98, d: 1.22, limb: 1.22 }, // broad
  tall: { w: 0.92, h: 1.1, d: 0.94, limb: 0.94 }, // tall and slim
  box: { w: 1.06, h: 0.87, d: 1.06, limb: 1.06 }, // compact
};

// Skin tones (the head and hands), chosen by entity id so a person keeps theirs.
const SKIN = ['#f1c27d', '#e0ac69', '#c68642', '#8d5524', '#ffdbac', '#a1665e', '#5c3a21', '#d9a066'];
const TROUSERS = new THREE.Color('#263040');

/** Extra lines under an avatar's name tag, by entity id (tags.js; the 2D view draws them too). */
export { tagExtras };

/** One avatar's state; crowd.js draws it. */
export class Avatar {
  constructor(entity, isSelf = false) {
    this.entity = entity;
    this.id = entity.id;
    this.isSelf = isSelf;
    this.shape = BUILDS[entity.avatar] ? entity.avatar : 'round';
    this.build = BUILDS[this.shape];
    this.height = 1.78 * this.build.h; // the top of the head, metres
    this.clothing = new THREE.Color(entity.color ?? 0x3366cc);
    this.trousers = this.clothing.clone().lerp(TROUSERS, 0.65);
    this.skin = new THREE.Color(SKIN[Math.abs(Number(entity.id) || 0) % SKIN.length]);
    this.badgeColor = BADGE_COLORS[entity.role] ?? null;
    // Pose (setPose) and motion (crowd.js).
    this.x = entity.x ?? 0; this.y = 0; this.z = entity.z ?? 0; this.yaw = entity.yaw ?? 0;
    this.px = this.x; this.pz = this.z; // the pose of the frame before
    this.speed = 0; // smoothed ground speed, m/s
    this.phase = 0; // walk cycle, radians
    this.idle = (Math.abs(Number(entity.id) || 0) * 0.618) % (Math.PI * 2); // idle sway offset
    this.leg = 0; this.arm = 0; this.bob = 0; // the angles last drawn (the debug accessor)
    this.visible = true;
    this.speaking = false;
    this.dist2 = 0; // squared distance to the camera (crowd.js)
    this.near = true; // drawn with limbs
    this.tag = null; // made when first shown
    this.tagShown = false;
  }

  setPose(x, y, z, yaw) {
    this.x = x; this.y = y; this.z = z; this.yaw = yaw;
  }

  tagLines() {
    const e = this.entity;
    const name = this.isSelf ? `${e.name} (${t('view.you')})` : e.name;
    const lines = e.role && e.role !== 'citizen' ? [name, t(`role.${e.role}`)] : [name];
    if (this.speaking) lines.push(t('avatar.speaking'));
    return [...lines, ...extraLines(e.id)];
  }

  /** The name tag (a sprite), made on first use. */
  ensureTag() {
    if (!this.tag) this.tag = makeLabel(this.tagLines(), { badge: this.badgeColor });
    return this.tag;
  }

  /** Redraw the tag (a language switch, speaking on or off). */
  relabel() {
    this.tag?.update(this.tagLines());
  }

  dispose() {
    this.tag?.dispose();
    this.tag = null;
  }
}
