package flow

import (
	"context"
	"slices"

	"github.com/portvakt/portvakt/internal/store"
)

// One decision about a sign-in's second step (finishLoginVia) or one page
// of it (Factor) asks about the account's factors and keys several times:
// whether it is complete, which options it has, what is enrolled. Each
// asked the database again, so a sign-in with an authenticator read the
// factors four times (issue 12). Within such a decision the reads are
// kept in a memo carried by the context; nothing there writes factors or
// keys, and the memo ends with the decision.

type readMemoKey struct{}

type readMemo struct {
	factors map[string][]store.Factor
	keys    map[string][]store.WebAuthnCredential
	kinds   map[string][]string
}

// withReadMemo returns ctx with a memo of factor and key reads (ctx
// itself if it has one).
func withReadMemo(ctx context.Context) context.Context {
	if _, ok := ctx.Value(readMemoKey{}).(*readMemo); ok {
		return ctx
	}
	return context.WithValue(ctx, readMemoKey{}, &readMemo{
		factors: map[string][]store.Factor{},
		keys:    map[string][]store.WebAuthnCredential{},
		kinds:   map[string][]string{},
	})
}

// enrolledKinds is Store.EnrolledKinds: one read, where the lists of
// factors and keys are two, read once per memo, or made of the lists if
// the memo has them. Without WebAuthn the keys do not matter and the list
// of factors is as cheap, and a second step's options read it anyway, so
// it is made of that list (and leaves out EnrolledWebAuthn).
func (s *Service) enrolledKinds(ctx context.Context, accountID string) ([]string, error) {
	kindsOf := func(factors []store.Factor, keys bool) []string {
		var kinds []string
		for _, f := range factors {
			if !f.ConfirmedAt.IsZero() && !slices.Contains(kinds, f.Kind) {
				kinds = append(kinds, f.Kind)
			}
		}
		if keys {
			kinds = append(kinds, store.EnrolledWebAuthn)
		}
		return kinds
	}
	if s.WebAuthn == nil {
		factors, err := s.listFactors(ctx, accountID)
		return kindsOf(factors, false), err
	}
	if m, _ := ctx.Value(readMemoKey{}).(*readMemo); m != nil {
		factors, hasF := m.factors[accountID]
		keys, hasK := m.keys[accountID]
		if hasF && hasK {
			return kindsOf(factors, len(keys) > 0), nil
		}
	}
	return memoized(ctx, func(m *readMemo) map[string][]string { return m.kinds }, accountID, s.Store.EnrolledKinds)
}

// memoKinds returns the enrolled kinds the memo in ctx has read.
func memoKinds(ctx context.Context, accountID string) ([]string, bool) {
	m, _ := ctx.Value(readMemoKey{}).(*readMemo)
	if m == nil {
		return nil, false
	}
	kinds, ok := m.kinds[accountID]
	return kinds, ok
}

// listFactors is Store.ListFactors, read once per memo.
func (s *Service) listFactors(ctx context.Context, accountID string) ([]store.Factor, error) {
	return memoized(ctx, func(m *readMemo) map[string][]store.Factor { return m.factors }, accountID, s.Store.ListFactors)
}

// listKeys is Store.ListWebAuthnCredentials, read once per memo.
func (s *Service) listKeys(ctx context.Context, accountID string) ([]store.WebAuthnCredential, error) {
	return memoized(ctx, func(m *readMemo) map[string][]store.WebAuthnCredential { return m.keys }, accountID, s.Store.ListWebAuthnCredentials)
}

func memoized[T any](ctx context.Context, of func(*readMemo) map[string][]T, accountID string,
	read func(context.Context, string) ([]T, error)) ([]T, error) {
	m, _ := ctx.Value(readMemoKey{}).(*readMemo)
	if m != nil {
		if v, ok := of(m)[accountID]; ok {
			return slices.Clone(v), nil
		}
	}
	v, err := read(ctx, accountID)
	if err == nil && m != nil {
		of(m)[accountID] = slices.Clone(v)
	}
	return v, err
}
