// The 3D view's picture quality: 'high' draws soft shadows, 'low' does not
// (the default on CPU renderers, which stay responsive that way). A labelled
// select in the top bar (#quality-select) changes it; the choice is remembered
// in localStorage. Without the 3D view (the 2D map) the control is hidden.
//
//   const view = createView3d(canvas, { software, quality: storedQuality() });
//   setupQualitySelect(view);

const KEY = 'servicepoint.quality';
const $ = (id) => document.getElementById(id);

/** The quality chosen earlier in this browser, or null (the view's default). */
export function storedQuality() {
  try {
    const q = localStorage.getItem(KEY);
    return q === 'high' || q === 'low' ? q : null;
  } catch {
    return null;
  }
}

/** Wire the top bar's select to the view (hidden when the view has no quality). */
export function setupQualitySelect(view) {
  const field = $('quality-field');
  const select = $('quality-select');
  if (!field || !select) return;
  if (typeof view.setQuality !== 'function') {
    field.hidden = true;
    return;
  }
  field.hidden = false;
  select.value = view.quality();
  select.addEventListener('change', () => {
    select.value = view.setQuality(select.value);
    try {
      localStorage.setItem(KEY, select.value);
    } catch {
      // storage refused (private mode): the choice lasts for this page only
    }
  });
}
