// Accepted and refused uses per day as stacked SVG bars. Hand-written rather than a chart
// library (see ui/README.md): ≤ 90 bars, no inline <style>, colours from the theme's CSS
// variables, refused bars also hatched so colour is not the only signal, a <title> per bar
// and the same numbers as a table for screen readers.
import { useId } from "react";
import type { DayCount } from "../../bindings/DayCount";
import { buildChart, formatDay } from "../../lib/usageChart";

const W = 640;
const H = 170;
const LEFT = 44;
const BOTTOM = 22;
const TOP = 8;

export function UsageChart({ series, days }: { series: DayCount[]; days: number }) {
  const hatch = useId().replace(/:/g, "");
  const plotW = W - LEFT - 8;
  const plotH = H - TOP - BOTTOM;
  const m = buildChart(series, plotW, plotH, days > 30 ? 9 : days > 7 ? 8 : 7);
  const summary = `${m.totalAccepted} accepted and ${m.totalRefused} refused uses over the last ${days} days.`;
  return (
    <figure className="usage-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Uses per day. ${summary}`} className="chart-svg">
        <defs>
          <pattern id={hatch} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" className="bar-refused" />
            <line x1="0" y1="0" x2="0" y2="6" className="hatch-line" />
          </pattern>
        </defs>
        <g transform={`translate(${LEFT},${TOP})`}>
          {m.ticks.map((t) => {
            const y = plotH - (t / m.max) * plotH;
            return (
              <g key={t} className="chart-grid">
                <line x1={0} x2={plotW} y1={y} y2={y} />
                <text x={-6} y={y} dy="0.32em" textAnchor="end" className="chart-label">
                  {t.toLocaleString()}
                </text>
              </g>
            );
          })}
          {m.bars.map((b) => (
            <g key={b.day} className="chart-bar" data-day={b.day}>
              <title>{`${formatDay(b.day)}: ${b.accepted} accepted, ${b.refused} refused`}</title>
              {/* A transparent full-height hit area keeps the tooltip reachable on empty days. */}
              <rect x={b.x} y={0} width={b.width} height={plotH} className="bar-hit" />
              {b.acceptedHeight > 0 && <rect x={b.x} y={b.acceptedY} width={b.width} height={b.acceptedHeight} className="bar-accepted" />}
              {b.refusedHeight > 0 && <rect x={b.x} y={b.refusedY} width={b.width} height={b.refusedHeight} fill={`url(#${hatch})`} className="bar-refused-part" />}
            </g>
          ))}
          <line x1={0} x2={plotW} y1={plotH} y2={plotH} className="chart-axis" />
          {m.labelled.map((i) => {
            const b = m.bars[i];
            return (
              <text key={b.day} x={b.x + b.width / 2} y={plotH + 15} textAnchor="middle" className="chart-label">
                {formatDay(b.day)}
              </text>
            );
          })}
        </g>
      </svg>
      <figcaption className="chart-legend">
        <span className="legend-item">
          <svg width="12" height="12" aria-hidden="true">
            <rect width="12" height="12" className="bar-accepted" />
          </svg>
          Accepted ({m.totalAccepted.toLocaleString()})
        </span>
        <span className="legend-item">
          <svg width="12" height="12" aria-hidden="true">
            <rect width="12" height="12" fill={`url(#${hatch})`} />
          </svg>
          Refused ({m.totalRefused.toLocaleString()})
        </span>
      </figcaption>
      <details className="chart-table">
        <summary>Show as a table</summary>
        <table className="data-table compact">
          <caption className="visually-hidden">Uses per day</caption>
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              <th scope="col">Accepted</th>
              <th scope="col">Refused</th>
            </tr>
          </thead>
          <tbody>
            {series.map((d) => (
              <tr key={d.day}>
                <td>{d.day}</td>
                <td>{d.accepted}</td>
                <td>{d.refused}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
