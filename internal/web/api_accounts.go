package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// The JSON twins of the account pages. A flow started through the API is
// bound to a flow token returned when it starts (instead of a browser
// cookie); every later call of that flow sends it back with the flow ID.
// A finished sign-in sets the session cookie, exactly as for a browser:
// the session token never appears in a response body.

// FlowJSON is a started or advanced flow.
type FlowJSON struct {
	FlowID    string    `json:"flow_id"`
	FlowToken string    `json:"flow_token,omitempty"`
	Email     string    `json:"email,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitempty"`
	// Next names the next call: "code", "details", "password", "done",
	// or "check_mail".
	Next string `json:"next"`
}

// flowRef identifies an API flow.
type flowRef struct {
	FlowID    string `json:"flow_id"`
	FlowToken string `json:"flow_token"`
}

func (s *Server) apiClient(r *http.Request, flowToken string) flow.Client {
	return flow.Client{Browser: secret.Hash("api:" + flowToken), IP: clientIP(r), UserAgent: r.UserAgent(), Lang: stateOf(r).Lang.Tag()}
}

func newFlowToken() string { return secret.Token() }

// apiSignedIn answers a finished sign-in: the cookie, and the session.
// When a second factor is needed it answers the flow instead (next:
// "factor"), which continues under the same flow token.
func (s *Server) apiSignedIn(w http.ResponseWriter, r *http.Request, res flow.Result, flowToken string) error {
	if res.Pending != "" {
		return writeJSON(w, http.StatusOK, FlowJSON{FlowID: res.Pending, FlowToken: flowToken, Next: "factor"})
	}
	if res.CredentialsChanged {
		if err := s.credentialsChanged(r, res.Account.ID); err != nil {
			return err
		}
	}
	if err := s.signIn(w, r, res); err != nil {
		return err
	}
	if res.TrustToken != "" {
		http.SetCookie(w, &http.Cookie{
			Name: s.trustCookieName(), Value: res.TrustToken, Path: "/", MaxAge: s.Flows.MFA.RememberDays * 24 * 3600,
			HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode,
		})
	}
	sess := res.Session
	return writeJSON(w, http.StatusOK, SessionJSON{ID: sess.ID, AccountID: sess.AccountID, AuthTime: sess.AuthTime.UTC(), ExpiresAt: sess.ExpiresAt.UTC(), AMR: sess.AMR, Level: sess.Level})
}

func (s *Server) apiSignup(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	f, err := s.Flows.StartSignup(r.Context(), s.apiClient(r, tok), in.Email)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, FlowJSON{FlowID: f.ID, FlowToken: tok, Email: f.Email, ExpiresAt: f.ExpiresAt.UTC(), Next: "code"})
}

// apiCode is the JSON twin of a code step: {flow_id, flow_token, code}.
func (s *Server) apiCode(verify func(ctx context.Context, c flow.Client, id, code string) (store.Flow, error), next string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			flowRef
			Code string `json:"code"`
		}
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		f, err := verify(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Code)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, FlowJSON{FlowID: f.ID, Email: f.Email, Next: next})
	}
}

// apiResend is the JSON twin of "send a new code": {flow_id, flow_token}.
func (s *Server) apiResend(again func(ctx context.Context, c flow.Client, id string) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in flowRef
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		if err := again(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID); err != nil {
			return err
		}
		return writeJSON(w, http.StatusAccepted, FlowJSON{FlowID: in.FlowID, Next: "code"})
	}
}

func (s *Server) apiSignupComplete(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.Flows.CompleteSignup(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Name, in.Password)
	if err != nil {
		return err
	}
	return s.apiSignedIn(w, r, res, in.FlowToken)
}

// apiLogin is the email step of email-first sign-in.
func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) error {
	if !s.LoginMethods.Email {
		return errNotFound
	}
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	f, err := s.Flows.StartLogin(r.Context(), s.apiClient(r, tok), in.Email, false)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, FlowJSON{FlowID: f.ID, FlowToken: tok, Email: f.Email, ExpiresAt: f.ExpiresAt.UTC(), Next: "password"})
}

func (s *Server) apiLoginPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.Flows.LoginPassword(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Password)
	if err != nil {
		return err
	}
	return s.apiSignedIn(w, r, res, in.FlowToken)
}

func (s *Server) apiLoginUsername(w http.ResponseWriter, r *http.Request) error {
	if !s.LoginMethods.Username {
		return errNotFound
	}
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	res, err := s.Flows.LoginUsername(r.Context(), s.apiClient(r, tok), in.Username, in.Password)
	if err != nil {
		return err
	}
	return s.apiSignedIn(w, r, res, tok)
}

