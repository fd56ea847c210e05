'use strict';
// The function bundles resolve ws, socks-proxy-agent, https-proxy-agent and http-proxy-agent to this file
// where @darabonba/typescript's WebSocket client requires them (~130 KB with socks and ip-address). The
// generated SDKs the functions use make RPC calls over HTTPS; openapi-core takes the WebSocket path only
// for ws/wss APIs, so none of this ever runs there. Should it, it fails saying why instead of misbehaving.
function unavailable() {
  throw new Error('WebSocket connections are left out of the function bundles (scripts/shims/websocket.cjs)');
}

// Stands in for ws's WebSocket class (with its readyState constants), the proxy-agent factories and
// socks-proxy-agent's SocksProxyAgent class: calling or constructing any of them throws.
module.exports = Object.assign(unavailable, {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
  SocksProxyAgent: unavailable,
});
