package flow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/upstream"
)

// Sign-in through an upstream identity provider, and the links between
// upstream identities and accounts.
//
//	StartFederated(provider) ─▶ the provider ─▶ FederatedCallback(state, code, iss)
//	    known identity            ─▶ finishLogin (the account's second step) ─▶ session with Via
//	    new, first_login create   ─▶ a new account, linked ─▶ session with Via
//	    new, first_login link     ─▶ "sign in to your account" ─▶ CompleteLink(who, flow)
//	    new, first_login ask      ─▶ FederatedCreate(flow) or CompleteLink(who, flow)
//	StartFederated(link, who) ─▶ the provider ─▶ FederatedCallback
//	    new                       ─▶ linked to who
//	    linked to another account ─▶ conflict: MoveHere (signed in to the holder, recent) ·
//	                                 SignInHolder (sign in to that one instead) · cancel
//
// A sign-in at an upstream is a flow of kind FlowFederate bound to the
// browser, holding the nonce and PKCE verifier; the state sent to the
// provider is a separate random value whose digest is the flow's
// LinkHash, so it finds the flow and works once. The identity an answer
// proves is kept on the flow while the user chooses (ask, link,
// conflict), never on an account until a choice is made.
//
// Nothing here links by address: an identity is (provider, subject), or
// for a provider that gives a national identity number (ID-porten's pid)
// (provider, keyed hash of the number). Linking to, moving from, or
// unlinking from an existing account needs a session recent at that
// account's full level (requireFresh): whoever holds only the password of
// an account with a second factor links nothing to it.

// FlowFederate is the kind of upstream sign-in flows.
const FlowFederate = "federate"

// Federation purposes.
const (
	PurposeSignIn = "signin"
	PurposeLink   = "link"
)

// What a federated sign-in asks of the user next (Federated.Next).
const (
	NextNone     = ""
	NextAsk      = "ask"
	NextLink     = "link"
	NextConflict = "conflict"
	NextLinked   = "linked"
)

// Upstream is one configured upstream identity provider.
type Upstream struct {
	Config    upstream.Config
	Connector upstream.Connector
}

// Upstreams are the upstream identity providers of a Service, in the
// order of the configuration (the order of the sign-in buttons).
type Upstreams struct {
	List       []Upstream
	Identities store.Identities
	// IDKey keys the lookup hash of national identity numbers (at least
	// 32 bytes), so the database holds no number in the clear.
	IDKey []byte
	// Services are pages and apps that need a sign-in through an upstream
	// at a level (ServiceNeeds).
	Services map[string]upstream.Service
}

// Find returns the provider with the ID.
func (u *Upstreams) Find(id string) (Upstream, bool) {
	if u == nil {
		return Upstream{}, false
	}
	for _, p := range u.List {
		if p.Config.ID == id {
			return p, true
		}
	}
	return Upstream{}, false
}

// fedData is the server-side state of a federation flow.
type fedData struct {
	Provider  string   `json:"provider"`
	Nonce     string   `json:"nonce"`
	Verifier  string   `json:"verifier"`
	ACRValues []string `json:"acr_values,omitempty"`
	Purpose   string   `json:"purpose"`
	// Target is the account a link goes to, and Session its session,
	// when a signed-in user started the link.
	Target   string `json:"target,omitempty"`
	Session  string `json:"session,omitempty"`
	ReturnTo string `json:"return_to,omitempty"`
	// Identity is what the provider proved, kept while the user chooses.
	Identity *fedIdentity `json:"identity,omitempty"`
	// Holder is the account the identity is linked to (a conflict).
	Holder string `json:"holder,omitempty"`
	// Posted is the provider's form_post answer, sealed, kept until the
	// same browser comes back for it (FederatedFormPost).
	Posted []byte `json:"posted,omitempty"`
}

type fedIdentity struct {
	Subject string    `json:"subject"`
	Email   string    `json:"email,omitempty"`
	Name    string    `json:"name,omitempty"`
	Masked  string    `json:"masked,omitempty"`
	Sealed  []byte    `json:"sealed,omitempty"`
	Via     store.Via `json:"via"`
}

// FederateOptions shape StartFederated.
type FederateOptions struct {
	// Purpose is PurposeSignIn (the default) or PurposeLink.
	Purpose string
	// Who is the signed-in user linking an identity (PurposeLink).
	Who *Who
	// ReturnTo is a local path to go back to after the sign-in.
	ReturnTo string
	// ACRValues are asked of the provider instead of the configured ones
	// (an app's acr_values); the answer must then carry one of them.
	ACRValues []string
	// Locales are the user's languages for ui_locales.
	Locales []string
}

