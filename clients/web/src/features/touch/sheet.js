// The side panels as a bottom sheet on narrow screens (src/mobile.css, max-width
// 700px): a button with aria-expanded collapses it to its handle, so the hall
// view gets the screen, and expands it again. On wide screens the button is not
// shown and the panels stay beside the view, whatever the sheet's state.
//
//   const sheet = new BottomSheet({ side, toggle });
//   sheet.expanded; sheet.expand(); sheet.collapse(); sheet.narrow()

export const NARROW = '(max-width: 700px)';

export class BottomSheet {
  constructor({ side, toggle }) {
    this.side = side;
    this.toggle = toggle;
    this.expanded = true;
    toggle.addEventListener('click', () => (this.expanded ? this.collapse() : this.expand()));
    this.render();
  }

  narrow() {
    return Boolean(globalThis.matchMedia?.(NARROW).matches);
  }

  expand() {
    this.expanded = true;
    this.render();
  }

  collapse() {
    // Focus inside the panels would be lost with them: keep it on the button.
    if (this.side.contains(document.activeElement) && document.activeElement !== this.toggle) {
      this.toggle.focus();
    }
    this.expanded = false;
    this.render();
  }

  render() {
    this.toggle.setAttribute('aria-expanded', String(this.expanded));
    this.side.toggleAttribute('data-collapsed', !this.expanded);
  }
}
