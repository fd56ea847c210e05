/** The users a tagging call named, as IMS shows them now (their tags re-read, never taken from the record). */
export interface UserTagSubject {
  /** `exceptions.tagKey`. */
  tagKey: string;
  users: ReadonlyArray<{
    userName: string;
    /** The exception tag's value now; absent when the user has none. */
    exceptionTag?: string;
    /** The call was made by this very user: an exception it granted itself. */
    selfGranted: boolean;
    /** What the exception model makes of the tag now: what it waives until when, or why it is ignored. */
    verdict?: string;
  }>;
}
