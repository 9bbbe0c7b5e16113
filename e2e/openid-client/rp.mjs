// A relying party built on openid-client (pinned in package.json), driven
// by the e2e test (e2e/openidclient_test.go) over a line protocol: one
// JSON command per line on stdin, one JSON answer per line on stdout.
//
//	{"op":"discover","issuer":…,"client_id":…,"client_secret":…}
//	  → {"ok":true,"issuer":…,"endpoints":{…}}
//	{"op":"start","redirect_uri":…,"scope":…}
//	  → {"url":…} (PKCE S256, state and nonce kept for finish)
//	{"op":"finish","callback":…,"post_logout_redirect_uri":…,"logout_state":…}
//	  → the code exchange (state, PKCE, ID token and nonce checked by the
//	    library), userinfo, refresh, introspection, revocation,
//	    introspection again and the end-session URL, summed up in one
//	    object.
//
// A failure answers {"error":…,"code":…,"cause":…} and the process waits
// for the next command. The server under test is plain http on the
// loopback interface, hence allowInsecureRequests.
import { createInterface } from 'node:readline'

// openid-client 6 needs the Web Crypto API as a global: Node.js 20 or newer.
if (Number(process.versions.node.split('.')[0]) < 20) {
  process.stderr.write(`rp.mjs needs Node.js 20 or newer; this is ${process.version}\n`)
  process.exit(1)
}
const client = await import('openid-client')

let config // client.Configuration, after discover
let pending // what start made and finish checks against

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

// plain turns an error's cause (an Error, a Response, the server's JSON
// error body, …) into something JSON.stringify shows usefully.
function plain(v, depth = 0) {
  if (v === undefined || v === null || depth > 3) return v ?? null
  if (typeof Response !== 'undefined' && v instanceof Response) {
    return { status: v.status, statusText: v.statusText, url: v.url }
  }
  if (v instanceof Error) {
    const out = { name: v.name, message: v.message }
    for (const k of ['code', 'error', 'error_description', 'status']) {
      if (v[k] !== undefined) out[k] = v[k]
    }
    if (v.cause !== undefined) out.cause = plain(v.cause, depth + 1)
    return out
  }
  if (typeof v === 'object') {
    try {
      return JSON.parse(JSON.stringify(v))
    } catch {
      return String(v)
    }
  }
  return v
}

async function discover(cmd) {
  config = await client.discovery(new URL(cmd.issuer), cmd.client_id, cmd.client_secret, undefined, {
    execute: [client.allowInsecureRequests],
  })
  const m = config.serverMetadata()
  return {
    ok: true,
    issuer: m.issuer,
    endpoints: {
      authorization_endpoint: m.authorization_endpoint,
      token_endpoint: m.token_endpoint,
      userinfo_endpoint: m.userinfo_endpoint,
      introspection_endpoint: m.introspection_endpoint,
      revocation_endpoint: m.revocation_endpoint,
      end_session_endpoint: m.end_session_endpoint,
      jwks_uri: m.jwks_uri,
    },
    authorization_response_iss_parameter_supported: m.authorization_response_iss_parameter_supported ?? false,
    code_challenge_methods_supported: m.code_challenge_methods_supported ?? [],
  }
}

async function start(cmd) {
  if (!config) throw new Error('start before discover')
  const pkceCodeVerifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: cmd.redirect_uri,
    scope: cmd.scope ?? 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  })
  pending = { pkceCodeVerifier, state, nonce }
  return { url: url.href }
}

async function finish(cmd) {
  if (!config || !pending) throw new Error('finish before start')
  const { pkceCodeVerifier, state, nonce } = pending
  pending = undefined // a code is redeemed once, whatever happens

  // The code exchange: openid-client checks the callback's state and iss,
  // sends the PKCE verifier and validates the ID token (signature against
  // the JWKS, iss, aud, exp, iat, nonce).
  const tokens = await client.authorizationCodeGrant(config, new URL(cmd.callback), {
    pkceCodeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  })
  const claims = tokens.claims()
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)

  // Refresh: a new access token, and (Portvakt rotates) a new refresh
  // token; an ID token in the answer is validated by the library too.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  const refreshClaims = refreshed.id_token ? refreshed.claims() : undefined
  const accessToken = refreshed.access_token
  const oldAccessAfterRefresh = await client.tokenIntrospection(config, tokens.access_token)

  const introspectionBefore = await client.tokenIntrospection(config, accessToken)
  await client.tokenRevocation(config, accessToken)
  const introspectionAfter = await client.tokenIntrospection(config, accessToken)

  // The hint is the newest ID token the client holds.
  const params = { id_token_hint: refreshed.id_token ?? tokens.id_token }
  if (cmd.post_logout_redirect_uri) params.post_logout_redirect_uri = cmd.post_logout_redirect_uri
  if (cmd.logout_state) params.state = cmd.logout_state
  const endSessionURL = client.buildEndSessionUrl(config, params)

  return {
    ok: true,
    token_type: tokens.token_type,
    scope: tokens.scope,
    expires_in: tokens.expiresIn(),
    id_token: tokens.id_token,
    claims,
    userinfo,
    refresh: {
      ok: typeof accessToken === 'string' && accessToken.length > 0,
      new_access_token: accessToken !== tokens.access_token,
      has_refresh_token: typeof refreshed.refresh_token === 'string',
      rotated: typeof refreshed.refresh_token === 'string' && refreshed.refresh_token !== tokens.refresh_token,
      id_token: refreshed.id_token ?? null,
      claims: refreshClaims ?? null,
    },
    old_access_token_after_refresh: oldAccessAfterRefresh,
    introspection_before: introspectionBefore,
    introspection_after: introspectionAfter,
    end_session_url: endSessionURL.href,
  }
}

// code redeems the code of the last start and returns the tokens and the
// validated ID token's claims, without going on (representation journey).
async function code(cmd) {
  if (!config || !pending) throw new Error('code before start')
  const { pkceCodeVerifier, state, nonce } = pending
  pending = undefined
  const tokens = await client.authorizationCodeGrant(config, new URL(cmd.callback), {
    pkceCodeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  })
  const claims = tokens.claims()
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  return { ok: true, access_token: tokens.access_token, scope: tokens.scope, claims, userinfo }
}

// exchange is RFC 8693 token exchange through openid-client's generic
// grant: {"op":"exchange","subject_token":…,"scope":…} → the token
// response, and the new token's introspection.
async function exchange(cmd) {
  if (!config) throw new Error('exchange before discover')
  const params = {
    subject_token: cmd.subject_token,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
  }
  if (cmd.scope) params.scope = cmd.scope
  if (cmd.audience) params.audience = cmd.audience
  const r = await client.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', params)
  const introspection = await client.tokenIntrospection(config, r.access_token)
  return {
    ok: true,
    access_token: r.access_token,
    issued_token_type: r.issued_token_type ?? null,
    token_type: r.token_type,
    scope: r.scope ?? null,
    introspection,
  }
}

// introspect asks about any token: {"op":"introspect","token":…}.
async function introspect(cmd) {
  if (!config) throw new Error('introspect before discover')
  return await client.tokenIntrospection(config, cmd.token)
}

const ops = { discover, start, finish, code, exchange, introspect }

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of rl) {
  if (line.trim() === '') continue
  try {
    const cmd = JSON.parse(line)
    const fn = ops[cmd.op]
    if (!fn) throw new Error(`unknown op ${JSON.stringify(cmd.op)}`)
    reply(await fn(cmd))
  } catch (e) {
    reply({ error: e?.message ?? String(e), code: e?.code ?? null, cause: plain(e?.cause) })
  }
}