// StartFederated starts a sign-in (or a link) at the provider and returns
// the URL to send the browser to. A link needs a session recent at the
// account's full level.
func (s *Service) StartFederated(ctx context.Context, c Client, provider string, o FederateOptions) (string, error) {
	up, ok := s.Upstreams.Find(provider)
	if !ok {
		return "", problem.New(problem.NotFound, "", "federate.unknown_provider", nil)
	}
	d := fedData{Provider: provider, Nonce: secret.Token(), Verifier: secret.Token() + secret.Token(),
		ACRValues: o.ACRValues, Purpose: PurposeSignIn, ReturnTo: o.ReturnTo}
	if o.Purpose == PurposeLink {
		if o.Who == nil {
			return "", problem.New(problem.Unauthorized, "", "session.required", nil)
		}
		if err := s.requireFresh(ctx, *o.Who); err != nil {
			return "", err
		}
		d.Purpose, d.Target, d.Session = PurposeLink, o.Who.Account.ID, o.Who.Session.ID
	}
	state := secret.Token()
	f := s.newFlow(FlowFederate, c, "")
	f.State = "started"
	f.LinkHash = secret.Hash("federate-state\x00" + state)
	f.AccountID = d.Target
	f.Data = encodeJSON(d)
	u, err := up.Connector.AuthURL(ctx, upstream.Request{State: state, Nonce: d.Nonce, Verifier: d.Verifier, ACRValues: o.ACRValues, Locales: o.Locales})
	if err != nil {
		s.log().Error("upstream unavailable", "provider", provider, "err", err)
		return "", problem.New(problem.Forbidden, "", "federate.unavailable", problem.Args{"provider": up.Config.ButtonLabel(c.Lang)})
	}
	if err := s.Store.CreateFlow(ctx, f); err != nil {
		return "", err
	}
	return u, nil
}

// Federated is the outcome of a federated sign-in or link.
type Federated struct {
	// Result is a session (Token), or a second step (Pending), when the
	// sign-in is done; ReturnTo is where it goes back to.
	Result
	// Flow and Next are set when the user must choose (ask, link,
	// conflict); Next is NextLinked when an identity was linked to the
	// signed-in user.
	Flow string
	Next string
	// Provider is the provider's ID and Label its name on buttons.
	Provider string
	Label    string
	// Shown is the identity as the user may see it: the masked national
	// ID, or the upstream address, or its name.
	Shown string
	// MaskedID is the masked national ID, if any.
	MaskedID string
	// Holder names the account holding the identity, masked (a conflict).
	Holder string
}

var errFederateState = problem.New(problem.Forbidden, "", "federate.state", nil)

