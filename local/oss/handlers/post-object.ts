import { ERR, OssError } from '../errors';
import { emptyReply, type Operation, xmlReply } from '../operation';
import type { PostForm } from '../request';
import { STORED_OBJECT_HEADERS } from '../state';
import { element } from '../xml';
import { type ObjectAttributes, requestedAclOf, storeObject } from './objects';

/**
 * PostObject (F-OSS-POSTOBJECT): an HTML-form upload, `POST /` on the bucket with multipart/form-data. The
 * object key, ACL, metadata and credentials are form fields, the signature covers the base64 policy, and the
 * policy's `expiration` and `conditions` bound what the form may upload. The form is read in request.ts, so
 * that authentication and the trail see the key it names.
 */

type Condition = unknown;

const policyFailed = (detail: string): OssError =>
  new OssError(ERR.AccessDenied, { message: `Invalid according to Policy: ${detail}`, ec: '0006-00000227' });

/** The value a `$name` condition is checked against: a form field, or the bucket. */
function fieldValue(form: PostForm, bucket: string, name: string): string {
  const field = name.replace(/^\$/, '').toLowerCase();
  return field === 'bucket' ? bucket : (form.fields.get(field) ?? '');
}

function checkCondition(condition: Condition, form: PostForm, bucket: string): void {
  if (Array.isArray(condition)) {
    const [operator, first, second] = condition as [unknown, unknown, unknown];
    const op = String(operator).toLowerCase();
    if (op === 'content-length-range') {
      const size = form.file?.content.length ?? 0;
      if (size < Number(first) || size > Number(second)) {
        throw new OssError(ERR.EntityTooLarge, {
          message: 'Your proposed upload exceeds the policy size range.',
        });
      }
      return;
    }
    const actual = fieldValue(form, bucket, String(first));
    if (op === 'eq' && actual === String(second)) return;
    if (op === 'starts-with' && actual.startsWith(String(second))) return;
    if (op === 'in' && Array.isArray(second) && second.map(String).includes(actual)) return;
    if (op === 'not-in' && Array.isArray(second) && !second.map(String).includes(actual)) return;
    throw policyFailed(`Policy Condition failed: ["${op}", "${String(first)}", ${JSON.stringify(second)}]`);
  }
  if (typeof condition === 'object' && condition !== null) {
    for (const [name, value] of Object.entries(condition)) {
      if (fieldValue(form, bucket, name) !== String(value)) {
        throw policyFailed(`Policy Condition failed: ["eq", "$${name}", "${String(value)}"]`);
      }
    }
    return;
  }
  throw new OssError(ERR.InvalidPolicyDocument, {
    message: 'Invalid Policy: a condition is neither an object nor an array.',
  });
}

/** The policy's expiration was checked by authentication (its time is the claim's); here its conditions. */
export function checkPostPolicy(form: PostForm, bucket: string): void {
  const text = form.fields.get('policy');
  if (text === undefined) return;
  let policy: { conditions?: unknown };
  try {
    policy = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as { conditions?: unknown };
  } catch {
    throw new OssError(ERR.InvalidPolicyDocument, { message: 'Invalid Policy: Invalid JSON.' });
  }
  if (!Array.isArray(policy.conditions)) {
    // UNVERIFIED: the code; the EC is the documented one for a policy without conditions.
    throw new OssError(ERR.InvalidPolicyDocument, {
      message: 'Invalid Policy: the policy has no conditions.',
      ec: '0006-00000207',
    });
  }
  for (const condition of policy.conditions) checkCondition(condition, form, bucket);
}

/** Metadata and the stored response headers come from form fields, as PutObject takes them from headers. */
function formAttributes(form: PostForm): ObjectAttributes {
  const meta: Record<string, string> = {};
  const headers: ObjectAttributes['headers'] = {};
  for (const [name, value] of form.fields) {
    if (name.startsWith('x-oss-meta-')) meta[name.slice('x-oss-meta-'.length)] = value;
  }
  for (const name of STORED_OBJECT_HEADERS) {
    const value = form.fields.get(name);
    if (value !== undefined) headers[name] = value;
  }
  const contentType = form.fields.get('content-type') ?? form.file?.contentType ?? 'application/octet-stream';
  return { contentType, meta, headers };
}

const PostObject: Operation = {
  write: true,
  handle(ctx) {
    const form = ctx.request.form;
    if (!form?.file) {
      throw new OssError(ERR.MalformedPOSTRequest);
    }
    const bucket = ctx.state.bucket(ctx.bucketName);
    checkPostPolicy(form, ctx.bucketName);
    const storageClass = form.fields.get('x-oss-storage-class');
    const object = storeObject(ctx, bucket, {
      body: form.file.content,
      attributes: formAttributes(form),
      acl: requestedAclOf(form.fields.get('x-oss-object-acl')) ?? 'default',
      ...(storageClass ? { storageClass } : {}),
    });
    const status = form.fields.get('success_action_status');
    if (status === '200' || status === '201') {
      return status === '201'
        ? {
            ...xmlReply(
              element(
                'PostResponse',
                element('Bucket', ctx.bucketName),
                element('Key', ctx.key),
                element('ETag', object.etag),
              ),
              { etag: object.etag },
            ),
            status: 201,
          }
        : emptyReply(200, { etag: object.etag });
    }
    return emptyReply(204, { etag: object.etag });
  },
};

export const postObjectOperations = { PostObject } satisfies Record<string, Operation>;
