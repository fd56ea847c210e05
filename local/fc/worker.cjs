'use strict';
// One FC function instance. Plain CommonJS so the host can fork it with bare `node`, no TypeScript loader,
// exactly like the FC nodejs20 runtime loads the esbuild bundle. The host (host.ts) sends one `invoke`
// message at a time and waits for its `result`.
const path = require('node:path');
const util = require('node:util');

const handlerSpec = process.env.FC_FUNCTION_HANDLER ?? '';
const dot = handlerSpec.lastIndexOf('.');
// FC handler format is `<file>.<export>`, the file resolved against the code directory.
const modulePath = path.resolve(process.env.FC_FUNC_CODE_PATH ?? '.', handlerSpec.slice(0, dot));
const exportName = handlerSpec.slice(dot + 1);

let currentRequestId;

// Output travels over the IPC channel, in order with the result and tagged with the invocation that wrote
// it; through the stdout pipe a line printed just before `return` could arrive after the result.
for (const source of ['stdout', 'stderr']) {
  process[source].write = (chunk, ...rest) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    process.send({ type: 'output', source, requestId: currentRequestId, message: text });
    const callback = rest.find((arg) => typeof arg === 'function');
    if (callback) callback();
    return true;
  };
}

// An instance must not outlive its host.
process.on('disconnect', () => process.exit(0));

// Required lazily so a bundle that throws at load time fails the invocation the way FC reports an init
// error; Node drops a module that threw from its cache, so the next invocation loads it again.
function loadHandler() {
  if (dot <= 0) throw new Error(`handler "${handlerSpec}" is not of the form <file>.<export>`);
  const handler = require(modulePath)[exportName];
  if (typeof handler !== 'function') throw new Error(`${modulePath} exports no function "${exportName}"`);
  return handler;
}

function loggerFor(requestId) {
  const logger = {};
  for (const level of ['debug', 'info', 'warn', 'error', 'log']) {
    logger[level] = (...args) =>
      process.send({ type: 'log', requestId, level, message: util.format(...args) });
  }
  return logger;
}

// The FC runtime turns the return value into the response body: Buffers as bytes, anything else as JSON.
function encode(result) {
  if (Buffer.isBuffer(result)) return { buffer: result.toString('base64') };
  if (result === undefined) return {};
  return { value: JSON.parse(JSON.stringify(result)) };
}

process.on('message', async (message) => {
  if (message.type !== 'invoke') return;
  const { requestId, payload, context } = message;
  currentRequestId = requestId;
  let reply;
  try {
    const handler = loadHandler();
    // FC also injects the role's STS credentials as environment variables (FC "environment variables" doc).
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = context.credentials.accessKeyId;
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = context.credentials.accessKeySecret;
    process.env.ALIBABA_CLOUD_SECURITY_TOKEN = context.credentials.securityToken;
    const result = await handler(Buffer.from(payload, 'base64'), {
      ...context,
      logger: loggerFor(requestId),
    });
    reply = { type: 'result', requestId, ok: true, ...encode(result) };
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const text = error instanceof Error ? error.message : String(error);
    reply = { type: 'result', requestId, ok: false, error: { name, message: text } };
  }
  process.send(reply);
  currentRequestId = undefined;
});
