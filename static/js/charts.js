// A click on an analysis chart shows the frame under the pointer (the frame number runs along
// the bottom). With data-frame-target the click picks that frame in a before/after viewer
// instead of loading an image.
document.addEventListener("click", (event) => {
  const svg = event.target.closest(".chart svg");
  if (!svg) return;
  const figure = svg.closest(".chart");
  const box = svg.closest(".charts");
  const first = Number(figure.dataset.first), last = Number(figure.dataset.last);
  const rect = svg.getBoundingClientRect();
  const frame = Math.round(first + (event.clientX - rect.left) / rect.width * (last - first));
  if (box.dataset.frameTarget) {
    const viewer = document.querySelector(box.dataset.frameTarget);
    if (viewer) viewer.dispatchEvent(new CustomEvent("pick-frame", {detail: {frame}}));
    return;
  }
  const shown = box.querySelector(".chart-frame");
  const img = shown.querySelector("img");
  img.src = box.dataset.frameUrl.replace(/\/0\.jpg$/, `/${frame}.jpg`);
  img.alt = `frame ${frame}`;
  shown.querySelector("figcaption").textContent = `frame ${frame}`;
  shown.hidden = false;
  shown.dataset.frame = frame;
});

// Before/after viewer: a slider uncovers the repaired frame over the original; a toggle
// shows one or the other whole; the frame list (or a chart click) picks the frame.
document.addEventListener("input", (event) => {
  const slider = event.target.closest(".compare input[type=range]");
  if (slider) slider.closest(".compare").style.setProperty("--split", `${slider.value}%`);
});
document.addEventListener("click", (event) => {
  const toggle = event.target.closest(".compare-toggle");
  if (toggle) {
    const viewer = toggle.closest(".before-after");
    const compare = viewer.querySelector(".compare");
    const slider = compare.querySelector("input[type=range]");
    slider.value = toggle.dataset.show === "after" ? 100 : 0;
    compare.style.setProperty("--split", `${slider.value}%`);
    return;
  }
  const pick = event.target.closest(".pick-frame");
  if (pick) {
    pick.closest(".before-after").dispatchEvent(
      new CustomEvent("pick-frame", {detail: {frame: Number(pick.dataset.frame)}}));
  }
});
document.addEventListener("pick-frame", (event) => {
  const viewer = event.target.closest ? event.target.closest(".before-after") : null;
  if (!viewer) return;
  const frames = JSON.parse(viewer.dataset.frames);
  let best = frames[0];
  for (const f of frames) if (Math.abs(f[0] - event.detail.frame) < Math.abs(best[0] - event.detail.frame)) best = f;
  const base = viewer.dataset.base.replace(/x$/, "");
  viewer.querySelector("img.before").src = base + best[1].before;
  viewer.querySelector("img.after").src = base + best[1].after;
  viewer.querySelector(".frame-no").textContent = best[0];
  viewer.dataset.frame = best[0];
}, true);
