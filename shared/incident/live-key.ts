import type { RamGateway } from '../clients/ram';

/** An AccessKey as RAM/IMS describe it now, in the account ossguard runs in. */
export interface LiveKey {
  owner: string;
  /** `Active` or `Inactive`. */
  status: string;
  /** Every key of the owner, this one included. */
  keys: Array<{ accessKeyId: string; status: string }>;
}

/**
 * The key re-read by its id in this account: IMS GetUser finds the RAM user that holds it, and that user's
 * key list must name exactly this id. Undefined when no RAM user of this account holds it: the account's own
 * key, one deleted since, or no key of this account at all.
 */
export async function liveKey(ram: RamGateway, accessKeyId: string): Promise<LiveKey | undefined> {
  const owner = await ram.keyOwner(accessKeyId);
  if (!owner) return undefined;
  const keys = await ram.listAccessKeys(owner.userName);
  const key = keys.find((k) => k.accessKeyId === accessKeyId);
  if (!key) return undefined;
  return {
    owner: owner.userName,
    status: key.status,
    keys: keys.map((k) => ({ accessKeyId: k.accessKeyId, status: k.status })),
  };
}
