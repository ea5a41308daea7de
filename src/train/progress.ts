// fit()'s progress output: a live cli-progress bar with ETA when stdout is a terminal, plain lines otherwise
// (CI logs, pipes, browsers): one line per epoch, plus a progress line every `lineInterval` seconds in long epochs.

export type Verbose = 0 | 1 | boolean | 'auto' | 'bar' | 'lines';

export interface BatchLogs {
  batch: number;
  size: number;
  loss: number;
  accuracy: number;
  lr: number;
  imagesPerSec: number;
}

export interface EpochLogs {
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  lr: number;
  seconds: number;
  imagesPerSec: number;
}

export interface Reporter {
  epochBegin(epoch: number, epochs: number, batches: number | null): void;
  batch(done: number, logs: BatchLogs): void;
  epochEnd(epoch: number, epochs: number, logs: EpochLogs): void;
  stop(): void;
}

const pct = (a: number) => `${(100 * a).toFixed(2)}%`;
const ips = (v: number) => Math.round(v).toLocaleString('en-US');

export function epochLine(epoch: number, epochs: number, l: EpochLogs): string {
  const w = String(epochs).length;
  let s = `epoch ${String(epoch + 1).padStart(w)}/${epochs}  loss ${l.loss.toFixed(4)}  acc ${pct(l.accuracy)}`;
  if (l.valLoss !== undefined) s += `  val_loss ${l.valLoss.toFixed(4)}  val_acc ${pct(l.valAccuracy!)}`;
  const lr = l.lr !== 0 && Math.abs(l.lr) < 1e-3 ? l.lr.toExponential(2) : l.lr.toPrecision(3);
  return `${s}  ${l.seconds.toFixed(1)} s  ${ips(l.imagesPerSec)} img/s  lr ${lr}`;
}

function isTTY(): boolean {
  const p = (globalThis as { process?: { stdout?: { isTTY?: boolean } } }).process;
  return !!p?.stdout?.isTTY;
}

class LineReporter implements Reporter {
  private last = 0;
  private epochs = 1;
  private batches: number | null = null;
  private epoch = 0;

  constructor(private readonly print: (s: string) => void, private readonly interval: number) {}

  epochBegin(epoch: number, epochs: number, batches: number | null): void {
    this.epoch = epoch; this.epochs = epochs; this.batches = batches;
    this.last = performance.now();
  }

  batch(done: number, l: BatchLogs): void {
    const now = performance.now();
    if (now - this.last < this.interval * 1000) return;
    this.last = now;
    this.print(`  epoch ${this.epoch + 1}/${this.epochs}  batch ${done}${this.batches ? `/${this.batches}` : ''}  loss ${l.loss.toFixed(4)}  acc ${pct(l.accuracy)}  ${ips(l.imagesPerSec)} img/s`);
  }

  epochEnd(epoch: number, epochs: number, l: EpochLogs): void {
    this.print(epochLine(epoch, epochs, l));
  }

  stop(): void {}
}

interface CliBar {
  start(total: number, value: number, payload?: object): void;
  update(value: number, payload?: object): void;
  stop(): void;
}

class BarReporter implements Reporter {
  private bar: CliBar | null = null;

  constructor(private readonly make: () => CliBar, private readonly print: (s: string) => void) {}

  epochBegin(epoch: number, epochs: number, batches: number | null): void {
    if (batches === null) return;   // an iterable of unknown length: just the epoch line
    this.bar = this.make();
    this.bar.start(batches, 0, { epoch: `${epoch + 1}/${epochs}`, loss: '-', acc: '-', ips: '-' });
  }

  batch(done: number, l: BatchLogs): void {
    this.bar?.update(done, { loss: l.loss.toFixed(4), acc: pct(l.accuracy), ips: ips(l.imagesPerSec) });
  }

  epochEnd(epoch: number, epochs: number, l: EpochLogs): void {
    this.bar?.stop();
    this.bar = null;
    this.print(epochLine(epoch, epochs, l));
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

/** The reporter for a verbose setting (null for silent). The bar needs Node, cli-progress and a TTY stdout. */
export async function makeReporter(verbose: Verbose, print: ((s: string) => void) | undefined, lineInterval: number): Promise<Reporter | null> {
  if (verbose === 0 || verbose === false) return null;
  const out = print ?? ((s: string) => console.log(s));
  const wantBar = verbose === 'bar' || ((verbose === 1 || verbose === true || verbose === 'auto') && !print && isTTY());
  if (wantBar) {
    try {
      const name = 'cli-progress';   // a variable: browsers' bundlers skip it, Node resolves it
      const mod: unknown = await import(name);
      const cp = (mod as { default?: unknown }).default ?? mod;
      const { SingleBar, Presets } = cp as { SingleBar: new (o: object, p: object) => CliBar; Presets: { shades_classic: object } };
      const stream = (globalThis as { process?: { stdout?: unknown } }).process?.stdout;
      return new BarReporter(() => new SingleBar({
        format: 'epoch {epoch} {bar} {percentage}% | {value}/{total} | loss {loss} acc {acc} | {ips} img/s | ETA {eta_formatted}',
        stream, clearOnComplete: true, hideCursor: false, etaBuffer: 50, fps: 10,
      }, Presets.shades_classic), out);
    } catch {
      // No cli-progress (a browser bundle): plain lines.
    }
  }
  return new LineReporter(out, lineInterval);
}
