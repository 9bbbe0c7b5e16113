package webauthn

import (
	"errors"
	"math"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/portvakt/portvakt/internal/problem"
)

// The problems a ceremony ends with when the user (or an attacker) did
// something the server refuses. Each has field "" (the ceremony as a
// whole). The message keys are literal here, so that the i18n test finds
// them.

// errOrigin: the response was made on a site that is not one of
// Config.Origins (phishing, or a misconfigured origin).
func (s *Service) errOrigin() *problem.Problem {
	return problem.New(problem.Forbidden, "", "webauthn.origin", problem.Args{"rp_id": s.cfg.RPID})
}

// errRPID: the authenticator signed for another relying party ID.
func (s *Service) errRPID() *problem.Problem {
	return problem.New(problem.Forbidden, "", "webauthn.rp_id", problem.Args{"rp_id": s.cfg.RPID})
}

// errChallenge: the response does not answer this session's challenge,
// the session was finished already (a replay), or the session belongs to
// another ceremony or account.
func errChallenge() *problem.Problem {
	return problem.New(problem.Forbidden, "", "webauthn.challenge", nil)
}

// errNotRegistered: the credential is unknown, belongs to another
// account, or may not be used this way (a second-factor key in a
// passwordless login).
func errNotRegistered() *problem.Problem {
	return problem.New(problem.Forbidden, "", "webauthn.not_registered", nil)
}

// errAlreadyRegistered: the authenticator offered a credential the
// account has registered already.
func errAlreadyRegistered() *problem.Problem {
	return problem.New(problem.Conflict, "", "webauthn.already_registered", nil)
}

// errUserVerification: the ceremony required user verification (a PIN or
// biometric on the authenticator) and the authenticator did not do it.
func errUserVerification() *problem.Problem {
	return problem.New(problem.Forbidden, "", "webauthn.user_verification", nil)
}

// errFailed: anything else about the response: cancelled, malformed, a
// bad signature, an unsupported key type.
func errFailed() *problem.Problem {
	return problem.New(problem.Invalid, "", "webauthn.failed", nil)
}

// errExpired: the session is older than Config.Timeout; minutes is the
// timeout, rounded up.
func (s *Service) errExpired() *problem.Problem {
	minutes := int(math.Ceil(s.cfg.Timeout.Minutes()))
	return problem.New(problem.Expired, "", "webauthn.expired", problem.Args{"minutes": minutes})
}

// refusal translates an error of go-webauthn's verification into one of
// the problems above. The service checks challenge, origin, RP ID, user
// verification and credential ownership itself before it calls the
// library, so these are rarely reached; they are the second line, for a
// check the library makes in a place the service's own checks do not
// cover. The library's errors are *protocol.Error values that differ only
// in Type, Details and DevInfo strings, so that is what is matched; an
// unknown string falls through to webauthn.failed, never to success.
func (s *Service) refusal(err error) *problem.Problem {
	if _, ok := errors.AsType[*protocol.ErrorUnknownCredential](err); ok {
		return errNotRegistered()
	}
	e, ok := errors.AsType[*protocol.Error](err)
	if !ok {
		return errFailed()
	}
	switch e.Type {
	case protocol.ErrVerification.Type:
		switch {
		case e.Details == "Error validating challenge":
			return errChallenge()
		case e.Details == "Error validating origin",
			e.Details == "Error validating cross origin flag",
			e.Details == "Error validating topOrigin",
			e.Details == "Error validating top origin":
			return s.errOrigin()
		case strings.HasPrefix(e.DevInfo, "RP Hash mismatch"):
			return s.errRPID()
		case strings.HasPrefix(e.DevInfo, "User verification required"):
			return errUserVerification()
		}
	case protocol.ErrBadRequest.Type:
		switch {
		case e.Details == "Session has Expired":
			return s.errExpired()
		case e.Details == "ID mismatch for User and Session":
			return errChallenge()
		case strings.Contains(e.Details, "credential ID provided is not"),
			strings.Contains(e.Details, "does not own all credentials"),
			strings.Contains(e.Details, "Unable to find the credential"),
			strings.Contains(e.Details, "User handle and User ID do not match"),
			strings.Contains(e.Details, "Failed to lookup Client-side Discoverable Credential"),
			strings.Contains(e.Details, "blank User Handle"),
			strings.Contains(e.Details, "Found no credentials for user"):
			return errNotRegistered()
		}
	}
	return errFailed()
}
