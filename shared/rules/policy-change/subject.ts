/**
 * A bucket-policy change judged against the last policy of this bucket that passed (its newest snapshot):
 * what the change took away, which the policy alone cannot show.
 */
export interface PolicyChangeSubject {
  bucket: string;
  /** The live policy; null when the bucket has none. */
  policy: string | null;
  /** Deny statements (as JSON) of the last passing policy of this bucket that the live policy no longer has. */
  droppedDenies: readonly string[];
  /** Set when the change was a bucket tagging call: the exception tag's value now, absent when it has none. */
  tagging?: { tagKey: string; exceptionTag?: string };
}
