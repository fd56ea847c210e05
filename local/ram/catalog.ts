/**
 * The attributes RAM keeps for roles, groups and custom policies, and which policies are attached to which
 * user, group or role: the state the role, group and policy actions read and write. Role and user existence
 * itself is the identity store's.
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

/** A RAM user group: its members, by user name, with the date each joined. */
export interface GroupDetails {
  groupId: string;
  comments: string;
  createDate: string;
  members: Map<string, string>;
}

export class RoleCatalog {
  readonly roles = new Map<string, RoleDetails>();
  readonly policies = new Map<string, CustomPolicy>();
  readonly attachments = new Map<string, Attachment[]>();
  /** Policies attached to RAM users, by user name. */
  readonly userAttachments = new Map<string, Attachment[]>();
  readonly groups = new Map<string, GroupDetails>();
  /** Policies attached to RAM user groups, by group name. */
  readonly groupAttachments = new Map<string, Attachment[]>();

  /** The users, groups and roles a policy is attached to, as `[name, attachment]` pairs. */
  holdersOf(policy: { type: string; policyName: string }): Record<'users' | 'groups' | 'roles', Held[]> {
    const of = (attachments: Map<string, Attachment[]>): Held[] =>
      [...attachments].flatMap(([name, list]) =>
        list
          .filter((a) => a.policyType === policy.type && a.policyName === policy.policyName)
          .map((a): Held => [name, a]),
      );
    return {
      users: of(this.userAttachments),
      groups: of(this.groupAttachments),
      roles: of(this.attachments),
    };
  }
}

type Held = [name: string, attachment: Attachment];
