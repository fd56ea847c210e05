import type { PolicyAnalysis } from '../../policy/types';
import type { Rule } from '../types';
import { anonymousPrincipal } from './anonymous-principal';
import { foreignAccountPrincipal } from './foreign-account-principal';
import { invalidPolicy } from './invalid-policy';
import { noHttpsCondition } from './no-https-condition';
import { noSourceRestriction } from './no-source-restriction';
import { publicWrite } from './public-write';
import { wholeBucketResource } from './whole-bucket-resource';
import { wildcardAction } from './wildcard-action';

/** In POLICY_RULE_IDS order. */
export const policyRules: readonly Rule<PolicyAnalysis>[] = [
  anonymousPrincipal,
  publicWrite,
  wildcardAction,
  wholeBucketResource,
  noHttpsCondition,
  noSourceRestriction,
  foreignAccountPrincipal,
  invalidPolicy,
];
