// Avatar meshes for the 3D view: a body by shape (round, tall, box) in the
// person's colour, a nose showing where they face, a name tag, and for staff,
// hosts and admins a badge (a gold marker above the head and a coloured band
// and role line on the tag).

import * as THREE from 'three';
import { makeLabel } from './labels.js';
import { extraLines, tagExtras } from './tags.js';
import { t } from './core/i18n.js';

const BADGE_COLORS = { staff: '#0b6e4f', host: '#7b2cbf', admin: '#9d174d' };

const geometries = {
  round: () => {
    const g = new THREE.SphereGeometry(0.45, 24, 16);
    g.translate(0, 0.75, 0);
    return g;
  },
  tall: () => {
    const g = new THREE.CylinderGeometry(0.28, 0.34, 1.7, 20);
    g.translate(0, 0.85, 0);
    return g;
  },
  box: () => {
    const g = new THREE.BoxGeometry(0.7, 1.1, 0.5);
    g.translate(0, 0.55, 0);
    return g;
  },
};
const HEIGHT = { round: 1.2, tall: 1.7, box: 1.1 };

const cache = new Map();
function geometry(shape) {
  const key = geometries[shape] ? shape : 'round';
  if (!cache.has(key)) cache.set(key, geometries[key]());
  return cache.get(key);
}

const noseGeometry = new THREE.ConeGeometry(0.12, 0.3, 12).rotateX(-Math.PI / 2);
const badgeGeometry = new THREE.OctahedronGeometry(0.16);
const badgeMaterial = new THREE.MeshStandardMaterial({ color: 0xf5c518, emissive: 0x6b5200, roughness: 0.4 });

/** Extra lines under an avatar's name tag, by entity id (tags.js; the 2D view draws them too). */
export { tagExtras };

function tagLines(entity, isSelf) {
  const name = isSelf ? `${entity.name} (${t('view.you')})` : entity.name;
  const lines = entity.role && entity.role !== 'citizen' ? [name, t(`role.${entity.role}`)] : [name];
  return [...lines, ...extraLines(entity.id)];
}

/** One avatar: `group` goes in the scene; setPose() moves it. */
export class Avatar {
  constructor(entity, isSelf = false) {
    this.entity = entity;
    this.isSelf = isSelf;
    this.group = new THREE.Group();
    const color = new THREE.Color(entity.color ?? 0x3366cc);
    this.material = new THREE.MeshStandardMaterial({ color, roughness: 0.6 });
    const shape = entity.avatar || 'round';
    const body = new THREE.Mesh(geometry(shape), this.material);
    this.group.add(body);
    const h = HEIGHT[shape] ?? 1.2;
    const nose = new THREE.Mesh(noseGeometry, this.material);
    nose.position.set(0, h * 0.7, -0.45);
    this.group.add(nose);
    const badgeColor = BADGE_COLORS[entity.role];
    if (badgeColor) {
      const badge = new THREE.Mesh(badgeGeometry, badgeMaterial);
      badge.position.set(0, h + 0.3, 0);
      this.badge = badge;
      this.group.add(badge);
    }
    this.tag = makeLabel(tagLines(entity, isSelf), { badge: badgeColor ?? null });
    this.tag.sprite.position.set(0, h + (badgeColor ? 0.55 : 0.25), 0);
    this.group.add(this.tag.sprite);
  }

  setPose(x, y, z, yaw) {
    this.group.position.set(x, y, z);
    this.group.rotation.y = yaw;
  }

  /** Redraw the tag (after a language switch). */
  relabel() {
    this.tag.update(tagLines(this.entity, this.isSelf));
  }

  spin(dt) {
    if (this.badge) this.badge.rotation.y += dt * 1.5;
  }

  dispose() {
    this.material.dispose();
    this.tag.dispose();
  }
}
