// Extra lines under an avatar's name tag, by entity id, for both views (the 3D
// name tag in avatars.js, the 2D map's label in view2d.js). Features add them:
// the scorecard adds the badges a staff member chose to show. Each value is a
// function returning the lines, so a language switch re-renders them.
//
//   tagExtras.set(entityId, () => ['Served in three languages · ...']);
//   tagExtras.delete(entityId);

export const tagExtras = new Map();

/** The extra lines for `id` (none: []). */
export function extraLines(id) {
  const extra = tagExtras.get(id);
  return extra ? extra().filter((line) => line) : [];
}
