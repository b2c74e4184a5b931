// UI strings in five languages, the current language, and applying it to the page.
//
// Every key exists in every language (tests/web/test_i18n.py checks it).
// Strings may hold {placeholders}; t(key, {name: 'x'}) fills them.
// The module can be imported by node (no DOM access at import time).
//
// In HTML, elements carry data-i18n="key" (text content), and
// data-i18n-attr="aria-label:key;title:key2" for attributes.

import { DESK_STRINGS } from './i18n-desk.js';

export const LANGS = ['sv', 'da', 'de', 'ja', 'en'];
export const DEFAULT_LANG = 'en';

/** Each language's name in itself, for the language switcher. */
export const LANG_NAMES = { sv: 'Svenska', da: 'Dansk', de: 'Deutsch', ja: '日本語', en: 'English' };

export const STRINGS = {
  en: {
    'app.title': 'Servicepoint',
    'app.subtitle': 'Virtual service centre',
    'skip.chat': 'Skip to chat',
    'skip.view': 'Skip to the service hall view',
    'lang.label': 'Language',
    'status.label': 'Connection status',
    'status.idle': 'Not connected',
    'status.connecting': 'Connecting…',
    'status.welcomed': 'Connected, joining…',
    'status.joined': 'Connected. You are in: {zone}',
    'status.reconnecting': 'Connection lost. Reconnecting in {s} s…',
    'status.closed': 'Disconnected: {reason}',
    'status.left': 'You left the service hall.',
    'status.latency': 'Round trip: {ms} ms',
    'zone.lobby': 'Entrance lobby',
    'zone.hall': 'Service hall',
    'zone.auditorium': 'Auditorium',
    'zone.none': 'outside any zone',
    'join.heading': 'Join the service hall',
    'join.intro': 'Choose how others see you. No account is needed.',
    'join.name': 'Display name',
    'join.name_hint': '1 to 32 characters. Everyone in the hall can see it.',
    'join.avatar': 'Avatar shape',
    'join.color': 'Avatar colour',
    'join.lang': 'Language',
    'join.token': 'Staff sign-in token (optional)',
    'join.token_hint': 'Only for staff and event hosts. Leave empty otherwise.',
    'join.submit': 'Enter the hall',
    'join.name_required': 'Please enter a display name.',
    'avatar.round': 'Round',
    'avatar.tall': 'Tall',
    'avatar.box': 'Box',
    'view.heading': 'The service hall',
    'view.label3d': '3D view of the service hall. Use the arrow keys to walk.',
    'view.label2d': 'Map of the service hall seen from above. Use the arrow keys to walk.',
    'view.help': 'Keys: arrow keys or W, A, S, D walk forward and back and turn; Q and E step sideways. Click the floor to walk there.',
    'view.fallback': '3D graphics are not available in this browser, so a map is shown instead.',
    'view.you': 'You',
    'vr.enter': 'Enter VR',
    'vr.exit': 'Exit VR',
    'vr.help': 'In VR, point a controller at the floor and press the trigger to move there.',
    'places.heading': 'Walk to',
    'places.desk': '{name} desk: {services}',
    'places.stage': 'Auditorium stage',
    'places.entrance': 'Entrance',
    'places.walking': 'Walking to {place}.',
    'chat.heading': 'Chat',
    'chat.log': 'Chat messages',
    'chat.earlier': 'Earlier messages',
    'chat.scope': 'Send to',
    'chat.scope.near': 'People nearby',
    'chat.scope.zone': 'Everyone in this zone',
    'chat.scope.announce': 'Announcement to everyone in this zone',
    'chat.input': 'Message',
    'chat.send': 'Send',
    'chat.tag.near': 'nearby',
    'chat.tag.zone': 'zone',
    'chat.announcement': 'Announcement',
    'chat.notice': 'Notice',
    'chat.joined': 'You joined as {name}.',
    'chat.empty': 'No messages yet.',
    'role.citizen': 'Visitor',
    'role.staff': 'Staff',
    'role.host': 'Host',
    'role.admin': 'Administrator',
    'leave.button': 'Leave',
    'error.bad_token': 'The sign-in token was not accepted.',
    'error.rate_limited': 'You are sending too fast. Please wait a moment.',
    'error.forbidden': 'You are not allowed to do that.',
    'error.bad_version': 'This page is out of date. Please reload it.',
    'error.space_full': 'The service hall is full right now. Please try again later.',
    'error.too_long': 'That message is too long.',
    'error.move_too_far': 'That move was too far; your position was corrected.',
    'error.generic': 'The server refused a message ({code}).',
    'close.NORMAL': 'The session ended.',
    'close.GOING_AWAY': 'The server is restarting.',
    'close.MESSAGE_TOO_BIG': 'A message was too large.',
    'close.BAD_VERSION': 'This page is out of date. Please reload it.',
    'close.HELLO_TIMEOUT': 'The connection timed out.',
    'close.TOO_MANY_ERRORS': 'Too many invalid messages were sent.',
    'close.SLOW_CONSUMER': 'The connection was too slow.',
    'close.KICKED': 'You were removed by a moderator.',
    'close.BAD_TOKEN': 'The sign-in token was not accepted.',
    'close.FLOOD': 'Too many messages were sent too quickly.',
    'close.REPLACED': 'You opened the service hall in another tab or window.',
    'close.unknown': 'The connection closed (code {code}).',
  },
  sv: {
    'app.title': 'Servicepoint',
    'app.subtitle': 'Virtuellt servicecenter',
    'skip.chat': 'Hoppa till chatten',
    'skip.view': 'Hoppa till vyn över servicehallen',
    'lang.label': 'Språk',
    'status.label': 'Anslutningsstatus',
    'status.idle': 'Inte ansluten',
    'status.connecting': 'Ansluter…',
    'status.welcomed': 'Ansluten, går in…',
    'status.joined': 'Ansluten. Du är i: {zone}',
    'status.reconnecting': 'Anslutningen bröts. Ansluter igen om {s} s…',
    'status.closed': 'Frånkopplad: {reason}',
    'status.left': 'Du har lämnat servicehallen.',
    'status.latency': 'Svarstid: {ms} ms',
    'zone.lobby': 'Entréhall',
    'zone.hall': 'Servicehall',
    'zone.auditorium': 'Hörsal',
    'zone.none': 'utanför alla zoner',
    'join.heading': 'Gå in i servicehallen',
    'join.intro': 'Välj hur andra ser dig. Inget konto behövs.',
    'join.name': 'Visningsnamn',
    'join.name_hint': '1 till 32 tecken. Alla i hallen kan se det.',
    'join.avatar': 'Avatarens form',
    'join.color': 'Avatarens färg',
    'join.lang': 'Språk',
    'join.token': 'Inloggningsnyckel för personal (valfri)',
    'join.token_hint': 'Endast för personal och evenemangsvärdar. Lämna annars tomt.',
    'join.submit': 'Gå in i hallen',
    'join.name_required': 'Ange ett visningsnamn.',
    'avatar.round': 'Rund',
    'avatar.tall': 'Lång',
    'avatar.box': 'Kub',
    'view.heading': 'Servicehallen',
    'view.label3d': '3D-vy över servicehallen. Gå med piltangenterna.',
    'view.label2d': 'Karta över servicehallen sedd uppifrån. Gå med piltangenterna.',
    'view.help': 'Tangenter: piltangenterna eller W, A, S, D går framåt och bakåt och svänger; Q och E tar ett steg åt sidan. Klicka på golvet för att gå dit.',
    'view.fallback': '3D-grafik är inte tillgänglig i den här webbläsaren, så en karta visas i stället.',
    'view.you': 'Du',
    'vr.enter': 'Starta VR',
    'vr.exit': 'Avsluta VR',
    'vr.help': 'I VR: peka en handkontroll mot golvet och tryck på avtryckaren för att förflytta dig dit.',
    'places.heading': 'Gå till',
    'places.desk': 'Disken {name}: {services}',
    'places.stage': 'Hörsalens scen',
    'places.entrance': 'Entrén',
    'places.walking': 'Går till {place}.',
    'chat.heading': 'Chatt',
    'chat.log': 'Chattmeddelanden',
    'chat.earlier': 'Tidigare meddelanden',
    'chat.scope': 'Skicka till',
    'chat.scope.near': 'Personer i närheten',
    'chat.scope.zone': 'Alla i den här zonen',
    'chat.scope.announce': 'Utrop till alla i den här zonen',
    'chat.input': 'Meddelande',
    'chat.send': 'Skicka',
    'chat.tag.near': 'i närheten',
    'chat.tag.zone': 'zon',
    'chat.announcement': 'Viktigt meddelande',
    'chat.notice': 'Information',
    'chat.joined': 'Du gick in som {name}.',
    'chat.empty': 'Inga meddelanden än.',
    'role.citizen': 'Besökare',
    'role.staff': 'Personal',
    'role.host': 'Värd',
    'role.admin': 'Administratör',
    'leave.button': 'Lämna',
    'error.bad_token': 'Inloggningsnyckeln godkändes inte.',
    'error.rate_limited': 'Du skickar för snabbt. Vänta en stund.',
    'error.forbidden': 'Du har inte behörighet att göra det.',
    'error.bad_version': 'Sidan är inaktuell. Ladda om den.',
    'error.space_full': 'Servicehallen är full just nu. Försök igen senare.',
    'error.too_long': 'Meddelandet är för långt.',
    'error.move_too_far': 'Förflyttningen var för lång; din position har rättats.',
    'error.generic': 'Servern avvisade ett meddelande ({code}).',
    'close.NORMAL': 'Sessionen avslutades.',
    'close.GOING_AWAY': 'Servern startar om.',
    'close.MESSAGE_TOO_BIG': 'Ett meddelande var för stort.',
    'close.BAD_VERSION': 'Sidan är inaktuell. Ladda om den.',
    'close.HELLO_TIMEOUT': 'Anslutningen tog för lång tid.',
    'close.TOO_MANY_ERRORS': 'För många ogiltiga meddelanden skickades.',
    'close.SLOW_CONSUMER': 'Anslutningen var för långsam.',
    'close.KICKED': 'Du har tagits bort av en moderator.',
    'close.BAD_TOKEN': 'Inloggningsnyckeln godkändes inte.',
    'close.FLOOD': 'För många meddelanden skickades för snabbt.',
    'close.REPLACED': 'Du har öppnat servicehallen i en annan flik eller ett annat fönster.',
    'close.unknown': 'Anslutningen stängdes (kod {code}).',
  },
  da: {
    'app.title': 'Servicepoint',
    'app.subtitle': 'Virtuelt servicecenter',
    'skip.chat': 'Gå til chatten',
    'skip.view': 'Gå til visningen af servicehallen',
    'lang.label': 'Sprog',
    'status.label': 'Forbindelsesstatus',
    'status.idle': 'Ikke forbundet',
    'status.connecting': 'Forbinder…',
    'status.welcomed': 'Forbundet, går ind…',
    'status.joined': 'Forbundet. Du er i: {zone}',
    'status.reconnecting': 'Forbindelsen blev afbrudt. Forbinder igen om {s} s…',
    'status.closed': 'Afbrudt: {reason}',
    'status.left': 'Du har forladt servicehallen.',
    'status.latency': 'Svartid: {ms} ms',
    'zone.lobby': 'Indgangshal',
    'zone.hall': 'Servicehal',
    'zone.auditorium': 'Auditorium',
    'zone.none': 'uden for alle zoner',
    'join.heading': 'Gå ind i servicehallen',
    'join.intro': 'Vælg, hvordan andre ser dig. Du behøver ingen konto.',
    'join.name': 'Visningsnavn',
    'join.name_hint': '1 til 32 tegn. Alle i hallen kan se det.',
    'join.avatar': 'Avatarens form',
    'join.color': 'Avatarens farve',
    'join.lang': 'Sprog',
    'join.token': 'Login-nøgle til personale (valgfri)',
    'join.token_hint': 'Kun for personale og værter ved arrangementer. Lad feltet være tomt ellers.',
    'join.submit': 'Gå ind i hallen',
    'join.name_required': 'Angiv et visningsnavn.',
    'avatar.round': 'Rund',
    'avatar.tall': 'Høj',
    'avatar.box': 'Kasse',
    'view.heading': 'Servicehallen',
    'view.label3d': '3D-visning af servicehallen. Gå med piletasterne.',
    'view.label2d': 'Kort over servicehallen set oppefra. Gå med piletasterne.',
    'view.help': 'Taster: piletasterne eller W, A, S, D går frem og tilbage og drejer; Q og E tager et skridt til siden. Klik på gulvet for at gå derhen.',
    'view.fallback': '3D-grafik er ikke tilgængelig i denne browser, så der vises et kort i stedet.',
    'view.you': 'Dig',
    'vr.enter': 'Start VR',
    'vr.exit': 'Afslut VR',
    'vr.help': 'I VR: peg en controller mod gulvet, og tryk på aftrækkeren for at flytte dig derhen.',
    'places.heading': 'Gå til',
    'places.desk': 'Skranken {name}: {services}',
    'places.stage': 'Auditoriets scene',
    'places.entrance': 'Indgangen',
    'places.walking': 'Går til {place}.',
    'chat.heading': 'Chat',
    'chat.log': 'Chatbeskeder',
    'chat.earlier': 'Tidligere beskeder',
    'chat.scope': 'Send til',
    'chat.scope.near': 'Personer i nærheden',
    'chat.scope.zone': 'Alle i denne zone',
    'chat.scope.announce': 'Meddelelse til alle i denne zone',
    'chat.input': 'Besked',
    'chat.send': 'Send',
    'chat.tag.near': 'i nærheden',
    'chat.tag.zone': 'zone',
    'chat.announcement': 'Vigtig meddelelse',
    'chat.notice': 'Information',
    'chat.joined': 'Du gik ind som {name}.',
    'chat.empty': 'Ingen beskeder endnu.',
    'role.citizen': 'Besøgende',
    'role.staff': 'Personale',
    'role.host': 'Vært',
    'role.admin': 'Administrator',
    'leave.button': 'Forlad',
    'error.bad_token': 'Login-nøglen blev ikke godkendt.',
    'error.rate_limited': 'Du sender for hurtigt. Vent et øjeblik.',
    'error.forbidden': 'Du har ikke tilladelse til at gøre det.',
    'error.bad_version': 'Siden er forældet. Genindlæs den.',
    'error.space_full': 'Servicehallen er fuld lige nu. Prøv igen senere.',
    'error.too_long': 'Beskeden er for lang.',
    'error.move_too_far': 'Flytningen var for lang; din position er rettet.',
    'error.generic': 'Serveren afviste en besked ({code}).',
    'close.NORMAL': 'Sessionen er afsluttet.',
    'close.GOING_AWAY': 'Serveren genstarter.',
    'close.MESSAGE_TOO_BIG': 'En besked var for stor.',
    'close.BAD_VERSION': 'Siden er forældet. Genindlæs den.',
    'close.HELLO_TIMEOUT': 'Forbindelsen tog for lang tid.',
    'close.TOO_MANY_ERRORS': 'Der blev sendt for mange ugyldige beskeder.',
    'close.SLOW_CONSUMER': 'Forbindelsen var for langsom.',
    'close.KICKED': 'Du er blevet fjernet af en moderator.',
    'close.BAD_TOKEN': 'Login-nøglen blev ikke godkendt.',
    'close.FLOOD': 'Der blev sendt for mange beskeder for hurtigt.',
    'close.REPLACED': 'Du har åbnet servicehallen i en anden fane eller et andet vindue.',
    'close.unknown': 'Forbindelsen blev lukket (kode {code}).',
  },
  de: {
    'app.title': 'Servicepoint',
    'app.subtitle': 'Virtuelles Bürgerbüro',
    'skip.chat': 'Zum Chat springen',
    'skip.view': 'Zur Ansicht der Servicehalle springen',
    'lang.label': 'Sprache',
    'status.label': 'Verbindungsstatus',
    'status.idle': 'Nicht verbunden',
    'status.connecting': 'Verbindung wird hergestellt…',
    'status.welcomed': 'Verbunden, Eintritt läuft…',
    'status.joined': 'Verbunden. Sie sind hier: {zone}',
    'status.reconnecting': 'Verbindung unterbrochen. Neuer Versuch in {s} s…',
    'status.closed': 'Getrennt: {reason}',
    'status.left': 'Sie haben die Servicehalle verlassen.',
    'status.latency': 'Antwortzeit: {ms} ms',
    'zone.lobby': 'Eingangshalle',
    'zone.hall': 'Servicehalle',
    'zone.auditorium': 'Veranstaltungssaal',
    'zone.none': 'außerhalb aller Bereiche',
    'join.heading': 'Die Servicehalle betreten',
    'join.intro': 'Wählen Sie, wie andere Sie sehen. Sie brauchen kein Konto.',
    'join.name': 'Anzeigename',
    'join.name_hint': '1 bis 32 Zeichen. Alle in der Halle können ihn sehen.',
    'join.avatar': 'Form des Avatars',
    'join.color': 'Farbe des Avatars',
    'join.lang': 'Sprache',
    'join.token': 'Anmeldeschlüssel für Mitarbeitende (optional)',
    'join.token_hint': 'Nur für Mitarbeitende und Veranstaltende. Sonst bitte leer lassen.',
    'join.submit': 'Halle betreten',
    'join.name_required': 'Bitte geben Sie einen Anzeigenamen ein.',
    'avatar.round': 'Rund',
    'avatar.tall': 'Groß',
    'avatar.box': 'Würfel',
    'view.heading': 'Die Servicehalle',
    'view.label3d': '3D-Ansicht der Servicehalle. Mit den Pfeiltasten gehen.',
    'view.label2d': 'Karte der Servicehalle von oben. Mit den Pfeiltasten gehen.',
    'view.help': 'Tasten: Pfeiltasten oder W, A, S, D gehen vor und zurück und drehen; Q und E machen einen Schritt zur Seite. Klicken Sie auf den Boden, um dorthin zu gehen.',
    'view.fallback': '3D-Grafik ist in diesem Browser nicht verfügbar, daher wird stattdessen eine Karte angezeigt.',
    'view.you': 'Sie',
    'vr.enter': 'VR starten',
    'vr.exit': 'VR beenden',
    'vr.help': 'In VR: Zeigen Sie mit einem Controller auf den Boden und drücken Sie den Auslöser, um sich dorthin zu bewegen.',
    'places.heading': 'Gehen zu',
    'places.desk': 'Schalter {name}: {services}',
    'places.stage': 'Bühne im Veranstaltungssaal',
    'places.entrance': 'Eingang',
    'places.walking': 'Unterwegs zu: {place}.',
    'chat.heading': 'Chat',
    'chat.log': 'Chatnachrichten',
    'chat.earlier': 'Frühere Nachrichten',
    'chat.scope': 'Senden an',
    'chat.scope.near': 'Personen in der Nähe',
    'chat.scope.zone': 'Alle in diesem Bereich',
    'chat.scope.announce': 'Durchsage an alle in diesem Bereich',
    'chat.input': 'Nachricht',
    'chat.send': 'Senden',
    'chat.tag.near': 'in der Nähe',
    'chat.tag.zone': 'Bereich',
    'chat.announcement': 'Durchsage',
    'chat.notice': 'Hinweis',
    'chat.joined': 'Sie sind als {name} eingetreten.',
    'chat.empty': 'Noch keine Nachrichten.',
    'role.citizen': 'Besucher/in',
    'role.staff': 'Personal',
    'role.host': 'Gastgeber/in',
    'role.admin': 'Administration',
    'leave.button': 'Verlassen',
    'error.bad_token': 'Der Anmeldeschlüssel wurde nicht akzeptiert.',
    'error.rate_limited': 'Sie senden zu schnell. Bitte warten Sie einen Moment.',
    'error.forbidden': 'Dazu sind Sie nicht berechtigt.',
    'error.bad_version': 'Diese Seite ist veraltet. Bitte laden Sie sie neu.',
    'error.space_full': 'Die Servicehalle ist gerade voll. Bitte versuchen Sie es später erneut.',
    'error.too_long': 'Die Nachricht ist zu lang.',
    'error.move_too_far': 'Diese Bewegung war zu weit; Ihre Position wurde korrigiert.',
    'error.generic': 'Der Server hat eine Nachricht abgelehnt ({code}).',
    'close.NORMAL': 'Die Sitzung wurde beendet.',
    'close.GOING_AWAY': 'Der Server wird neu gestartet.',
    'close.MESSAGE_TOO_BIG': 'Eine Nachricht war zu groß.',
    'close.BAD_VERSION': 'Diese Seite ist veraltet. Bitte laden Sie sie neu.',
    'close.HELLO_TIMEOUT': 'Die Verbindung hat zu lange gedauert.',
    'close.TOO_MANY_ERRORS': 'Es wurden zu viele ungültige Nachrichten gesendet.',
    'close.SLOW_CONSUMER': 'Die Verbindung war zu langsam.',
    'close.KICKED': 'Sie wurden von der Moderation entfernt.',
    'close.BAD_TOKEN': 'Der Anmeldeschlüssel wurde nicht akzeptiert.',
    'close.FLOOD': 'Es wurden zu viele Nachrichten zu schnell gesendet.',
    'close.REPLACED': 'Sie haben die Servicehalle in einem anderen Tab oder Fenster geöffnet.',
    'close.unknown': 'Die Verbindung wurde geschlossen (Code {code}).',
  },
  ja: {
    'app.title': 'サービスポイント',
    'app.subtitle': 'バーチャル窓口',
    'skip.chat': 'チャットへ移動',
    'skip.view': 'サービスホールの表示へ移動',
    'lang.label': '言語',
    'status.label': '接続状態',
    'status.idle': '未接続',
    'status.connecting': '接続中…',
    'status.welcomed': '接続しました。入場中…',
    'status.joined': '接続中。現在地：{zone}',
    'status.reconnecting': '接続が切れました。{s} 秒後に再接続します…',
    'status.closed': '切断されました：{reason}',
    'status.left': 'サービスホールから退出しました。',
    'status.latency': '応答時間：{ms} ミリ秒',
    'zone.lobby': 'エントランスロビー',
    'zone.hall': 'サービスホール',
    'zone.auditorium': '講堂',
    'zone.none': 'どのエリアにもいません',
    'join.heading': 'サービスホールに入る',
    'join.intro': '他の人からの見え方を選んでください。アカウントは不要です。',
    'join.name': '表示名',
    'join.name_hint': '1～32文字。ホールにいる全員に表示されます。',
    'join.avatar': 'アバターの形',
    'join.color': 'アバターの色',
    'join.lang': '言語',
    'join.token': '職員用サインインキー（任意）',
    'join.token_hint': '職員とイベント主催者専用です。それ以外の方は空欄のままにしてください。',
    'join.submit': 'ホールに入る',
    'join.name_required': '表示名を入力してください。',
    'avatar.round': '丸型',
    'avatar.tall': '縦長',
    'avatar.box': '箱型',
    'view.heading': 'サービスホール',
    'view.label3d': 'サービスホールの3D表示。矢印キーで歩きます。',
    'view.label2d': 'サービスホールを上から見た地図。矢印キーで歩きます。',
    'view.help': '操作：矢印キーまたは W・A・S・D で前後に歩き、向きを変えます。Q と E で横に移動します。床をクリックするとそこまで歩きます。',
    'view.fallback': 'このブラウザーでは3D表示を利用できないため、代わりに地図を表示しています。',
    'view.you': 'あなた',
    'vr.enter': 'VRを開始',
    'vr.exit': 'VRを終了',
    'vr.help': 'VRでは、コントローラーを床に向けてトリガーを押すと、その場所へ移動します。',
    'places.heading': '移動先',
    'places.desk': '{name}窓口：{services}',
    'places.stage': '講堂のステージ',
    'places.entrance': '入口',
    'places.walking': '{place}へ移動中です。',
    'chat.heading': 'チャット',
    'chat.log': 'チャットのメッセージ',
    'chat.earlier': '以前のメッセージ',
    'chat.scope': '送信先',
    'chat.scope.near': '近くにいる人',
    'chat.scope.zone': 'このエリアの全員',
    'chat.scope.announce': 'このエリアの全員へのお知らせ',
    'chat.input': 'メッセージ',
    'chat.send': '送信',
    'chat.tag.near': '近く',
    'chat.tag.zone': 'エリア',
    'chat.announcement': 'お知らせ',
    'chat.notice': '通知',
    'chat.joined': '{name}として入場しました。',
    'chat.empty': 'まだメッセージはありません。',
    'role.citizen': '来訪者',
    'role.staff': '職員',
    'role.host': '主催者',
    'role.admin': '管理者',
    'leave.button': '退出',
    'error.bad_token': 'サインインキーが認められませんでした。',
    'error.rate_limited': '送信が速すぎます。少し待ってください。',
    'error.forbidden': 'その操作は許可されていません。',
    'error.bad_version': 'このページは古くなっています。再読み込みしてください。',
    'error.space_full': 'サービスホールは現在満員です。後でもう一度お試しください。',
    'error.too_long': 'メッセージが長すぎます。',
    'error.move_too_far': '移動距離が大きすぎたため、位置を修正しました。',
    'error.generic': 'サーバーがメッセージを拒否しました（{code}）。',
    'close.NORMAL': 'セッションが終了しました。',
    'close.GOING_AWAY': 'サーバーが再起動しています。',
    'close.MESSAGE_TOO_BIG': 'メッセージが大きすぎました。',
    'close.BAD_VERSION': 'このページは古くなっています。再読み込みしてください。',
    'close.HELLO_TIMEOUT': '接続がタイムアウトしました。',
    'close.TOO_MANY_ERRORS': '無効なメッセージが多すぎました。',
    'close.SLOW_CONSUMER': '接続が遅すぎました。',
    'close.KICKED': 'モデレーターによって退出させられました。',
    'close.BAD_TOKEN': 'サインインキーが認められませんでした。',
    'close.FLOOD': '短時間に送信されたメッセージが多すぎました。',
    'close.REPLACED': '別のタブまたはウィンドウでサービスホールを開きました。',
    'close.unknown': '接続が閉じられました（コード {code}）。',
  },
};
// The desk feature's strings live in i18n-desk.js; one table for t().
for (const lang of LANGS) Object.assign(STRINGS[lang], DESK_STRINGS[lang]);