// FederatedCallback completes the sign-in the provider answered. The
// state must name a flow this browser started, for this provider, not yet
// answered; then the connector checks the rest (iss, code, PKCE, nonce,
// the ID token). A refused answer stores nothing.
func (s *Service) FederatedCallback(ctx context.Context, c Client, provider string, resp upstream.Response) (Federated, error) {
	up, ok := s.Upstreams.Find(provider)
	if !ok {
		return Federated{}, problem.New(problem.NotFound, "", "federate.unknown_provider", nil)
	}
	label := up.Config.ButtonLabel(c.Lang)
	if resp.State == "" {
		return Federated{}, errFederateState
	}
	found, err := s.Store.GetFlowByLinkHash(ctx, secret.Hash("federate-state\x00"+resp.State))
	if errors.Is(err, store.ErrNotFound) {
		return Federated{}, errFederateState
	}
	if err != nil {
		return Federated{}, err
	}
	// The state works once, in the browser that started the sign-in, for
	// the provider it was sent to.
	var d fedData
	f, err := s.Store.UpdateFlow(ctx, found.ID, func(f store.Flow) (store.Flow, error) {
		d = fedData{}
		decodeJSON(f.Data, &d)
		if f.Kind != FlowFederate || f.State != "started" || d.Provider != provider {
			return f, errFederateState
		}
		if err := s.checkFlow(f, c); err != nil {
			return f, err
		}
		f.State, f.LinkHash = "answered", nil
		return f, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return Federated{}, errFederateState
	}
	if err != nil {
		return Federated{}, err
	}
	done := func() { s.Store.DeleteFlow(ctx, f.ID) }
	id, err := up.Connector.Exchange(ctx, upstream.Request{Nonce: d.Nonce, Verifier: d.Verifier}, resp)
	switch {
	case errors.Is(err, upstream.ErrCancelled):
		done()
		return Federated{}, problem.New(problem.Forbidden, "", "federate.cancelled", problem.Args{"provider": label})
	case errors.Is(err, upstream.ErrRefused):
		done()
		s.log().Warn("upstream answer refused", "provider", provider, "err", err)
		return Federated{}, problem.New(problem.Forbidden, "", "federate.refused", problem.Args{"provider": label})
	case err != nil:
		done()
		s.log().Error("upstream unavailable", "provider", provider, "err", err)
		return Federated{}, problem.New(problem.Forbidden, "", "federate.unavailable", problem.Args{"provider": label})
	}
	if !acrAccepted(up.Config, d.ACRValues, id.ACR) {
		done()
		s.log().Info("upstream sign-in below the required level", "provider", provider, "acr", id.ACR, "amr", strings.Join(id.AMR, " "))
		return Federated{}, problem.New(problem.Forbidden, "", "federate.acr_refused", problem.Args{
			"provider": label, "method": methodName(id), "reason": up.Config.ACRRefusal[c.Lang]})
	}
	fi := s.fedIdentity(up, id)
	out := Federated{Provider: provider, Label: label, Shown: shown(fi), MaskedID: fi.Masked}
	linked, err := s.Upstreams.Identities.GetIdentity(ctx, provider, fi.Subject)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Federated{}, err
	}
	known := err == nil

	if d.Purpose == PurposeLink {
		switch {
		case known && linked.AccountID == d.Target:
			done()
			out.Next = NextLinked
			return out, nil
		case known:
			return s.parkFederated(ctx, f, d, fi, linked.AccountID, NextConflict, out)
		}
		target, err := s.Store.GetAccount(ctx, d.Target)
		if err != nil {
			return Federated{}, err
		}
		done()
		// The link goes to the session that asked for it, if it still is.
		if sess, err := s.Store.GetSession(ctx, d.Session); errors.Is(err, store.ErrNotFound) || (err == nil && sess.AccountID != target.ID) {
			return Federated{}, problem.New(problem.Unauthorized, "", "session.required", nil)
		} else if err != nil {
			return Federated{}, err
		}
		if err := s.linkIdentity(ctx, c, Who{Account: target, Session: store.Session{ID: d.Session}}, provider, fi, label); err != nil {
			return Federated{}, err
		}
		out.Next = NextLinked
		out.ReturnTo = d.ReturnTo
		return out, nil
	}

	if known {
		done()
		acct, err := s.Store.GetAccount(ctx, linked.AccountID)
		if err != nil {
			return Federated{}, err
		}
		if err := s.Upstreams.Identities.TouchIdentity(ctx, provider, fi.Subject, s.now()); err != nil {
			return Federated{}, err
		}
		res, err := s.federatedSession(ctx, c, acct, fi.Via)
		res.ReturnTo = d.ReturnTo
		out.Result = res
		return out, err
	}
	switch up.Config.FirstLoginMode() {
	case upstream.FirstCreate:
		done()
		res, err := s.createFederated(ctx, c, provider, fi)
		res.ReturnTo = d.ReturnTo
		out.Result = res
		return out, err
	case upstream.FirstLink:
		return s.parkFederated(ctx, f, d, fi, "", NextLink, out)
	default:
		return s.parkFederated(ctx, f, d, fi, "", NextAsk, out)
	}
}

// acrAccepted reports whether an answer's acr will do: it must be one
// the provider's accept_acr lists (when it lists any) and, when the
// sign-in asked for acr_values (an app's), one of those too. Asking for
// less never loosens accept_acr.
func acrAccepted(cfg upstream.Config, asked []string, acr string) bool {
	if len(cfg.AcceptACR) > 0 && !slices.Contains(cfg.AcceptACR, acr) {
		return false
	}
	return len(asked) == 0 || slices.Contains(asked, acr)
}

// methodName names what the user signed in with at the provider (MinID,
// BankID), or the provider's acr when it names no method.
func methodName(id upstream.Identity) string {
	if len(id.AMR) > 0 {
		return strings.Join(id.AMR, ", ")
	}
	return id.ACR
}

