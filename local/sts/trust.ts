/**
 * A RAM role's trust policy (AssumeRolePolicyDocument): Allow statements of `sts:AssumeRole` whose
 * `Principal.RAM` names the caller's account root (`acs:ram::<id>:root`, every RAM user and role of that
 * account) or the caller's own user or role ARN; `Principal.Service` entries trust cloud services, never a
 * signed caller (F-STS-TRUST-POLICY). A Deny statement naming the caller wins.
 */
interface TrustStatement {
  Effect?: unknown;
  Action?: unknown;
  Principal?: { RAM?: unknown; Service?: unknown };
}

const list = (value: unknown): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter(
    (item): item is string => typeof item === 'string',
  );

export function roleTrusts(trustPolicy: string, callerArns: readonly string[]): boolean {
  let statements: TrustStatement[];
  try {
    const document = JSON.parse(trustPolicy) as { Statement?: unknown };
    statements = Array.isArray(document.Statement) ? (document.Statement as TrustStatement[]) : [];
  } catch {
    return false;
  }
  const wanted = new Set(callerArns.map((arn) => arn.toLowerCase()));
  const matching = statements.filter(
    (s) =>
      list(s.Action).some((a) => a.toLowerCase() === 'sts:assumerole') &&
      list(s.Principal?.RAM).some((p) => wanted.has(p.toLowerCase())),
  );
  return matching.some((s) => s.Effect === 'Allow') && !matching.some((s) => s.Effect === 'Deny');
}
