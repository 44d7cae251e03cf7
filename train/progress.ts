/**
 * Progress reporting: one live line on a terminal, plain periodic lines otherwise.
 */
import type { StepStats } from "./gan.ts";

export interface ProgressLine extends StepStats {
  step: number;
  steps: number;
  stepsPerS: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, "0")}m`
    : m > 0
    ? `${m}m${String(r).padStart(2, "0")}s`
    : `${r}s`;
}

export function formatProgress(p: ProgressLine): string {
  const width = String(p.steps).length;
  const eta = p.stepsPerS > 0 ? (p.steps - p.step) / p.stepsPerS : Infinity;
  return [
    `step ${String(p.step).padStart(width)}/${p.steps}`,
    `${p.stepsPerS.toFixed(1)} steps/s`,
    `ETA ${formatDuration(eta)}`,
    `D ${p.dLoss.toFixed(3)}`,
    `G ${p.gLoss.toFixed(3)}`,
    `D(x) ${p.dReal.toFixed(3)}`,
    `D(G(z)) ${p.dFake.toFixed(3)}`,
  ].join("  ");
}

export interface PrinterOptions {
  /** Redraw one live line (default: whether stdout is a terminal). */
  tty?: boolean;
  /** Where text goes (default: stdout). */
  write?: (text: string) => void;
}

/** Writes progress: redraws one line on a TTY, prints whole lines otherwise. */
export class ProgressPrinter {
  readonly #tty: boolean;
  readonly #write: (text: string) => void;
  #live = false;

  constructor(options: PrinterOptions = {}) {
    this.#tty = options.tty ?? Deno.stdout.isTerminal();
    const encoder = new TextEncoder();
    this.#write = options.write ?? ((text) => Deno.stdout.writeSync(encoder.encode(text)));
  }

  /** Live update (TTY only). */
  update(p: ProgressLine): void {
    if (!this.#tty) return;
    this.#write(`\r\x1b[K${formatProgress(p)}`);
    this.#live = true;
  }

  /** A periodic record: a full line when not on a TTY. */
  record(p: ProgressLine): void {
    if (this.#tty) this.update(p);
    else this.line(formatProgress(p));
  }

  /** A message on its own line, ending any live line first. */
  line(text: string): void {
    if (this.#live) this.#write("\n");
    this.#live = false;
    this.#write(text + "\n");
  }
}