// fedIdentity turns what the provider proved into what is stored: the
// national ID hashed with the key for lookup, sealed, and masked.
func (s *Service) fedIdentity(up Upstream, id upstream.Identity) fedIdentity {
	fi := fedIdentity{Subject: id.Subject, Email: id.Email, Name: id.Name,
		Via: store.Via{Upstream: up.Config.ID, ACR: id.ACR, AMR: id.AMR}}
	if !id.EmailVerified {
		fi.Email = ""
	}
	// The ID token is kept, sealed, only where the upstream can be signed
	// out of (RP-initiated logout), as its id_token_hint.
	if _, ok := up.Connector.(upstream.Logouter); ok && id.IDToken != "" && s.Sealer != nil {
		fi.Via.IDTokenSealed = s.Sealer.Seal([]byte(id.IDToken), []byte("upstream-id-token:"+up.Config.ID))
	}
	if id.NationalID != "" {
		m := hmac.New(sha256.New, s.Upstreams.IDKey)
		m.Write([]byte("national-id\x00" + up.Config.ID + "\x00" + id.NationalID))
		fi.Subject = "nid:" + hex.EncodeToString(m.Sum(nil))
		fi.Masked = upstream.MaskNationalID(id.NationalID)
		if s.Sealer != nil {
			fi.Sealed = s.Sealer.Seal([]byte(id.NationalID), []byte("national-id:"+up.Config.ID+":"+fi.Subject))
		}
	}
	return fi
}

func shown(fi fedIdentity) string {
	switch {
	case fi.Masked != "":
		return fi.Masked
	case fi.Email != "":
		return fi.Email
	}
	return fi.Name
}

// parkFederated keeps the identity on the flow while the user chooses.
func (s *Service) parkFederated(ctx context.Context, f store.Flow, d fedData, fi fedIdentity, holder, next string, out Federated) (Federated, error) {
	d.Identity, d.Holder = &fi, holder
	_, err := s.Store.UpdateFlow(ctx, f.ID, func(f store.Flow) (store.Flow, error) {
		f.State, f.Data = next, encodeJSON(d)
		return f, nil
	})
	if err != nil {
		return Federated{}, err
	}
	out.Flow, out.Next = f.ID, next
	if holder != "" {
		out.Holder, err = s.maskedAccount(ctx, holder)
	}
	return out, err
}

// maskedAccount names an account without giving it away: its main
// address masked ("ha…n@g…l.com"), or its username masked.
func (s *Service) maskedAccount(ctx context.Context, accountID string) (string, error) {
	addr, err := s.primaryEmail(ctx, accountID)
	if err == nil {
		return MaskEmail(addr), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	acct, err := s.Store.GetAccount(ctx, accountID)
	if err != nil {
		return "", err
	}
	if acct.Username != "" {
		return maskPart(acct.Username), nil
	}
	return maskPart(acct.Name), nil
}

// federatedSession signs in to acct through an upstream: the account's
// second step still applies (finishLogin), and the session records via.
func (s *Service) federatedSession(ctx context.Context, c Client, acct store.Account, via store.Via) (Result, error) {
	if acct.Disabled {
		return Result{}, problem.New(problem.Forbidden, "", "login.disabled", nil)
	}
	return s.finishLoginVia(ctx, c, acct, []authn.Method{authn.Upstream}, via)
}

// createFederated makes a new account for an identity and signs in. The
// upstream's address is added only when the provider verified it and no
// account has it: an address someone else registered is never a reason
// to join accounts (SECURITY.md §5.7, classic-federated merge).
func (s *Service) createFederated(ctx context.Context, c Client, provider string, fi fedIdentity) (Result, error) {
	now := s.now()
	acct := store.Account{ID: secret.ID(), Name: fi.Name, Locale: c.Lang, CreatedAt: now, UpdatedAt: now}
	var emails []store.Email
	if fi.Email != "" {
		emails = []store.Email{{Address: fi.Email, AccountID: acct.ID, Primary: true, VerifiedAt: now, CreatedAt: now}}
	}
	err := s.Store.Register(ctx, acct, emails, nil)
	if errors.Is(err, store.ErrConflict) && emails != nil {
		err = s.Store.Register(ctx, acct, nil, nil)
	}
	if err != nil {
		return Result{}, err
	}
	if err := s.Upstreams.Identities.CreateIdentity(ctx, s.identityRecord(provider, acct.ID, fi)); err != nil {
		s.Store.DeleteAccount(ctx, acct.ID)
		if errors.Is(err, store.ErrConflict) {
			// The same person finished a second sign-up at the same time.
			return Result{}, errFederateState
		}
		return Result{}, err
	}
	s.log().Info("account created through upstream", "account", acct.ID, "provider", provider)
	s.recordCreated(ctx, acct, audit.Actor{}, "federated:"+provider)
	return s.federatedSession(ctx, c, acct, fi.Via)
}
