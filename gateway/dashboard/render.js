// Rendering, batched to one frame: a change marks its part of the page dirty and each dirty
// part's view runs once on the next frame (or within 250 ms, since hidden tabs get no frames).

/** Part name -> the function that redraws it. */
const views = {};
const dirty = new Set();
let frameAsked = false;

/** Declares which function redraws each part (`book`, `trades`, `ticker`, `consolidated`, `stats`). */
export function setViews(map) {
  Object.assign(views, map);
}

/** Asks for `part` to be redrawn on the next frame. */
export function render(part) {
  dirty.add(part);
  if (frameAsked) return;
  frameAsked = true;
  const run = () => {
    if (!frameAsked) return;
    frameAsked = false;
    const parts = [...dirty];
    dirty.clear();
    for (const p of parts) views[p]?.();
  };
  requestAnimationFrame(run);
  setTimeout(run, 250); // hidden tabs get no animation frames
}
