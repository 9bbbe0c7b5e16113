// Package op is Portvakt's OpenID Provider: discovery and JWKS, the
// authorization code flow with PKCE, the token endpoint (authorization
// code, refresh token, client credentials), userinfo, introspection (RFC
// 7662), revocation (RFC 7009), RP-initiated and back-channel logout,
// consent, clients and signing keys.
//
// It is built on zitadel/oidc's op package, which parses requests, signs
// tokens and writes the standard JSON. Portvakt serves the endpoints
// where the standards' security advice asks for more than zitadel does:
//
//   - /authorize and its callback are Portvakt's own. A bad client_id or
//     redirect_uri is a JSON 400 and never a redirect; redirect URIs are
//     compared as exact strings (only a public client's loopback IP URI
//     may vary its port, RFC 8252 §7.3); only response_type=code; PKCE
//     S256 is required of every client unless a confidential one is let
//     off (PKCEOptional), plain never; every response to the client,
//     success or error, carries iss (RFC 9207).
//   - The code exchange refuses a verifier the request had no challenge
//     for (RFC 9700 §4.8), binds the code to client, redirect URI and a
//     lifetime of at most a minute, and redeems it exactly once: a second
//     redemption revokes every token the first one gave (RFC 6749 §4.1.2).
//   - Refresh tokens rotate on every use; a used one presented again
//     revokes the whole family, the newest token too (RFC 9700 §4.14).
//     A family ends RefreshTokenTTL after the code was redeemed, whatever
//     the refreshes, and a token unused for RefreshTokenIdleTTL dies.
//   - Introspection, userinfo, revocation and end session look tokens up
//     themselves, and discovery says what is really offered.
//
// # The flow, and what the login page does
//
//	client ──► GET /authorize ──► 303 Deps.LoginURL(id)
//	login page: AuthRequest(id) to show what is asked; sign in, step up,
//	            consent as Complete says; Complete(id, session)
//	         ──► 303 /authorize/callback?id=…&t=… ──► 303 redirect_uri?code&state&iss
//	client ──► POST /oauth/token (code, code_verifier) ──► tokens
//
// The request id is known to whoever started the request, so the callback
// also needs t, which seals the completing session's id to the request:
// a code is only handed to the browser that completed the request, never
// to someone who had a signed-in victim complete a request they started.
// A completed request cannot be completed again by another session.
//
// Complete checks the browser's session against the request and either
// returns the callback URL or a *NeedError: NeedLogin (no session,
// prompt=login or max_age wanting a newer sign-in, id_token_hint naming
// another account), NeedStepUp with the level the acr_values or the
// essential acr claim demand, or NeedConsent (third-party clients, or
// prompt=consent). The page does what is needed and calls Complete again.
// With prompt=none it shows nothing: Complete answers login_required or
// consent_required to the client itself. Abort ends a request with
// access_denied (the user said no) or another error.
//
// # Levels and acr
//
// The levels are those of package authn (authn.Assess: 1 one factor, 2
// password and SMS, 3 password and an authenticator or recovery code, 4 a
// security key or passkey). Config.ACR maps ACR values to them
// (DefaultACR: urn:portvakt:level:1 to :4). An upstream's values
// (idporten-loa-high) are never mapped onto local levels. A request's acr_values, or the essential acr of
// its claims parameter, demand the lowest level among the values it
// names; the ID token's acr is the strongest requested value the
// session's level satisfies, or the level's own value.
//
// # Tokens
//
// ID tokens carry auth_time, acr, amr and sid (the browser session's ID,
// also the logout token's). Access tokens are opaque (256 random bits,
// stored as their SHA-256) unless the client asks for JWTs; both are
// bound to a grant, the family of one code, so revoking the grant kills
// them. client_credentials tokens are JWTs with no database record at all
// (a "cc-" jti), unless the client asks for opaque ones; revoking one puts
// its jti on a list until it would have expired. Every token is signed
// ES256 or, for clients that ask, RS256; never HS256 or none.
//
// # Signing keys
//
// Keys live in the database with their private halves sealed by
// Deps.Sealer, and in memory. EnsureKeys (at start-up, then every minute
// from Run) creates the first keys, publishes each successor PrePublish
// before it takes over at RotationPeriod, and keeps a retired key in the
// JWKS for Overlap, which must outlast every token it signed. Rotate
// replaces them at once. No key is ever made while a request waits: a
// provider without keys fails to sign.
//
// # Clients
//
// Clients come from the configuration (Config.Clients; their secrets,
// or the secrets' SHA-256, from the configuration or the environment) and
// from the database (CreateClient, for the CLI and the admin API, which
// generates a 256-bit secret, shows it once and stores its SHA-256).
// Secrets are compared in constant time; stored clients are cached for
// ClientCacheTTL.
package op
