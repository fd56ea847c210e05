import { describe, expect, it } from 'vitest';
import { repeatedKeys } from '../../shared/policy/repeated-keys';

describe('repeatedKeys', () => {
  it.each([
    ['no object', '[1, "a", true]', []],
    ['one key twice', '{"a": 1, "a": 2}', ['a']],
    [
      'a key twice in a nested object',
      '{"s": [{"x": 1}, {"Effect": "Allow", "Effect" :\n"Deny"}]}',
      ['Effect'],
    ],
    ['the same key in sibling objects', '[{"a": 1}, {"a": 2}]', []],
    ['a value equal to a key', '{"a": "a", "b": ["a"]}', []],
    ['a key spelled with an escape', '{"Action": 1, "\\u0041ction": 2}', ['Action']],
    [
      'strings holding quotes, backslashes and brackets',
      '{"a\\"": "}{", "b\\\\": "\\\\", "a\\"": 0}',
      ['a"'],
    ],
    ['a key repeated three times, named once', '{"k": 1, "k": 2, "k": 3}', ['k']],
  ])('finds, in %s, exactly the keys JSON.parse would silently overwrite', (_name, text, expected) => {
    JSON.parse(text);
    expect(repeatedKeys(text)).toEqual(expected);
  });
});
