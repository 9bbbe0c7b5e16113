package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// apiUnlockAccount lets support unlock an account that 100 consecutive
// failures locked (issue 10):
//
//	POST /api/admin/v1/accounts/{id}/unlock
//	Authorization: Bearer <admin token>
//
// It answers {"account_id": …, "locked": false}. The owner can also unlock
// it by choosing a new password through "forgot password".
func (s *Server) apiUnlockAccount(w http.ResponseWriter, r *http.Request) error {
	if !s.adminAuthorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portvakt-admin"`)
		return problem.New(problem.Unauthorized, "", "admin.unauthorized", nil)
	}
	// With {"reason": "…"} it is the console's unlock (issue 15: support's
	// lock lifted too); without, the failed sign-ins' lock only.
	if s.Support != nil {
		id, err := s.adminAccountID(r)
		if err != nil {
			return err
		}
		var in struct {
			Reason string `json:"reason"`
		}
		if r.ContentLength != 0 {
			if err := decodeJSON(r, &in); err != nil {
				return err
			}
			if err := s.Support.Unlock(r.Context(), adminTokenActor, in.Reason, id); err != nil {
				return err
			}
			return writeJSON(w, http.StatusOK, map[string]any{"account_id": id, "locked": false})
		}
		r.SetPathValue("id", id)
	}
	id := r.PathValue("id")
	if err := s.Flows.UnlockAccount(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "", "account.not_found", nil)
	} else if err != nil {
		return err
	}
	s.Audit.Record(r.Context(), audit.Event{Kind: audit.AccountUnlocked, Actor: adminTokenActor, Subject: id, Data: map[string]string{"lock": "failed sign-ins"}})
	return writeJSON(w, http.StatusOK, map[string]any{"account_id": id, "locked": false})
}

// metricsGuard requires the bearer token whose SHA-256 is
// MetricsTokenSHA256, when one is configured (compared in constant time).
func (s *Server) metricsGuard(next http.Handler) http.Handler {
	if s.MetricsTokenSHA256 == "" {
		return next
	}
	want, _ := hex.DecodeString(s.MetricsTokenSHA256)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		got := sha256.Sum256([]byte(token))
		if !ok || token == "" || len(want) != len(got) || subtle.ConstantTimeCompare(got[:], want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="portvakt-metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
