// Tiny inline-SVG line charts for the operator view: no library, scaled to the series' maximum.
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 300;
const HEIGHT = 100;
const TOP = 12; // room for the maximum's label

/**
 * Draws one polyline per series into `svg` (its viewBox is 300×100) and describes the latest
 * values in its <desc> for screen readers.
 */
export function drawChart(svg, series, format, what) {
  const max = Math.max(1e-9, ...series.flat());
  const desc = svg.querySelector("desc");
  const nodes = [desc];
  nodes.push(line(0, HEIGHT - 0.5, WIDTH, HEIGHT - 0.5, "axis"));
  series.forEach((values, index) => {
    if (values.length < 2) {
      return;
    }
    const step = WIDTH / (values.length - 1);
    const points = values.map((v, i) => `${(i * step).toFixed(1)},${(HEIGHT - (v / max) * (HEIGHT - TOP)).toFixed(1)}`);
    const path = document.createElementNS(SVG, "polyline");
    path.setAttribute("points", points.join(" "));
    path.setAttribute("class", index === 0 ? "line" : "line second");
    nodes.push(path);
  });
  const label = document.createElementNS(SVG, "text");
  label.setAttribute("x", "4");
  label.setAttribute("y", "10");
  label.textContent = `max ${format(max)}`;
  nodes.push(label);
  svg.replaceChildren(...nodes);
  const latest = series.map((values) => (values.length ? format(values[values.length - 1]) : "no data"));
  desc.textContent = `Latest ${what}: ${latest.join(" and ")}; highest shown ${format(max)}.`;
}

function line(x1, y1, x2, y2, cls) {
  const node = document.createElementNS(SVG, "line");
  node.setAttribute("x1", x1);
  node.setAttribute("y1", y1);
  node.setAttribute("x2", x2);
  node.setAttribute("y2", y2);
  node.setAttribute("class", cls);
  return node;
}
