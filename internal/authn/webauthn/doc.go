// Package webauthn registers and checks security keys and passkeys (W3C
// Web Authentication Level 3). It wraps github.com/go-webauthn/webauthn,
// which does the cryptography and the verification steps of the
// specification, and adds what Portvakt needs around it: the relying
// party's configuration, store.WebAuthnCredential in and out, sessions
// that expire on an injected clock and finish once, the counter policy,
// and every refusal as a *problem.Problem with a message key.
//
// The package has no HTTP and no storage. The web handlers move the JSON
// between the browser and the service, keep the session server-side, and
// store the credentials through store.WebAuthnCredentials.
//
// # Model
//
// A credential belongs to one account. Its ID is chosen by the
// authenticator and is unique across accounts (the store refuses a second
// registration with store.ErrConflict). The account ID is the WebAuthn
// user handle: a passkey carries it and hands it back at a passwordless
// login, so it must not change and is at most 64 bytes.
//
// There are two kinds, chosen at registration:
//
//   - A security key (passkey=false) is a second factor after the
//     password: resident key discouraged, user verification preferred.
//     It signs in only through BeginLogin/FinishLogin, for an account the
//     caller already knows.
//   - A passkey (passkey=true) replaces the password: a discoverable
//     credential with user verification required. It signs in through
//     BeginPasskeyLogin/FinishPasskeyLogin without a username, and also
//     serves as a second factor. Possession plus the authenticator's PIN
//     or biometric makes it multi-factor on its own (Flags.UserVerified).
//
// store.WebAuthnCredential.Discoverable records which one the user asked
// for; a security key is refused in a passwordless login even if the
// authenticator kept it as a discoverable credential, because the user
// registered it as a second factor and not as a way in.
//
// # Ceremonies
//
// Every ceremony has two steps. Begin returns options for the browser and
// a session; Finish takes the session and the browser's answer:
//
//	options, session, err := svc.BeginRegistration(user, passkey)
//	… keep session server-side (in the flow), send options to the page …
//	… the page: navigator.credentials.create({publicKey: options}) …
//	cred, err := svc.FinishRegistration(user, session, answer, label, now)
//	err = db.CreateWebAuthnCredential(ctx, cred)
//
//	options, session, err := svc.BeginLogin(user)        // second factor
//	updated, flags, err := svc.FinishLogin(user, session, answer, now)
//	_, err = db.UpdateWebAuthnCredential(ctx, updated.ID, …)
//
//	options, session, err := svc.BeginPasskeyLogin()    // passwordless
//	account, updated, flags, err := svc.FinishPasskeyLogin(session, answer, lookup, now)
//
// options is the JSON of the publicKey member of the argument to
// navigator.credentials.create (PublicKeyCredentialCreationOptionsJSON)
// or navigator.credentials.get (PublicKeyCredentialRequestOptionsJSON):
// binary fields (challenge, user.id, credential IDs) are base64url without
// padding. A page turns it into the browser's form with
// PublicKeyCredential.parseCreationOptionsFromJSON or
// parseRequestOptionsFromJSON (or by decoding those fields itself), and
// sends back the resulting credential's toJSON(): the JSON object with id,
// rawId, type, response (clientDataJSON and attestationObject with
// transports, or clientDataJSON, authenticatorData, signature and
// userHandle), authenticatorAttachment and clientExtensionResults. That
// body, unchanged, is Finish's response argument.
//
// A session is opaque JSON. It must stay on the server (or be sealed),
// because it holds the challenge the answer is checked against; it
// expires Config.Timeout after Begin, measured with Service.Now and the
// now passed to Finish. The browser gets the same timeout.
//
// # Single use
//
// A session finishes successfully once. The service remembers the
// challenges of finished sessions until they expire, so a replayed answer,
// or a second Finish with the same session, gets webauthn.challenge, and
// of concurrent Finish calls with one session one succeeds. That memory
// is per process: with several nodes, the caller must also consume the
// session exactly once (keep it in a flow consumed through UpdateFlow).
// A Finish that fails leaves the session usable until it expires, so a
// user who touched the wrong key can try again.
//
// An answer made for another session fails on its challenge: challenges
// are 32 random bytes, new for every Begin (SECURITY.md 6.7.2).
//
// # Signature counter
//
// An authenticator may count its signatures. FinishLogin applies the rule
// of WebAuthn §7.2 step 22: if the new count or the stored one is
// non-zero and the new one is not greater than the stored one, the
// authenticator may have been cloned. The login still succeeds, because a
// counter can also go back for harmless reasons (a reset, a synced passkey
// restored elsewhere) and refusing would lock the user out; instead the
// returned credential has CloneWarning set and the stored count is kept.
// CloneWarning is never cleared. The caller stores the credential and
// tells the user (and may ask for a second factor or re-registration).
// Counters that stay zero, which is what most passkeys send, are normal.
//
// # Errors
//
// A refused answer is a *problem.Problem with field "" and one of these
// keys (args in braces):
//
//	webauthn.expired             Expired    {minutes}  the session timed out
//	webauthn.challenge           Forbidden             not this session's challenge, a replay,
//	                                                   no session, or one begun for another
//	                                                   account or ceremony
//	webauthn.origin              Forbidden  {rp_id}    the browser was on another site (phishing)
//	webauthn.rp_id               Forbidden  {rp_id}    the authenticator signed for another site
//	webauthn.not_registered      Forbidden             unknown credential, another account's,
//	                                                   a deleted account, a security key in a
//	                                                   passwordless login, or no credentials
//	webauthn.user_verification   Forbidden             a passkey without PIN or biometric
//	webauthn.already_registered  Conflict              the account has this credential already
//	webauthn.failed              Invalid               anything else: cancelled, malformed,
//	                                                   a bad signature, an unsupported key
//
// The service makes the checks behind the specific keys itself before it
// hands the answer to go-webauthn, which then verifies everything again.
// Errors of the library that get past those checks are translated by
// their type and text (see refusal); what is not recognized becomes
// webauthn.failed, never a success. Other errors (a corrupt session, a
// failing account lookup, an account ID over 64 bytes) are internal.
//
// # Configuration
//
// Config.RPID is the domain credentials are bound to; it must be each
// origin's host or a parent domain of it. Changing it later strands every
// registered credential. Attestation is "none" by default: the browser
// may anonymize the authenticator, and nothing here checks attestation
// against a metadata service.
//
// # Testing
//
// The tests run whole ceremonies without a browser, with
// github.com/descope/virtualwebauthn as the authenticator (EC2 and RSA
// keys, packed self attestation), and check every refusal above by its
// key. A second test sends faulty answers straight to go-webauthn, past
// the service's own checks, and checks how its errors are translated, so
// a change in the library's error texts is caught on upgrade.
package webauthn
