/** Every cloud call made for one change, with its request id: the audit record lists them. */
export interface CallEntry {
  service: string;
  operation: string;
  requestId?: string;
  ok: boolean;
}

export class CallLog {
  readonly entries: CallEntry[] = [];

  record(entry: CallEntry): void {
    this.entries.push(entry);
  }
}
