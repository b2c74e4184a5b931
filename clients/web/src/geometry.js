// Static geometry gathered into one indexed BufferGeometry with vertex colours,
// so many boxes, quads and small meshes cost one draw call: the hall's merged
// meshes (hall3d.js) and the avatars' body parts (crowd.js).
//
//   const b = new GeometryBuilder();
//   b.box(x, y, z, w, h, d, color, yaw, pitch); b.segment(...); b.quad(...);
//   b.add(anyGeometry, color);          // color: a hex/CSS colour or [r, g, b]
//   const geometry = b.geometry();      // null when nothing was added

import * as THREE from 'three';

const tmpColor = new THREE.Color();
const tmpM = new THREE.Matrix4();
const tmpQ = new THREE.Quaternion();
const tmpE = new THREE.Euler();
const tmpV = new THREE.Vector3();
const ONE = new THREE.Vector3(1, 1, 1);

function setColor(color) {
  return Array.isArray(color) ? tmpColor.setRGB(color[0], color[1], color[2]) : tmpColor.set(color);
}

export class GeometryBuilder {
  constructor() {
    this.pos = [];
    this.nor = [];
    this.col = [];
    this.idx = [];
    this.boxes = 0;
  }

  /** A box w x h x d centred at (x, y, z), turned by yaw about y (and pitch about x). */
  box(x, y, z, w, h, d, color, yaw = 0, pitch = 0) {
    if (w <= 0 || h <= 0 || d <= 0) return;
    const g = new THREE.BoxGeometry(w, h, d);
    tmpE.set(pitch, yaw, 0, 'YXZ');
    tmpQ.setFromEuler(tmpE);
    g.applyMatrix4(tmpM.compose(tmpV.set(x, y, z), tmpQ, ONE));
    this.add(g, color);
    g.dispose();
    this.boxes++;
  }

  /** A wall piece along (x0, z0) -> (x1, z1), from height y0 to y1. */
  segment(x0, z0, x1, z1, y0, y1, thick, color) {
    const len = Math.hypot(x1 - x0, z1 - z0);
    this.box((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2, len, y1 - y0, thick, color, -Math.atan2(z1 - z0, x1 - x0));
  }

  /** A horizontal quad facing up at height y. */
  quad(x0, z0, x1, z1, y, color) {
    if (x1 <= x0 || z1 <= z0) return;
    const base = this.pos.length / 3;
    this.pos.push(x0, y, z0, x0, y, z1, x1, y, z1, x1, y, z0);
    for (let i = 0; i < 4; i++) this.nor.push(0, 1, 0);
    setColor(color);
    for (let i = 0; i < 4; i++) this.col.push(tmpColor.r, tmpColor.g, tmpColor.b);
    this.idx.push(base, base + 1, base + 2, base, base + 2, base + 3);
  }

  /** Any geometry (indexed or not; its position and normal), all in one colour. */
  add(g, color) {
    const base = this.pos.length / 3;
    const p = g.attributes.position.array, n = g.attributes.normal.array;
    setColor(color);
    for (let i = 0; i < p.length; i++) { this.pos.push(p[i]); this.nor.push(n[i]); }
    for (let i = 0; i < p.length / 3; i++) this.col.push(tmpColor.r, tmpColor.g, tmpColor.b);
    if (g.index) for (const i of g.index.array) this.idx.push(base + i);
    else for (let i = 0; i < p.length / 3; i++) this.idx.push(base + i);
  }

  geometry() {
    if (!this.idx.length) return null;
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.Float32BufferAttribute(this.pos, 3));
    g.setAttribute('normal', new THREE.Float32BufferAttribute(this.nor, 3));
    g.setAttribute('color', new THREE.Float32BufferAttribute(this.col, 3));
    g.setIndex(this.pos.length / 3 > 65535 ? new THREE.Uint32BufferAttribute(this.idx, 1) : new THREE.Uint16BufferAttribute(this.idx, 1));
    g.computeBoundingSphere();
    g.computeBoundingBox();
    return g;
  }
}
