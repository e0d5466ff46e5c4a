// Geometry for the usage chart (hand-written SVG, see ui/README.md): one stacked bar per day,
// accepted below refused, scaled to a "nice" maximum with a few round gridlines.
import type { DayCount } from "../bindings/DayCount";

export type ChartBar = {
  day: string;
  accepted: number;
  refused: number;
  x: number;
  width: number;
  /** Top of the accepted part and its height (SVG y grows downwards). */
  acceptedY: number;
  acceptedHeight: number;
  refusedY: number;
  refusedHeight: number;
};

export type ChartModel = {
  bars: ChartBar[];
  max: number;
  ticks: number[];
  totalAccepted: number;
  totalRefused: number;
  /** Indices of bars that get a date label, evenly spread so labels never collide. */
  labelled: number[];
};

/** 0 -> 1, 7 -> 8, 13 -> 15, 240 -> 250, 1234 -> 1500: a round top for the axis. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const exp = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    const candidate = step * exp;
    if (candidate >= value) return Math.max(1, Math.round(candidate));
  }
  return 10 * exp;
}

export function buildChart(series: readonly DayCount[], width: number, height: number, maxLabels = 8): ChartModel {
  const peak = Math.max(0, ...series.map((d) => d.accepted + d.refused));
  const max = niceMax(peak);
  const slot = series.length ? width / series.length : width;
  const gap = slot > 6 ? Math.min(4, slot * 0.2) : 0;
  const scale = (n: number) => (n / max) * height;
  const bars = series.map((d, i) => {
    const acceptedHeight = scale(d.accepted);
    const refusedHeight = scale(d.refused);
    return {
      day: d.day,
      accepted: d.accepted,
      refused: d.refused,
      x: i * slot + gap / 2,
      width: Math.max(1, slot - gap),
      acceptedY: height - acceptedHeight,
      acceptedHeight,
      refusedY: height - acceptedHeight - refusedHeight,
      refusedHeight,
    };
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(max * f)).filter((v, i, a) => a.indexOf(v) === i);
  const every = Math.max(1, Math.ceil(series.length / maxLabels));
  const labelled = series.map((_, i) => i).filter((i) => (series.length - 1 - i) % every === 0);
  return {
    bars,
    max,
    ticks,
    totalAccepted: series.reduce((s, d) => s + d.accepted, 0),
    totalRefused: series.reduce((s, d) => s + d.refused, 0),
    labelled,
  };
}

/** "2026-11-23" (UTC day) -> "23 Nov" in the person's locale. */
export function formatDay(day: string, locale?: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  return new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", timeZone: "UTC" }).format(d);
}

/** "refused: network not allowed" -> ["refused", "network not allowed"]; "accepted" -> ["accepted", ""]. */
export function splitOutcome(outcome: string): [string, string] {
  const i = outcome.indexOf(":");
  return i < 0 ? [outcome, ""] : [outcome.slice(0, i).trim(), outcome.slice(i + 1).trim()];
}

/** Whether a use presented the token in the URL query (risky: URLs are logged). */
export const isQueryParam = (via: string) => /query/i.test(via);
