// Package totp enrolls and checks time-based one-time passwords (RFC 6238)
// from authenticator apps: SHA-1, 6 digits, 30-second steps, one step of
// skew either side. It builds on github.com/pquerna/otp for key URIs, QR
// codes and the HOTP computation, and adds what that library leaves to its
// caller: knowing which time step matched, refusing a used step again, and
// reading codes the way people type them.
//
// The package has no storage and no HTTP; the flow package stores the
// secret (sealed with secret.Sealer, SECURITY.md §5.11) and the last used
// step, and turns the errors into Problems.
//
// # Enrollment
//
//	key, err := totp.Generate(cfg.ServiceName, acct.Email)
//	qr, err := key.QRDataURI()      // <img src=…>; the page is no-store
//	groups := key.SecretGroups()    // "ABCD EFGH …" for typing
//	… keep key.Secret sealed in the pending enrollment …
//	step, err := totp.Verify(key.Secret, typed, now(), 0)
//	… on success store the sealed secret and last_step = step together
//
// Storing the step from the confirmation means the code used to confirm
// cannot be used again to log in (Hanko #2723, SECURITY.md §5.3).
//
// # Login
//
//	step, err := totp.Verify(secret, typed, now(), factor.LastStep)
//	… on success, in the same transaction:
//	  UPDATE … SET last_step = $step WHERE id = $id AND last_step < $step
//	  and treat "no row updated" as ErrReplayed (a concurrent login won)
//
// Errors map to the user as follows: ErrFormat ("enter the 6 digits your
// app shows"; need not spend an attempt), ErrWrongCode (a failed attempt
// for the rate limiter), ErrReplayed (a failed attempt; "wait for the next
// code"). Anything else is an operator error about the stored secret.
//
// # The window and replay
//
// Verify accepts the codes of steps now−1, now and now+1, i.e. a code
// stays usable for 60–90 seconds, to allow for clock drift and typing time.
// RFC 6238 §5.2 and NIST SP 800-63B §3.1.4 require that an accepted code is
// never accepted again; Verify does that by refusing every step at or
// before lastStep, so after the code for step s is accepted, neither it nor
// the still-valid code for s−1 works. A user who logs in twice within one
// step has to wait for the next code.
//
// # Testing
//
// The tests check the RFC 6238 Appendix B SHA-1 vectors (8 digits, through
// the same code path), agreement with Debian's oathtool on random secrets
// and times, the window edges, replay, and input normalization. They need
// /usr/bin/oathtool (package oathtool); `make test` installs it.
package totp