const STORAGE_KEY = 'servicepoint.lang';
let current = DEFAULT_LANG;
const listeners = new Set();

/** The best supported language for a list of BCP 47 tags (navigator.languages). */
export function pickLanguage(tags) {
  for (const tag of tags || []) {
    const base = String(tag).toLowerCase().split(/[-_]/)[0];
    // Norwegian readers understand Danish and Swedish better than English.
    const alias = { nb: 'da', no: 'da', nn: 'da' }[base] || base;
    if (LANGS.includes(alias)) return alias;
  }
  return DEFAULT_LANG;
}

/** The language to start with: remembered choice, else the browser's. */
export function initialLanguage() {
  try {
    const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (stored && LANGS.includes(stored)) return stored;
  } catch { /* storage may be unavailable (privacy mode); fall through */ }
  const nav = globalThis.navigator;
  return pickLanguage(nav?.languages?.length ? nav.languages : [nav?.language]);
}

export function getLanguage() {
  return current;
}

/** Translate `key` in the current language, filling {placeholders} from `params`. */
export function t(key, params = {}, lang = current) {
  const table = STRINGS[lang] || STRINGS[DEFAULT_LANG];
  let s = table[key] ?? STRINGS[DEFAULT_LANG][key] ?? key;
  for (const [name, value] of Object.entries(params)) s = s.replaceAll(`{${name}}`, String(value));
  return s;
}

