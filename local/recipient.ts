import type { CloudEvent, EmittedRecord } from '../shared/events/actiontrail-event';

/**
 * The account a record belongs to: `recipientAccountId`, the account that owns the resource (F-ORG-TRAIL-RECIPIENT).
 * It differs from `userIdentity.accountId` when another account's key made the call. The shared record type
 * does not carry it, so the local cloud adds it where the record is made and reads it back here.
 */
export type RecipientRecord = EmittedRecord & { recipientAccountId: string };

export const withRecipient = (record: EmittedRecord, accountId: string): RecipientRecord => ({
  ...record,
  recipientAccountId: accountId,
});

export const recipientOf = (record: EmittedRecord): string =>
  (record as Partial<RecipientRecord>).recipientAccountId ?? String(record.userIdentity.accountId ?? '');

/** The EventBridge event of a record, sent to the bus of the account that owns the resource. */
export const onRecipientBus = (event: CloudEvent): CloudEvent => ({
  ...event,
  aliyunaccountid: recipientOf(event.data),
});
