/**
 * Progress on stderr for long stages: a bar redrawn in place on a terminal,
 * sparse plain lines otherwise (CI logs), nothing when quiet.
 *
 * @module
 */

/** A progress sink passed to long-running stages. */
export interface Progress {
  /** Starts (or restarts) a bar of `total` steps labelled `label`. */
  start(label: string, total: number): void;
  /** Advances the current bar by `n` steps. */
  tick(n?: number): void;
  /** Ends the current bar, printing its elapsed time. */
  done(note?: string): void;
  /** A log line (e.g. one per epoch). */
  log(message: string): void;
}

/** A progress sink that prints nothing. */
export const silentProgress: Progress = {
  start() {},
  tick() {},
  done() {},
  log() {},
};

const encoder = new TextEncoder();

/** Progress on stderr; redraws in place when stderr is a terminal. */
export function stderrProgress(): Progress {
  const tty = Deno.stderr.isTerminal();
  let label = "";
  let total = 0;
  let count = 0;
  let started = 0;
  let lastDraw = 0;
  let lastPct = -1;
  const write = (s: string) => Deno.stderr.writeSync(encoder.encode(s));
  const draw = (force: boolean) => {
    const now = performance.now();
    const pct = total > 0 ? Math.floor((100 * count) / total) : 0;
    if (tty) {
      if (!force && now - lastDraw < 100) return;
      const width = 24;
      const filled = Math.round((width * pct) / 100);
      const secs = ((now - started) / 1000).toFixed(1);
      write(
        `\r${label} [${"#".repeat(filled)}${
          ".".repeat(width - filled)
        }] ${count}/${total} ${secs}s`,
      );
    } else if ((force || pct >= lastPct + 25) && now - started > 2000) {
      write(`${label}: ${count}/${total}\n`);
      lastPct = pct;
    }
    lastDraw = now;
  };
  return {
    start(l, t) {
      label = l;
      total = t;
      count = 0;
      lastPct = -1;
      started = performance.now();
      lastPct = 0;
    },
    tick(n = 1) {
      count += n;
      draw(false);
    },
    done(note) {
      const ms = performance.now() - started;
      if (tty) write(`\r\x1b[2K`);
      // Quick stages stay quiet so that logs show what took time.
      if (ms > 1000 || note) {
        write(`${label}: done in ${(ms / 1000).toFixed(1)}s${note ? ` (${note})` : ""}\n`);
      }
    },
    log(message) {
      if (tty) write(`\r\x1b[2K`);
      write(`${message}\n`);
    },
  };
}
