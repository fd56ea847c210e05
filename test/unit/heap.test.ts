import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HEAP_FLAGS } from '../../shared/heap';

describe('the V8 heap flags the functions set at load', () => {
  const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });

  // An unknown flag only prints "unrecognized flag" and is ignored, so a Node upgrade would drop them silently.
  it.each(HEAP_FLAGS)('%s is a flag this Node’s V8 knows', (flag) => {
    expect(options).toContain(`  ${flag.replace(/=.*$/, '')} (`);
  });
});
