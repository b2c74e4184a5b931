// The page: the core (src/core/) and the features (src/features/), composed.
//
// Every feature is an ES module that installs its message handlers, error
// panels and strings on the app (src/core/app.js); this file only loads the
// message catalogues, installs the core and each feature in order, and starts.
//
// Test hook: window.servicepoint.state() (see core/hall.js and each feature),
// window.servicepoint.voiceStats().

import { App } from './core/app.js';
import { installHall } from './core/hall.js';
import { installMyData } from './core/mydata.js';
import { installSignIn } from './core/signin.js';
import { initialLanguage, loadMessages, setLanguage } from './core/i18n.js';
import { FEATURES } from './features/index.js';

const CORE_MESSAGES = new URL('./core/messages/', import.meta.url);

await Promise.all([CORE_MESSAGES, ...FEATURES.map((f) => f.messages)].map(loadMessages));
setLanguage(initialLanguage());

const app = new App();
installMyData(app); // before the hall: its hooks see a close before the hall's do
const hall = installHall(app);
installSignIn(app);
for (const feature of FEATURES) feature.install(app);
hall.start();
