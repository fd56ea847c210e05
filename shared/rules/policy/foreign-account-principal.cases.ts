import type { PolicyAnalysis } from '../../policy';
import type { RuleCases } from '../types';
import { foreignAccountPrincipal } from './foreign-account-principal';
import { analysedStatement, OWNER, STRANGER } from './statement.cases';

export const cases: RuleCases<PolicyAnalysis> = {
  rule: foreignAccountPrincipal,
  fires: [
    { name: 'a stranger account', subject: analysedStatement({ Principal: [STRANGER] }) },
    {
      name: 'a stranger’s RAM role',
      subject: analysedStatement({ Principal: [`acs:ram::${STRANGER}:role/reader`] }),
    },
  ],
  silent: [
    { name: 'the owner account', subject: analysedStatement({ Principal: [OWNER] }) },
    {
      name: 'a role of the owner account',
      subject: analysedStatement({ Principal: [`acs:ram::${OWNER}:role/reader`] }),
    },
    { name: 'a stranger in a Deny', subject: analysedStatement({ Effect: 'Deny', Principal: [STRANGER] }) },
  ],
};
