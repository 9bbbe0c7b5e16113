package flow

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/upstream"
)

// The form_post response mode (response_mode=form_post): the provider's
// page POSTs the answer to the callback from its own site, so the
// browser sends no SameSite=Lax cookie with it and the flow cannot check
// the browser there. FederatedFormPost keeps the answer, sealed, with the
// sign-in its state names (once, only while that sign-in waits for it);
// the web layer then sends the browser on with a GET (a top-level
// navigation, which carries Lax cookies) to FederatedPosted, whose answer
// goes to FederatedCallback like a query-mode one: the state is checked
// there again, with the browser binding. The code never appears in a URL.

// FederatedFormPost keeps a form_post answer for the sign-in its state
// names. errFederateState when the state names none that waits for
// provider, or it already has an answer.
func (s *Service) FederatedFormPost(ctx context.Context, provider string, resp upstream.Response) error {
	if _, ok := s.Upstreams.Find(provider); !ok || resp.State == "" {
		return errFederateState
	}
	found, err := s.Store.GetFlowByLinkHash(ctx, secret.Hash("federate-state\x00"+resp.State))
	if errors.Is(err, store.ErrNotFound) {
		return errFederateState
	}
	if err != nil {
		return err
	}
	plain, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	_, err = s.Store.UpdateFlow(ctx, found.ID, func(f store.Flow) (store.Flow, error) {
		var d fedData
		decodeJSON(f.Data, &d)
		if f.Kind != FlowFederate || f.State != "started" || d.Provider != provider || d.Posted != nil || !s.now().Before(f.ExpiresAt) {
			return f, errFederateState
		}
		d.Posted = s.Sealer.Seal(plain, []byte("federate-posted:"+f.ID))
		f.Data = encodeJSON(d)
		return f, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errFederateState
	}
	return err
}

// FederatedPosted takes back the answer FederatedFormPost kept for the
// sign-in state names (once). The caller passes it to FederatedCallback,
// which checks that this browser started that sign-in.
func (s *Service) FederatedPosted(ctx context.Context, provider, state string) (upstream.Response, error) {
	if state == "" {
		return upstream.Response{}, errFederateState
	}
	found, err := s.Store.GetFlowByLinkHash(ctx, secret.Hash("federate-state\x00"+state))
	if errors.Is(err, store.ErrNotFound) {
		return upstream.Response{}, errFederateState
	}
	if err != nil {
		return upstream.Response{}, err
	}
	var resp upstream.Response
	_, err = s.Store.UpdateFlow(ctx, found.ID, func(f store.Flow) (store.Flow, error) {
		var d fedData
		decodeJSON(f.Data, &d)
		if f.Kind != FlowFederate || f.State != "started" || d.Provider != provider || d.Posted == nil {
			return f, errFederateState
		}
		plain, err := s.Sealer.Open(d.Posted, []byte("federate-posted:"+f.ID))
		if err != nil || json.Unmarshal(plain, &resp) != nil || resp.State != state {
			return f, errFederateState
		}
		d.Posted = nil
		f.Data = encodeJSON(d)
		return f, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return upstream.Response{}, errFederateState
	}
	return resp, err
}
