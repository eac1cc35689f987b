/**
 * A summary of ONNX Runtime's profiler trace (Chrome trace JSON): time per
 * operator type and execution provider, so a slow session says which
 * operators cost it and which ones ORT left on the CPU. On CUDA a node's
 * time is the host's time to launch it unless the node waits for the
 * device (copies, CPU fallbacks), so the table ranks what stalls the host.
 *
 * @module
 */

/** Time of one operator type on one provider. */
export interface OpTime {
  readonly op: string;
  readonly provider: string;
  readonly us: number;
  readonly count: number;
  /** Share of all node time. */
  readonly share: number;
}

/** What a trace says. */
export interface ProfileSummary {
  /** Runs in the trace, and their median wall time (µs). */
  readonly runs: number;
  readonly medianRunUs: number;
  /** Every operator type, most time first. */
  readonly ops: OpTime[];
}

interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string; provider?: string };
}

/** Summarises the trace in `text` (the file ORT wrote). */
export function summarizeProfile(text: string): ProfileSummary {
  const events = JSON.parse(text) as TraceEvent[];
  const byKey = new Map<string, { op: string; provider: string; us: number; count: number }>();
  const runs: number[] = [];
  let total = 0;
  for (const e of events) {
    if (e.cat === "Session" && e.name === "model_run") runs.push(e.dur ?? 0);
    if (e.cat !== "Node" || !e.name?.endsWith("_kernel_time")) continue;
    const op = e.args?.op_name ?? "?";
    const provider = (e.args?.provider ?? "?").replace("ExecutionProvider", "");
    const key = `${op}@${provider}`;
    const slot = byKey.get(key) ?? { op, provider, us: 0, count: 0 };
    slot.us += e.dur ?? 0;
    slot.count++;
    byKey.set(key, slot);
    total += e.dur ?? 0;
  }
  runs.sort((a, b) => a - b);
  return {
    runs: runs.length,
    medianRunUs: runs.length ? runs[Math.floor(runs.length / 2)] : 0,
    ops: [...byKey.values()]
      .map((s) => ({ ...s, share: total ? s.us / total : 0 }))
      .sort((a, b) => b.us - a.us),
  };
}