func (s *Server) apiRecovery(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email  string `json:"email"`
		Method string `json:"method"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	f, err := s.Flows.StartRecovery(r.Context(), s.apiClient(r, tok), in.Email, in.Method)
	if err != nil {
		return err
	}
	next := "code"
	if in.Method != flow.MethodCode {
		next = "check_mail"
	}
	return writeJSON(w, http.StatusCreated, FlowJSON{FlowID: f.ID, FlowToken: tok, Email: f.Email, ExpiresAt: f.ExpiresAt.UTC(), Next: next})
}

// apiRecoveryLink uses an emailed link's token, with the flow token of the
// client that asked for it (a link works only where it was asked for). A
// reset link continues the flow; a magic link signs in.
func (s *Server) apiRecoveryLink(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token     string `json:"token"`
		FlowToken string `json:"flow_token"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	f, res, err := s.Flows.UseLink(r.Context(), s.apiClient(r, in.FlowToken), in.Token)
	if err != nil {
		return err
	}
	return s.apiAfterLink(w, r, f, res, in.FlowToken)
}

func (s *Server) apiAfterLink(w http.ResponseWriter, r *http.Request, f store.Flow, res *flow.Result, tok string) error {
	if res != nil {
		return s.apiSignedIn(w, r, *res, tok)
	}
	return writeJSON(w, http.StatusOK, FlowJSON{FlowID: f.ID, FlowToken: tok, Email: f.Email, ExpiresAt: f.ExpiresAt.UTC(), Next: "password"})
}

// apiRecoveryLinkElsewhere is the link opened by a client other than the
// one that asked: it answers a code to type there (flow.LinkCode).
func (s *Server) apiRecoveryLinkElsewhere(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token string `json:"token"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	code, minutes, err := s.Flows.LinkCode(r.Context(), s.apiClient(r, ""), in.Token)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"code": code, "minutes": minutes})
}

// apiRecoveryLinkCode takes, in the client that asked, the code another
// client got for the link.
func (s *Server) apiRecoveryLinkCode(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Code string `json:"code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	f, res, err := s.Flows.VerifyLinkCode(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Code)
	if err != nil {
		return err
	}
	return s.apiAfterLink(w, r, f, res, in.FlowToken)
}

func (s *Server) apiRecoveryPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.Flows.CompleteRecovery(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Password)
	if err != nil {
		return err
	}
	// Nothing changed while a second step is pending; apiSignedIn revokes
	// the app tokens once the password is stored (CredentialsChanged).
	return s.apiSignedIn(w, r, res, in.FlowToken)
}

func (s *Server) apiRecoveryCancel(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		FlowID string `json:"flow_id"`
		Token  string `json:"token"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.Flows.CancelRecovery(r.Context(), in.FlowID, in.Token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// PasswordCheckJSON answers the live password check.
type PasswordCheckJSON struct {
	OK      bool          `json:"ok"`
	Message string        `json:"message,omitempty"`
	Errors  []ProblemItem `json:"errors"`
}

// apiPasswordCheck tells which rules a password breaks, for the page's
// live check as the user types. The answer is advice: the same check runs
// again when the form is submitted. The minimum length is the one for the
// account whose password is being chosen: the one a verified recovery
// flow of this browser (or of flow_token) resets, else the signed-in one;
// a new account has no second factor.
func (s *Server) apiPasswordCheck(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Password  string `json:"password"`
		Email     string `json:"email"`
		Name      string `json:"name"`
		Flow      string `json:"flow"`
		FlowToken string `json:"flow_token"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	lang := stateOf(r).Lang
	ctx := s.Flows.PolicyContext(r.Context(), in.Email, in.Name)
	var accountID string
	if in.Flow != "" {
		c := s.apiClient(r, in.FlowToken)
		if in.FlowToken == "" {
			c = s.client(w, r)
		}
		id, err := s.Flows.RecoveringAccount(r.Context(), c, in.Flow)
		if err != nil {
			return err
		}
		accountID = id
	}
	if acct := stateOf(r).Account; acct != nil {
		ctx.Username, ctx.Name = acct.Username, acct.Name
		if accountID == "" {
			accountID = acct.ID
		}
	}
	hasMFA, err := s.Flows.PasswordHasMFA(r.Context(), accountID)
	if err != nil {
		return err
	}
	ctx.HasMFA = hasMFA
	out := PasswordCheckJSON{OK: true, Errors: []ProblemItem{}}
	if err := s.Flows.Policy.Check(in.Password, ctx); err != nil {
		p := asProblem(err)
		if p == nil {
			return err
		}
		out.OK = false
		for _, d := range p.Details {
			out.Errors = append(out.Errors, ProblemItem{Field: d.Field, Key: d.Key, Message: lang.T(d.Key, d.Args)})
		}
	} else {
		out.Message = lang.T("password.ok")
	}
	return writeJSON(w, http.StatusOK, out)
}

