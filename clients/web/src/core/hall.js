// The core of the page: the connection, the view, the local avatar and the
// others, the join form, the status line and "Walk to". Features add the rest
// (src/features/); this installs what every one of them stands on.
//
//   const hall = installHall(app);  // sets app.net, app.view, app.others, app.walk ...
//   ...features install...
//   hall.start();                   // resume this tab's session; window.servicepoint

import { getLanguage, t } from './i18n.js';
import { takeDevToken } from './token.js';
import { Net } from '../net.js';
import { Others } from '../others.js';
import { KeyboardInput, onFloorClick } from '../input.js';
import { LocalAvatar, MoveSender } from '../movement.js';
import { JoinForm, PlacesList, StatusLine, closeReason, setupLanguageSelects } from '../ui.js';
import { createView3d, probeWebGL } from '../scene3d.js';
import { createView2d } from '../view2d.js';
import { setupQualitySelect, storedQuality } from '../quality.js';
import { setupXR } from '../xr.js';
import { findPath } from '../path.js';

const $ = (id) => document.getElementById(id);

export function installHall(app) {
  setupLanguageSelects();

  // --- the view: 3D when WebGL works, else a top-down map -------------------
  const canvas = $('view');
  let view;
  const webgl = probeWebGL();
  if (webgl) {
    view = createView3d(canvas, { ...webgl, quality: storedQuality() });
  } else {
    canvas.dataset.i18nAttr = 'aria-label:view.label2d';
    canvas.setAttribute('aria-label', t('view.label2d'));
    $('view-fallback').hidden = false;
    view = createView2d(canvas);
  }
  setupQualitySelect(view);

  // --- state -------------------------------------------------------------------
  const net = new Net({ lang: getLanguage });
  const others = new Others();
  const keys = new KeyboardInput(window);
  let moves = null;
  let zone = null;
  let joinParams = null;
  let focusOnJoin = false;
  app.net = net;
  app.view = view;
  // Test hook: the hall as the view built it (hall3d.js / view2d.js) and its draw calls.
  app.expose(() => ({ quality: view.quality?.() ?? null }), {
    hallScene: () => ({ kind: view.kind, shadows: Boolean(view.renderer?.shadowMap.enabled), ...view.hallInfo?.() }),
    hallDrawCalls: () => view.hallDrawCalls?.() ?? null,
    hallHitsWall: (...a) => view.hitsWall?.(...a) ?? null,
  });
  // Test hook: where the others are drawn now ({id: {t: server time, x, z}}).
  app.expose(null, { othersDrawn: () => others.drawn(performance.now() / 1000) });
  app.others = others;

  const status = new StatusLine();
  const announcer = $('announcer');
  app.announcer = (text) => {
    announcer.textContent = '';
    setTimeout(() => { announcer.textContent = text; }, 50);
  };

  const placesList = new PlacesList((place) => {
    if (!app.walk(place.x, place.z)) return;
    app.announce(t('places.walking', { place: place.label }));
    app.emit('place', place);
  });

  const joinForm = new JoinForm(({ name, color, avatar, token }) => {
    joinParams = { name, color, avatar };
    focusOnJoin = true;
    joinForm.setBusy(true);
    net.forget();
    net.start({ token, join: joinParams });
  });

  // Staff sign in at the identity provider (core/signin.js): the session cookie rides
  // with the WebSocket handshake. A role token (`servicepoint token`, for development)
  // is pasted into the join form's developer field, never taken from the address.
  joinForm.setToken(takeDevToken());

  // --- in the hall, or not -------------------------------------------------------
  function showInWorld(inWorld) {
    $('join-panel').hidden = inWorld;
    $('places-panel').hidden = !inWorld;
    $('leave-button').hidden = !inWorld;
  }

  function leaveWorld() {
    moves?.stop();
    others.reset();
    view.clearAvatars();
    app.self = null;
    zone = null;
    others.selfId = null;
    status.setLatency(null);
    showInWorld(false);
    app.emit('left');
  }

  $('leave-button').addEventListener('click', () => {
    net.leave();
    leaveWorld();
    joinForm.setBusy(false);
    $('join-name').focus();
  });

  net.addEventListener('state', (e) => {
    const d = e.detail;
    status.set(d);
    if (d.state === 'closed') {
      const better = app.emit('closed', d).find((text) => text);
      leaveWorld();
      joinForm.setBusy(false);
      joinForm.showText(better ?? closeReason(d));
    } else if (d.state === 'reconnecting') {
      moves?.stop();
    }
  });

  // --- the core's messages --------------------------------------------------------
  app.on('welcome', (msg) => {
    app.role = msg.role;
    app.world = msg.world;
    view.setWorld(msg.world);
    placesList.setWorld(msg.world);
    app.local = new LocalAvatar(msg.world, Number(msg.limits?.max_speed) || 4);
    moves?.stop();
    moves = new MoveSender((m) => net.send(m), msg.tick_hz);
    others.reset(msg.tick_hz);
    view.clearAvatars();
    app.emit('welcome', msg);
  });
  app.on('joined', (msg) => {
    const params = joinParams ?? net.joinParams ?? {};
    const self = { id: msg.id, name: msg.name, role: app.role, color: params.color, avatar: params.avatar };
    app.self = self;
    others.selfId = msg.id;
    app.local.place(msg.x, msg.z, msg.yaw);
    view.addAvatar({ ...self, x: msg.x, z: msg.z, yaw: msg.yaw }, true);
    zone = msg.zone;
    status.setZone(zone);
    moves.start(app.local, () => advanceLocal(performance.now() / 1000));
    showInWorld(true);
    joinForm.setBusy(false);
    joinForm.showError(null);
    app.emit('joined', msg);
    if (focusOnJoin) {
      focusOnJoin = false;
      canvas.focus();
    }
  });
  app.on('enter', (msg) => others.enter(msg.e, performance.now() / 1000));
  app.on('leave', (msg) => others.leave(msg.ids));
  app.on('f', (msg) => {
    if (!others.receive(msg, performance.now() / 1000)) console.warn('servicepoint: a state frame did not decode');
  });
  app.on('correct', (msg) => {
    const local = app.local;
    if (!local) return;
    local.snap(msg.x, msg.z, msg.yaw);
    moves?.corrected(local.x, local.z, local.yaw);
  });
  app.on('zone', (msg) => {
    zone = msg.zone;
    status.setZone(zone);
  });
  app.on('pong', () => status.setLatency(net.rttMs));
  app.on('load', (msg) => status.setBusy(msg.busy));
  app.on('error', (msg) => {
    if (net.state !== 'joined') joinForm.showText(app.errorText(msg.code));
    else app.error(msg);
  });

  net.addEventListener('message', (e) => app.dispatch(e.detail));

  others.addEventListener('enter', (e) => {
    for (const o of e.detail) view.addAvatar({ ...o, ...o.buffer.last });
  });
  others.addEventListener('leave', (e) => {
    for (const id of e.detail) view.removeAvatar(id);
  });

  // --- movement --------------------------------------------------------------------
  app.walker = (x, z) => {
    const local = app.local;
    if (!local || !app.world || net.state !== 'joined') return false;
    const route = findPath(app.world, { x: local.x, z: local.z }, { x, z });
    if (route) local.walkRoute(route);
    else local.walkTo(x, z);
    return true;
  };

  function advanceLocal(nowS) {
    const local = app.local;
    if (!local || !app.self || net.state !== 'joined') {
      if (local) local.lastS = nowS;
      return;
    }
    local.advance(nowS, keys.axes());
  }

  onFloorClick(canvas, (x, y) => {
    const hit = view.pick(x, y);
    if (hit && app.local && net.state === 'joined') app.local.walkTo(hit.x, hit.z);
  });

  let xr = null;
  setupXR({
    view,
    button: $('vr-button'),
    onTeleport: (x, z) => app.walk(x, z),
    onPresenting: (on) => {
      $('vr-help').hidden = !on;
      if (app.self) view.setSelfVisible(!on, app.self.id);
    },
  }).then((x) => { xr = x; });

  view.start((nowS) => {
    advanceLocal(nowS);
    const local = app.local;
    if (app.self && local) {
      view.setPose(app.self.id, local.x, local.z, local.yaw);
      view.follow(local.x, local.z, local.yaw);
    }
    const rt = others.renderTime(nowS);
    for (const [id, o] of others.all) {
      const p = o.buffer.sample(rt);
      view.setPose(id, p.x, p.z, p.yaw);
    }
    app.emit('frame', nowS);
    xr?.update();
  });

  app.onLanguage(() => {
    view.relabel();
    xr?.relabel();
  });

  return {
    /** After the features installed: resume this tab's session; the test hook. */
    start() {
      const stored = Net.stored();
      if (stored?.resume && stored.join?.name) {
        joinParams = stored.join;
        joinForm.setBusy(true);
        net.start({ token: stored.token, join: stored.join, resume: stored.resume });
      }
      // window.servicepoint.state() returns what the page currently knows
      // ({connected, state, selfId, role, zone, self, walkingTo, others, view,
      //   lang, ...and what each feature adds}).
      window.servicepoint = {
        state: () => {
          const local = app.local;
          return app.state({
            connected: net.state === 'joined',
            state: net.state,
            selfId: app.self?.id ?? null,
            role: app.role,
            zone,
            self: local && app.self ? { x: local.x, z: local.z, yaw: local.yaw } : null,
            walkingTo: local?.route.length ? { ...local.route.at(-1) } : null,
            others: others.snapshot(),
            view: view.kind,
            avatars: view.avatarStats(), // {count, speaking, (3D:) shown, near, far, tags}
            lang: getLanguage(),
          });
        },
        // A fixed camera, [x, y, z] looking at [x, y, z], with one's own avatar hidden
        // (the screenshot references); no arguments to follow again.
        viewpoint: (from, at) => {
          view.setViewpoint?.(from ?? null, at ?? null);
          if (app.self) view.setSelfVisible?.(!from, app.self.id);
        },
        // How many frames the 3D view has drawn (to wait for one after a change).
        drawnFrames: () => view.renderer?.info.render.frame ?? 0,
        // The 3D view's avatars: one avatar's drawn state (limb angles, tag), the last frame's draw calls.
        avatarDebug: (id) => view.avatarDebug?.(id) ?? null,
        drawCalls: () => view.drawCalls?.() ?? null,
        ...app.methods,
      };
    },
  };
}
