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
// finishLogin is the one place a journey turns into a session. Second
// factors attach there, so no path (password, recovery, magic link) can
// skip them.
package flow
