// Package flow runs Portvakt's self-service journeys: sign-up, sign-in,
// recovery and the account settings that change credentials. It knows
// nothing of HTTP; the web package decodes a form or JSON body, calls one
// method here, and renders what comes back. A user's mistake comes back
// as a *problem.Problem; anything else is a fault.
//
// # Flows
//
// A journey that spans several requests is a store.Flow: a row with the
// journey's kind, state, the digest of its one-time code or link, its
// attempt and send counters and its expiry. A flow is bound to the browser
// that started it (Client.Browser, the digest of a browser cookie; for the
// API, of a flow token) and answers to no other. Checking a code or using
// a link happens inside store.Flows.UpdateFlow, so parallel submissions
// are serialized: the attempt limit cannot be outrun and a code or link
// works exactly once.
//
//	sign-up   StartSignup ─code─▶ VerifySignupCode ─▶ CompleteSignup(name, password) ─▶ session
//	sign-in   StartLogin(email) ─▶ LoginPassword ─▶ session      LoginUsername ─▶ session
//	recovery  StartRecovery(code)  ─code─▶ VerifyRecoveryCode ─▶ CompleteRecovery(password) ─▶ session
//	          StartRecovery(link)  ─mail─▶ InspectLink (GET) ─▶ UseLink (POST) ─▶ CompleteRecovery
//	          StartRecovery(magic) ─mail─▶ InspectLink (GET) ─▶ UseLink (POST) ─▶ session
//	upstream  StartFederated ─provider─▶ FederatedCallback ─▶ session (via) | FederatedCreate | CompleteLink | MoveHere | SignInHolder
//
// Upstream sign-in and account linking are in federate.go, with their own
// map: an identity is (provider, subject), never an address, and linking,
// moving or unlinking needs the account's full level.
//
// # Enumeration
//
// No answer tells a stranger whether an address has an account: sign-up
// and recovery always send a mail and always lead to the same next step
// (the mail itself says when the address already has, or has no, account,
// and no code or link in such a flow will ever work); sign-in always asks
// for the password and verifies a dummy hash for unknown accounts; the
// failure counter counts unknown identifiers like known ones.
//
// # Sessions
//
// finishLogin (login_finish.go) is the one place a journey turns into a
// session. Second factors attach there, so no path (password, recovery,
// magic link) can skip them.
//
// # Second factors
//
// Each second-factor method lives in one file and registers one entry in
// the table of second-factor kinds (mfa_kinds.go): its options for an
// account, an optional send, its verify, and its view (FactorView, the
// message keys the step shows). The step (mfa_step.go, mfa_options.go)
// and the web page go through the table and name no method:
//
//	mfa_totp.go      authenticator apps (and setting one up from the settings)
//	mfa_code.go      SMS and email codes (send within the limits, verify, the email link)
//	mfa_recovery.go  recovery codes          mfa_key.go  security keys and passkeys
//	mfa_support.go   a code from support     mfa_enrol.go  setting one up inside a sign-in
//
// Adding a second-factor method touches one file in flow (its entry and
// its checks, mfa_<method>.go), one in web (the settings page's handlers
// and JSON twins that set it up) and one template (that page), plus its
// message keys; the second-factor step needs no change. Arming a code
// within a flow's send cap and cool-down is one helper (core.go
// armFlowCode) for every journey that sends one.
//
// # Faces
//
// Service is one core (store, sessions, mailer, clock, configuration)
// under several faces (faces.go): Login (sign-up and sign-in), Recovery,
// MFA (the second-factor step, re-authentication and step-up) and
// Settings (the user's own credentials). web's journey handlers (login,
// sign-up, recovery, the code pages, the second step, enrolment,
// re-authentication, addresses, phones, browsers) drive their journey
// through its face (web/faces.go); the rest of web (keys, federation,
// OIDC, the console, systems) still reaches Service itself, and is next.
// Admin and support operations live in internal/account.
//
// # Files
//
// One file per journey or method: flow.go and core.go (loading, checking
// and consuming flows, codes, arming them), login.go, login_finish.go,
// signup.go, recovery.go, mfa_step.go, mfa_options.go, mfa_kinds.go,
// mfa_*.go (one per method), stepup.go, settings.go (password and
// addresses), settings_factors.go, settings_phones.go,
// settings_browsers.go, keys.go (WebAuthn ceremonies), federate*.go and
// link.go (upstream sign-in and linked identities), notify.go (security
// mail and masks).
package flow