// AccountJSON is the signed-in account.
type AccountJSON struct {
	ID       string      `json:"id"`
	Username string      `json:"username,omitempty"`
	Name     string      `json:"name"`
	Locale   string      `json:"locale,omitempty"`
	Emails   []EmailJSON `json:"emails"`
}

// EmailJSON is one address.
type EmailJSON struct {
	Address string `json:"address"`
	Primary bool   `json:"primary"`
}

func (s *Server) apiWho(r *http.Request) (flow.Who, error) {
	st := stateOf(r)
	if st.Session == nil {
		return flow.Who{}, errUnauthorized(st)
	}
	return flow.Who{Account: *st.Account, Session: *st.Session}, nil
}

func (s *Server) apiAccount(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	return s.writeAccount(w, r, http.StatusOK, who.Account)
}

func (s *Server) writeAccount(w http.ResponseWriter, r *http.Request, status int, a store.Account) error {
	emails, err := s.Flows.Emails(r.Context(), a.ID)
	if err != nil {
		return err
	}
	out := AccountJSON{ID: a.ID, Username: a.Username, Name: a.Name, Locale: a.Locale, Emails: []EmailJSON{}}
	for _, e := range emails {
		out.Emails = append(out.Emails, EmailJSON{Address: e.Address, Primary: e.Primary})
	}
	return writeJSON(w, status, out)
}

func (s *Server) apiChangePassword(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Current  string `json:"current_password"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	token, err := s.Flows.ChangePassword(r.Context(), s.apiClient(r, ""), who, in.Current, in.Password)
	if err != nil {
		return err
	}
	if err := s.credentialsChanged(r, who.Account.ID); err != nil {
		return err
	}
	s.setSessionCookie(w, token)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiAddEmail(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Email   string `json:"email"`
		Current string `json:"current_password"`
		Primary bool   `json:"primary"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	f, err := s.Flows.StartAddEmail(r.Context(), s.apiClient(r, tok), who, in.Email, in.Current, in.Primary)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, FlowJSON{FlowID: f.ID, FlowToken: tok, Email: f.Email, ExpiresAt: f.ExpiresAt.UTC(), Next: "code"})
}

func (s *Server) apiVerifyEmail(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		flowRef
		Code string `json:"code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, err := s.Flows.VerifyAddEmail(r.Context(), s.apiClient(r, in.FlowToken), who, in.FlowID, in.Code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, EmailJSON{Address: e.Address, Primary: e.Primary})
}

func (s *Server) apiSetPrimaryEmail(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.Flows.SetPrimaryEmail(r.Context(), s.apiClient(r, ""), who, in.Email); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiRemoveEmail(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Email   string `json:"email"`
		Current string `json:"current_password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.Flows.RemoveEmail(r.Context(), s.apiClient(r, ""), who, in.Email, in.Current); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiAdminCreateAccount lets an operator's system create accounts:
//
//	POST /api/admin/v1/accounts
//	Authorization: Bearer <admin token>
//	{"username": "12345", "name": "…", "email": "…", "password": "…"}
//
// Without a password, the account holder is mailed a link to choose one.
func (s *Server) apiAdminCreateAccount(w http.ResponseWriter, r *http.Request) error {
	if !s.adminAuthorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portvakt-admin"`)
		return problem.New(problem.Unauthorized, "", "admin.unauthorized", nil)
	}
	var in struct {
		Username string `json:"username"`
		Name     string `json:"name"`
		Email    string `json:"email"`
		Password string `json:"password"`
		// PasswordHash imports a bcrypt or argon2 PHC hash instead.
		PasswordHash string   `json:"password_hash"`
		Phone        string   `json:"phone"`
		Groups       []string `json:"groups"`
		MFARequired  bool     `json:"mfa_required"`
		Language     string   `json:"language"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	// Without a language the account has no preference (the person's
	// browser and the service's default decide), and the invitation is in
	// the service's default language, not the admin client's.
	a, err := s.Flows.CreateAccount(r.Context(), flow.NewAccount{Username: in.Username, Name: in.Name, Email: in.Email, Password: in.Password, PasswordHash: in.PasswordHash, Phone: in.Phone, Groups: in.Groups, MFARequired: in.MFARequired,
		Lang: s.Catalog.Supported(in.Language), InviteLang: s.Catalog.Supported(s.DefaultLanguage)})
	if err != nil {
		return err
	}
	return s.writeAccount(w, r, http.StatusCreated, a)
}

// adminAuthorized checks the bearer token against the configured SHA-256
// digest, in constant time. With no digest configured, the admin API is
// closed.
func (s *Server) adminAuthorized(r *http.Request) bool {
	if s.AdminTokenSHA256 == "" {
		return false
	}
	want, err := hex.DecodeString(s.AdminTokenSHA256)
	if err != nil {
		return false
	}
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		return false
	}
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}

// ClientJSON is an app as the admin API shows it.
type ClientJSON struct {
	ID           string   `json:"client_id"`
	Secret       string   `json:"client_secret,omitempty"`
	Name         string   `json:"name"`
	Public       bool     `json:"public"`
	ThirdParty   bool     `json:"third_party"`
	RedirectURIs []string `json:"redirect_uris"`
	GrantTypes   []string `json:"grant_types"`
	// AccessTokenFormat is the format the client's access tokens take,
	// "opaque" or "jwt", the default resolved (op.AccessTokenFormatOf).
	AccessTokenFormat string `json:"access_token_format"`
	Configured        bool   `json:"configured,omitempty"`
}

func (s *Server) adminOP(w http.ResponseWriter, r *http.Request) error {
	if !s.adminAuthorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portvakt-admin"`)
		return problem.New(problem.Unauthorized, "", "admin.unauthorized", nil)
	}
	if s.OP == nil {
		return errNotFound
	}
	return nil
}

