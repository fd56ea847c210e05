import type { PolicyAnalysis } from '../../policy';
import type { RuleCases } from '../types';
import { invalidPolicy } from './invalid-policy';
import { analysedPolicy, analysedStatement } from './statement.cases';

export const cases: RuleCases<PolicyAnalysis> = {
  rule: invalidPolicy,
  fires: [
    { name: 'text that is not JSON', subject: analysedPolicy('{ not json') },
    { name: 'a Version OSS does not know', subject: analysedPolicy({ Version: '2', Statement: [] }) },
    {
      name: 'a statement that says Effect twice (the analyser would read the last, OSS may read the first)',
      subject: analysedPolicy(
        '{"Version":"1","Statement":[{"Effect":"Deny","Effect":"Allow","Principal":["*"],' +
          '"Action":["oss:GetObject"],"Resource":["acs:oss:*:1234567890123456:examplebucket/*"]}]}',
      ),
    },
    {
      name: 'a key repeated with an escape (\\u0041ction is Action)',
      subject: analysedPolicy(
        '{"Version":"1","Statement":[{"Effect":"Allow","Principal":["2000000000000001"],' +
          '"Action":["oss:GetObject"],"\\u0041ction":["oss:GetObject"],' +
          '"Resource":["acs:oss:*:1234567890123456:examplebucket/reports/*"],' +
          '"Condition":{"Bool":{"acs:SecureTransport":"true"}}}]}',
      ),
    },
  ],
  silent: [
    { name: 'a well-formed policy', subject: analysedStatement() },
    {
      name: 'the same key in two different objects, and a value that looks like a key',
      subject: analysedPolicy(
        '{"Version":"1","Statement":[' +
          '{"Effect":"Allow","Principal":["2000000000000001"],"Action":["oss:GetObject"],' +
          '"Resource":["acs:oss:*:1234567890123456:examplebucket/reports/*"],' +
          '"Condition":{"Bool":{"acs:SecureTransport":"true"}}},' +
          '{"Effect":"Deny","Principal":["Effect"],"Action":["oss:PutObject"],' +
          '"Resource":["acs:oss:*:1234567890123456:examplebucket/reports/*"],' +
          '"Condition":{"Bool":{"acs:SecureTransport":"false"}}}]}',
      ),
    },
  ],
};
