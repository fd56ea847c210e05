import { policyRule } from './rule';

/** Principal `*` reaches anonymous callers (F-OSS-POLICY-PRINCIPAL-STAR). */
export const anonymousPrincipal = policyRule('anonymous-principal', {
  title: 'Bucket policy grants access to anyone',
  rationale:
    'A statement that allows Principal "*" without pinning the VPC, the AccessKey or a source network lets ' +
    'anonymous internet callers in; OSS Block Public Access counts such a policy as public.',
  firesWhen: 'Allow to `*` that no fixed VPC, AccessKey or source network pins: OSS calls it public',
});