// apiAdminCreateClient registers an app: POST /api/admin/v1/clients. The
// secret is in this answer only.
func (s *Server) apiAdminCreateClient(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminOP(w, r); err != nil {
		return err
	}
	var in struct {
		ID                     string   `json:"client_id"`
		Name                   string   `json:"name"`
		Public                 bool     `json:"public"`
		ThirdParty             bool     `json:"third_party"`
		RedirectURIs           []string `json:"redirect_uris"`
		PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
		GrantTypes             []string `json:"grant_types"`
		Scopes                 []string `json:"scopes"`
		SigningAlg             string   `json:"signing_alg"`
		AccessTokenFormat      string   `json:"access_token_format"`
		BackChannelLogoutURI   string   `json:"backchannel_logout_uri"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, secret, err := s.OP.CreateClient(r.Context(), op.ClientConfig{ID: in.ID, Name: in.Name, Public: in.Public, ThirdParty: in.ThirdParty,
		RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs, GrantTypes: in.GrantTypes, Scopes: in.Scopes,
		SigningAlg: in.SigningAlg, AccessTokenFormat: in.AccessTokenFormat, BackChannelLogoutURI: in.BackChannelLogoutURI})
	if errors.Is(err, store.ErrConflict) {
		return problem.New(problem.Conflict, "client_id", "admin.client_taken", problem.Args{"id": in.ID})
	}
	if err != nil {
		return problem.New(problem.Invalid, "", "admin.client_invalid", problem.Args{"error": err.Error()})
	}
	return writeJSON(w, http.StatusCreated, ClientJSON{ID: c.ID, Secret: secret, Name: c.Name, Public: c.Public, ThirdParty: c.ThirdParty, RedirectURIs: c.RedirectURIs, GrantTypes: c.GrantTypes,
		AccessTokenFormat: op.AccessTokenFormatOf(c)})
}

func (s *Server) apiAdminListClients(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminOP(w, r); err != nil {
		return err
	}
	list, err := s.OP.ListClients(r.Context())
	if err != nil {
		return err
	}
	out := []ClientJSON{}
	for _, c := range list {
		out = append(out, ClientJSON{ID: c.ID, Name: c.Name, Public: c.Public, ThirdParty: c.ThirdParty, RedirectURIs: c.RedirectURIs, GrantTypes: c.GrantTypes,
			AccessTokenFormat: op.AccessTokenFormatOf(c.Client), Configured: c.Configured})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiAdminDeleteClient(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminOP(w, r); err != nil {
		return err
	}
	if err := s.OP.DeleteClient(r.Context(), r.PathValue("id")); errors.Is(err, store.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return problem.New(problem.Conflict, "", "admin.client_invalid", problem.Args{"error": err.Error()})
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