/** Fill every data-i18n / data-i18n-attr element under `root`. */
export function applyTranslations(root = globalThis.document) {
  if (!root) return;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

/** Switch language: remember it, update <html lang>, the page, and listeners. */
export function setLanguage(lang) {
  if (!LANGS.includes(lang)) lang = DEFAULT_LANG;
  current = lang;
  try { globalThis.localStorage?.setItem(STORAGE_KEY, lang); } catch { /* not remembered */ }
  const doc = globalThis.document;
  if (doc) {
    doc.documentElement.lang = lang;
    doc.title = `${t('app.title')} – ${t('app.subtitle')}`;
    applyTranslations(doc);
  }
  for (const fn of listeners) fn(lang);
}

/** Call `fn(lang)` after every language switch. Returns an unsubscribe function. */
export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** A service's or zone's name from the world, in the current language. */
export function localName(names, lang = current) {
  if (!names) return '';
  if (typeof names === 'string') return names;
  return names[lang] || names[DEFAULT_LANG] || Object.values(names)[0] || '';
}

/** A language's name (BCP 47 code) in the UI language, e.g. 'so' -> 'Somali'. */
export function langName(code, lang = current) {
  try {
    const name = new Intl.DisplayNames([lang], { type: 'language' }).of(code);
    if (name && name !== code) return name.charAt(0).toLocaleUpperCase(lang) + name.slice(1);
  } catch { /* an old engine or an odd code: show the code */ }
  return code;
}

function unit(value, name, display, lang) {
  try {
    return new Intl.NumberFormat(lang, { style: 'unit', unit: name, unitDisplay: display }).format(value);
  } catch {
    return `${value} ${name}`;
  }
}

/**
 * A duration for people: 'less than a minute', 'about 5 minutes',
 * 'about 1 hour 10 minutes' (estimates; style 'long'), or '3 min' / '45 s'
 * (elapsed times in lists; style 'short').
 */
/** Hours and minutes of a Unix timestamp (seconds), as the page's language writes them. */
export function clockTime(ts) {
  try {
    return new Date(ts * 1000).toLocaleTimeString(document.documentElement.lang || undefined, {
      hour: '2-digit',
      minute: '2-digit',
    });
  } catch {
    return '';
  }
}

export function duration(seconds, style = 'long', lang = current) {
  const s = Math.max(0, Math.round(seconds));
  if (style === 'short') {
    if (s < 60) return unit(s, 'second', 'short', lang);
    if (s < 3600) return unit(Math.floor(s / 60), 'minute', 'short', lang);
    return `${unit(Math.floor(s / 3600), 'hour', 'short', lang)} ${unit(Math.floor(s / 60) % 60, 'minute', 'short', lang)}`;
  }
  if (s < 60) return t('wait.soon', {}, lang);
  const minutes = Math.round(s / 60);
  const text = minutes < 60
    ? unit(minutes, 'minute', 'long', lang)
    : [unit(Math.floor(minutes / 60), 'hour', 'long', lang), minutes % 60 ? unit(minutes % 60, 'minute', 'long', lang) : '']
      .filter(Boolean).join(' ');
  return t('wait.about', { time: text }, lang);
}
