import { setFlagsFromString } from 'node:v8';

/**
 * V8 heap sizing that lets a guard fit even the smallest FC instance (128 MB); s.yaml gives the guards 256 MB,
 * and the flags cost little either way. By default V8 grows its young generation to 2 × 16 MB
 * under a high allocation rate and lets the old generation grow to a multiple of the live heap before it
 * collects: a burst of 1,000 changes peaked at 115-116 MB RSS with a live heap of ~10-15 MB. With the young
 * generation kept at its initial size and the old generation allowed 25 % over the live heap, the same burst
 * peaks at 87-88 MB, for ~10 % of its throughput (BENCHMARKS.md, burst). Either flag alone does not help: a
 * small young generation alone promotes more to the old one (125-128 MB).
 *
 * V8 reads both flags each time it sizes a space, so setting them when the bundle loads takes effect (Node
 * warns that a flag set after start may do nothing; the burst benchmark shows that these do). Not
 * `--max-old-space-size`: a hard cap turns a large batch into an out-of-memory crash on every redelivery,
 * where these only make collection come sooner. Not through NODE_OPTIONS either: Node refuses both there.
 */
export const HEAP_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=25'] as const;

/**
 * Called once as an event-driven function's bundle loads, before the first event. Not by oss-sweeper: it has
 * 512 MB, and over 10,000 buckets the tighter heap cost it ~40 % more CPU (1.30-1.36 → 1.40-1.51× its
 * floor) to bring its peak from 112 to 84 MB.
 */
export function sizeHeapForSmallInstance(): void {
  for (const flag of HEAP_FLAGS) setFlagsFromString(flag);
}
