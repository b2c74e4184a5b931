// The page's features, installed in this order (a feature may use services of
// the ones above it). Adding a feature: a folder with index.js (exporting
// `name`, `messages` and `install(app)`) and messages/<lang>.json, and one
// line here.
export const FEATURES = await Promise.all([
  import('./chat/index.js'),
  import('./moderation/index.js'),
  import('./voice/index.js'),
  import('./desks/index.js'),
  import('./feedback/index.js'),
  import('./insight/index.js'),
  import('./scorecard/index.js'),
  import('./training/index.js'),
  import('./qa/index.js'),
  import('./greeter/index.js'),
  import('./events/index.js'),
  import('./touch/index.js'),
  import('./orient/index.js'),
]);
