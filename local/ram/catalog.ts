/**
 * The attributes RAM keeps for roles and custom policies, and which policies are attached to which role: the
 * state the role actions (roles.ts) read and write. Role existence itself is the identity store's.
 */
export interface RoleDetails {
  assumeRolePolicyDocument: string;
  description: string;
  maxSessionDuration: number;
  createDate: string;
  updateDate: string;
}

export interface PolicyVersion {
  versionId: string;
  document: string;
  createDate: string;
}

export interface CustomPolicy {
  policyName: string;
  description: string;
  createDate: string;
  updateDate: string;
  defaultVersion: string;
  versions: PolicyVersion[];
  /** Version ids are never reused, even after rotation deletes old ones. */
  nextVersion: number;
}

export interface Attachment {
  policyType: 'System' | 'Custom';
  policyName: string;
  attachDate: string;
}

export class RoleCatalog {
  readonly roles = new Map<string, RoleDetails>();
  readonly policies = new Map<string, CustomPolicy>();
  readonly attachments = new Map<string, Attachment[]>();
  /** Policies attached to RAM users, by user name. */
  readonly userAttachments = new Map<string, Attachment[]>();
}
